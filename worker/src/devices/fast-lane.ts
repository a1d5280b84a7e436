/**
 * The registry's fast lane for the hot path. Most readings change nothing but bookkeeping (power,
 * last message, meter counter, session energy): the machine would take a targetless transition
 * running `noteReading` and nothing else. An XState macrostep costs tens of microseconds; at
 * thousands of messages per second that is the worker's whole budget. So the registry applies
 * `noteReading` itself to a shadow context and hands the result to the actor (a SYNC event) before
 * anything else reaches it: the next input that may change state, a timer, a live-state read, stop.
 *
 * A reading takes the lane only when the machine provably would do just that (`laneOf` +
 * `bookReading`): a fresh reading, liveness `listening`, the power inside the current state's band,
 * no deadline reached, no meter reset. Anything else goes through the machine. The property tests
 * run every random sequence with and without the lane and require identical events.
 */

import type { SnapshotFrom } from 'xstate';
import {
  ctxWith,
  type DeviceContext,
  deadline,
  meterStep,
  type ReadingEvent,
  type SyncEvent,
  sessionWith,
} from './session.context.ts';
import type { SessionMachine } from './session.machine.ts';
import { levelOf } from './session.steps.ts';

export interface Lane {
  kind: 'idle' | 'starting' | 'standby' | 'working' | 'stopping';
  /** Earliest deadline of the active timed states: at or after it, the machine must decide. */
  dueAt: number;
}

type ValueNode = string | { [key: string]: ValueNode };

/** Where the lane is open for this snapshot; null when every input must go through the machine. */
export function laneOf(snapshot: SnapshotFrom<SessionMachine>): Lane | null {
  if (snapshot.status !== 'active') return null;
  const value = snapshot.value as ValueNode;
  if (typeof value !== 'object' || typeof value.online !== 'object') return null;
  if (value.online.liveness !== 'listening') return null;
  const c = snapshot.context;
  const power = value.online.power;
  if (power === 'idle') return { kind: 'idle', dueAt: c.silenceDueAt };
  if (power === 'starting')
    return { kind: 'starting', dueAt: Math.min(c.silenceDueAt, deadline.start(c)) };
  if (typeof power !== 'object' || typeof power.session !== 'object' || !c.session) return null;
  const activity = power.session.activity;
  const dueAt = Math.min(c.silenceDueAt, deadline.heartbeat(c));
  if (activity === 'standby' || activity === 'working') return { kind: activity, dueAt };
  if (activity === 'stopping')
    return { kind: 'stopping', dueAt: Math.min(dueAt, deadline.stop(c)) };
  return null;
}

/**
 * Books `event` when the machine would only book it (the lane admits it), else returns false and
 * leaves everything untouched. `shadow` is owned by the registry (never the actor's context), so it
 * is updated in place: this is the hot path, and copying a 16-field context costs more than all
 * the rest. Mirrors `noteReading` exactly; the property tests hold the two together.
 */
export function bookReading(lane: Lane, shadow: DeviceContext, event: ReadingEvent): boolean {
  if (event.retained || event.at >= lane.dueAt) return false;
  const p = event.power_w;
  const { standby_threshold_w: standby, working_threshold_w: working } = shadow.config;
  switch (lane.kind) {
    case 'idle':
      if (p >= standby) return false;
      break;
    case 'starting':
      if (p < standby || levelOf(shadow, p) !== shadow.session?.kind) return false;
      break;
    case 'standby':
      if (p < standby || p >= working) return false;
      break;
    case 'working':
      if (p < working) return false;
      break;
    case 'stopping':
      if (p >= standby) return false;
      break;
  }
  const m = meterStep(shadow.meterWh, event.energy_wh);
  // A meter reset must be persisted at once: that is the machine's (and the registry's) job.
  if (m.reset) return false;
  if (event.at > shadow.now) shadow.now = event.at;
  shadow.power_w = p;
  shadow.lastMessageAt = event.at;
  shadow.meterWh = m.meterWh;
  const s = shadow.session;
  if (s && m.meterWh !== null && (s.energyWh === null || m.delta)) {
    s.energyWh = (s.energyWh ?? 0) + (m.delta ?? 0);
  }
  return true;
}

/** A private copy of the actor's context for the fast lane to update in place. */
export const shadowOf = (ctx: DeviceContext): DeviceContext =>
  ctxWith(ctx, { session: ctx.session && sessionWith(ctx.session, {}) });

/** The SYNC that hands the fast lane's shadow to the actor. */
export const syncOf = (shadow: DeviceContext): SyncEvent => ({
  type: 'SYNC',
  at: shadow.now,
  power_w: shadow.power_w,
  lastMessageAt: shadow.lastMessageAt,
  meterWh: shadow.meterWh,
  energyWh: shadow.session?.energyWh ?? null,
});
