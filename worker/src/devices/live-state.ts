/**
 * Maps a machine snapshot to what staff see (DeviceLiveState from the shared contracts): the state
 * label, current power, the open session and its billed seconds so far.
 */
import type { DeviceLiveState, DeviceState } from '@workshop-iot/shared';
import type { SnapshotFrom } from 'xstate';
import { type DeviceContext, iso, seconds, sumsAt } from './session.context.ts';
import type { SessionMachine } from './session.machine.ts';

type Snapshot = SnapshotFrom<SessionMachine>;

type ValueNode = string | { [key: string]: ValueNode };

/** The state label of a snapshot: a handful of property reads, cheap enough for every message. */
export function stateLabel(snapshot: Snapshot): DeviceState {
  const value = snapshot.value as ValueNode;
  if (typeof value === 'string') return value === 'offline' ? 'offline' : 'unknown';
  const online = value.online;
  if (typeof online !== 'object') return 'unknown';
  const power = online.power;
  if (power === 'idle') return snapshot.context.lastMessageAt === null ? 'unknown' : 'idle';
  if (power === 'starting') return 'starting';
  if (typeof power === 'object' && typeof power.session === 'object') {
    const activity = power.session.activity;
    if (activity === 'standby' || activity === 'working' || activity === 'stopping')
      return activity;
  }
  return 'unknown';
}

/** Live state at instant `now` (session seconds include the open segment up to `now`). */
export function liveStateOf(
  context: DeviceContext,
  state: DeviceState,
  changedAt: number,
  now: number,
): DeviceLiveState {
  const s = context.session;
  const open = s?.id ? s : null;
  const sums = open ? sumsAt(open, Math.max(now, open.segmentStart)) : null;
  return {
    device_id: context.deviceId,
    state,
    power_w: context.power_w,
    session_id: open?.id ?? null,
    session_started_at: open ? iso(open.startedAt) : null,
    session_working_s: sums ? seconds(sums.workingMs) : 0,
    session_standby_s: sums ? seconds(sums.standbyMs) : 0,
    last_seen_at: context.lastMessageAt === null ? null : iso(context.lastMessageAt),
    changed_at: iso(changedAt),
  };
}
