/**
 * Pure step functions of the session machine: (context, event) -> next context (+ event drafts).
 * The machine (session.machine.ts) decides WHICH step runs; these decide WHAT changes. Nothing here
 * reads a clock or draws random numbers: times come from events or from deadlines, session ids are
 * derived from the context, so the same inputs always give the same events.
 */
import { createHash, hash } from 'node:crypto';
import type { DeviceState, OfflineReason, StopReason } from '@workshop-iot/shared';
import { v7 } from 'uuid';
import {
  ctxWith,
  type DeviceContext,
  type DeviceEvent,
  deadline,
  type EventDraft,
  iso,
  meterStep,
  type ReadingEvent,
  roundWh,
  type SessionAcc,
  seconds,
  sessionWith,
  sumsAt,
} from './session.context.ts';

export interface StepResult {
  ctx: DeviceContext;
  drafts: EventDraft[];
}

const at = (ctx: DeviceContext, event: DeviceEvent): number =>
  'at' in event && event.at > ctx.now ? event.at : ctx.now;

export const levelOf = (ctx: DeviceContext, power_w: number): 'standby' | 'working' =>
  power_w >= ctx.config.working_threshold_w ? 'working' : 'standby';

/**
 * Session id: UUID v7 laid out from the start time, its "random" bits a hash of worker, device,
 * actor incarnation and the session_started seq. Deterministic (a restart or a replay in a test
 * gives the same id) and unique (seq never repeats within an incarnation).
 */
export function sessionIdFor(ctx: DeviceContext, seq: number, startedAt: number): string {
  const random = sha256(`${ctx.workerUid}\n${ctx.deviceId}\n${ctx.incarnation}\n${seq}`).subarray(
    0,
    16,
  );
  return v7({ msecs: startedAt, random });
}

/**
 * SHA-256 of a string: the one-shot `crypto.hash` (Node >= 20.12) where there is one, a third of
 * `createHash().update().digest()`'s cost (it is paid once per session start); same bytes.
 */
const sha256: (text: string) => Buffer =
  typeof hash === 'function'
    ? (text) => hash('sha256', text, 'buffer')
    : (text) => createHash('sha256').update(text).digest();

// --- inputs ------------------------------------------------------------------------------------------

/**
 * A fresh reading's bookkeeping: time, power, last message, meter counter and session energy.
 * The hot path: no rev bump (power and energy are not persisted on every reading; a restart picks
 * the energy up from the persisted counter, and the registry persists lastMessageAt coarsely).
 */
export function noteReading(before: DeviceContext, event: ReadingEvent): DeviceContext {
  const ctx = event.sync ? sync(before, event.sync) : before;
  const m = meterStep(ctx.meterWh, event.energy_wh);
  let session = ctx.session;
  if (session && m.meterWh !== null && (session.energyWh === null || m.delta)) {
    session = sessionWith(session, { energyWh: (session.energyWh ?? 0) + (m.delta ?? 0) });
  }
  return ctxWith(ctx, {
    now: at(ctx, event),
    power_w: event.power_w,
    lastMessageAt: event.at,
    meterWh: m.meterWh,
    session,
    // A counter reset is persisted at once: after a crash, a pre-reset counter would read the
    // post-reset values as another reset and lose the energy in between.
    rev: m.reset ? ctx.rev + 1 : ctx.rev,
  });
}

/**
 * Takes over the fast lane's bookkeeping (see SyncEvent): from a SYNC, or first thing in the
 * steps a READING runs (`noteReading`, which every power transition starts with, `noteRetained`).
 */
export function sync(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  if (event.type !== 'SYNC') return ctx;
  const session =
    ctx.session && ctx.session.energyWh !== event.energyWh
      ? sessionWith(ctx.session, { energyWh: event.energyWh })
      : ctx.session;
  return ctxWith(ctx, {
    now: at(ctx, event),
    power_w: event.power_w,
    lastMessageAt: event.lastMessageAt,
    meterWh: event.meterWh,
    session,
  });
}

/** A retained replay (MQTT reconnect): a sign of life only, never power, energy or a state change. */
export function noteRetained(before: DeviceContext, event: DeviceEvent): DeviceContext {
  const ctx = event.type === 'READING' && event.sync ? sync(before, event.sync) : before;
  return ctxWith(ctx, { now: at(ctx, event), listenSince: at(ctx, event) });
}

/** ALIVE or AVAILABILITY online: liveness only; retained ones restart the silence clock. */
export function noteAlive(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  if ('retained' in event && event.retained) return noteRetained(ctx, event);
  return ctxWith(ctx, { now: at(ctx, event), lastMessageAt: event.at });
}

const reading = (event: DeviceEvent): ReadingEvent => {
  if (event.type !== 'READING') throw new TypeError(`expected READING, got ${event.type}`);
  return event;
};

function bump(ctx: DeviceContext, patch: Partial<DeviceContext>): DeviceContext {
  const next = ctxWith(ctx, patch);
  next.rev = ctx.rev + 1;
  return next;
}

const withSession = (ctx: DeviceContext, patch: Partial<SessionAcc>): DeviceContext =>
  bump(ctx, { session: sessionWith(ctx.session!, patch) });

/** Closes the open segment at `t` and opens `kind`. */
const switchTo = (s: SessionAcc, t: number, kind: SessionAcc['kind']): Partial<SessionAcc> => ({
  ...sumsAt(s, t),
  kind,
  segmentStart: t,
});

/** idle -> starting: the tentative session starts when power first crossed standby. */
export function beginStarting(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  const next = noteReading(ctx, reading(event));
  const t = event.at;
  const session: SessionAcc = {
    id: null,
    startedAt: t,
    kind: levelOf(next, next.power_w!),
    segmentStart: t,
    workingMs: 0,
    standbyMs: 0,
    energyWh: next.meterWh === null ? null : 0,
    droppedAt: null,
    energyAtDropWh: null,
    hbAnchor: t,
    intervalStart: t,
    intervalBaseWorkingMs: 0,
    intervalBaseStandbyMs: 0,
    intervalBaseEnergyWh: null,
  };
  return bump(next, { session });
}

/** A reading while starting: keeps the tentative working/standby split exact. */
export function noteStartingReading(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  const next = noteReading(ctx, reading(event));
  const s = next.session!;
  const level = levelOf(next, next.power_w!);
  return level === s.kind ? next : withSession(next, switchTo(s, event.at, level));
}

/** starting -> idle: power fell before the start debounce; nothing was announced, nothing is. */
export const abortStarting = (ctx: DeviceContext, event: DeviceEvent): DeviceContext =>
  bump(noteReading(ctx, reading(event)), { session: null });

/** standby <-> working, and stopping -> standby/working when power returns. */
export function switchLevel(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  const next = noteReading(ctx, reading(event));
  const kind = levelOf(next, next.power_w!);
  return withSession(next, { ...switchTo(next.session!, event.at, kind), droppedAt: null });
}

/** standby/working -> stopping. Energy up to this reading belongs to the session. */
export function beginStopping(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  const next = noteReading(ctx, reading(event));
  const s = next.session!;
  return withSession(next, {
    ...switchTo(s, event.at, 'stopping'),
    droppedAt: event.at,
    energyAtDropWh: s.energyWh,
  });
}

// --- session lifecycle -------------------------------------------------------------------------------

/** starting -> standby/working once the start debounce elapsed: session_started. */
export function confirmSession(ctx: DeviceContext): StepResult {
  const s = ctx.session!;
  const seq = ctx.seq + 1;
  const id = sessionIdFor(ctx, seq, s.startedAt);
  const session = sessionWith(s, {
    id,
    hbAnchor: ctx.now,
    intervalStart: s.startedAt,
    intervalBaseWorkingMs: 0,
    intervalBaseStandbyMs: 0,
    intervalBaseEnergyWh: s.energyWh === null ? null : 0,
  });
  const draft: EventDraft = {
    type: 'session_started',
    seq,
    at: ctx.now,
    payload: {
      session_id: id,
      started_at: iso(s.startedAt),
      state: s.kind === 'working' ? 'working' : 'standby',
      power_w: ctx.power_w ?? 0,
    },
  };
  return { ctx: bump(ctx, { seq, session }), drafts: [draft] };
}

/**
 * How far a heartbeat at ctx.now may count. While a poll is pending the device's liveness is in
 * doubt: if it goes offline, the session ends at its last message, so time past the last message is
 * not counted (never back before the previous heartbeat's end: intervals stay contiguous). Once
 * liveness is confirmed (the poll answered, a new message), the next heartbeat catches up exactly.
 */
function countedUntil(ctx: DeviceContext, s: SessionAcc): number {
  if (ctx.pollSentAt === null || ctx.lastMessageAt === null) return ctx.now;
  return Math.min(ctx.now, Math.max(s.intervalStart, ctx.lastMessageAt));
}

/**
 * One heartbeat at ctx.now (the timer's deadline, or later if the timer ran late), counting up to
 * `countedUntil` (`interval_end`); the next one is due `heartbeat_interval_s` after ctx.now.
 */
export function heartbeat(ctx: DeviceContext): StepResult {
  const s = ctx.session!;
  const t = countedUntil(ctx, s);
  const sums = sumsAt(s, t);
  const seq = ctx.seq + 1;
  const draft: EventDraft = {
    type: 'session_heartbeat',
    seq,
    at: ctx.now,
    payload: {
      session_id: s.id!,
      started_at: iso(s.startedAt),
      interval_start: iso(s.intervalStart),
      interval_end: iso(t),
      interval_working_s: seconds(sums.workingMs - s.intervalBaseWorkingMs),
      interval_standby_s: seconds(sums.standbyMs - s.intervalBaseStandbyMs),
      working_s: seconds(sums.workingMs),
      standby_s: seconds(sums.standbyMs),
      total_s: seconds(t - s.startedAt),
      state: s.kind,
      power_w: ctx.power_w ?? 0,
      interval_energy_wh:
        s.energyWh === null
          ? null
          : roundWh(Math.max(0, s.energyWh - (s.intervalBaseEnergyWh ?? 0))),
      energy_wh: s.energyWh === null ? null : roundWh(s.energyWh),
    },
  };
  const session = sessionWith(s, {
    hbAnchor: ctx.now,
    intervalStart: t,
    intervalBaseWorkingMs: sums.workingMs,
    intervalBaseStandbyMs: sums.standbyMs,
    intervalBaseEnergyWh: s.energyWh,
  });
  return { ctx: bump(ctx, { seq, session }), drafts: [draft] };
}

/**
 * Ends the session (if confirmed; a tentative one just vanishes). The end is `endAt`, except while
 * stopping: then it is the moment power dropped, so the debounce tail is never billed.
 */
export function closeSession(ctx: DeviceContext, reason: StopReason, endAt: number): StepResult {
  const s = ctx.session;
  if (!s?.id) return { ctx: s ? bump(ctx, { session: null }) : ctx, drafts: [] };
  const stopping = s.kind === 'stopping' && s.droppedAt !== null;
  const end = stopping ? s.droppedAt! : Math.max(s.startedAt, s.segmentStart, endAt);
  const sums = sumsAt(s, end);
  const energy = stopping ? s.energyAtDropWh : s.energyWh;
  const seq = ctx.seq + 1;
  const draft: EventDraft = {
    type: 'session_stopped',
    seq,
    at: ctx.now,
    payload: {
      session_id: s.id,
      started_at: iso(s.startedAt),
      ended_at: iso(end),
      reason,
      working_s: seconds(sums.workingMs),
      standby_s: seconds(sums.standbyMs),
      total_s: seconds(end - s.startedAt),
      energy_wh: energy === null ? null : roundWh(energy),
    },
  };
  return { ctx: bump(ctx, { seq, session: null }), drafts: [draft] };
}

/** REMOVE / SHUTDOWN: close now (or at the drop when stopping). */
export function closeOnCommand(ctx: DeviceContext, event: DeviceEvent, reason: StopReason) {
  const next = ctxWith(ctx, { now: at(ctx, event) });
  return closeSession(next, reason, next.now);
}

// --- liveness ------------------------------------------------------------------------------------------

/**
 * The device is offline (it said so, or a poll went unanswered, or it cannot be polled). An open
 * session ends with reason `timeout` at the last message (or at the drop when stopping).
 */
export function goOffline(ctx: DeviceContext, event: DeviceEvent, reason: OfflineReason) {
  const now = at(ctx, event);
  const closed = closeSession(ctxWith(ctx, { now }), 'timeout', ctx.lastMessageAt ?? now);
  const seq = closed.ctx.seq + 1;
  const draft: EventDraft = {
    type: 'device_offline',
    seq,
    at: now,
    payload: {
      reason,
      last_seen_at: ctx.lastMessageAt === null ? null : iso(ctx.lastMessageAt),
    },
  };
  return {
    ctx: bump(closed.ctx, { seq, power_w: null, pollSentAt: null }),
    drafts: [...closed.drafts, draft],
  };
}

/** offline -> online. The message itself is processed right after (the machine re-raises it). */
export function comeOnline(ctx: DeviceContext, event: DeviceEvent): StepResult {
  const now = at(ctx, event);
  let state: DeviceState = 'idle';
  let power_w: number | null = null;
  if (event.type === 'READING') {
    power_w = event.power_w;
    if (power_w >= ctx.config.standby_threshold_w) state = 'starting';
  }
  const seq = ctx.seq + 1;
  const draft: EventDraft = { type: 'device_online', seq, at: now, payload: { state, power_w } };
  return { ctx: bump(ctx, { seq, now, listenSince: now }), drafts: [draft] };
}

// --- config, restart, broker connection -----------------------------------------------------------------

export function applyConfig(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  if (event.type !== 'CONFIG' && event.type !== 'RESUME') return ctx;
  return bump(ctx, { now: at(ctx, event), config: event.config });
}

/**
 * After a restart: time moves on, the (possibly newer) config applies, and the silence clock starts
 * again, because silence while the worker was down says nothing about the device.
 */
export function resume(ctx: DeviceContext, event: DeviceEvent): DeviceContext {
  if (event.type !== 'RESUME') return ctx;
  const now = at(ctx, event);
  const next = ctxWith(ctx, { now, listenSince: now, pollSentAt: null });
  return event.config === ctx.config ? next : bump(next, { config: event.config });
}

export const advanceNow = (ctx: DeviceContext, event: DeviceEvent): DeviceContext =>
  ctxWith(ctx, { now: at(ctx, event) });

export const listenFrom = (ctx: DeviceContext, event: DeviceEvent): DeviceContext =>
  ctxWith(ctx, { now: at(ctx, event), listenSince: at(ctx, event) });

/**
 * Entry of `listening`: arm the silence timer for the current deadline. No poll is pending any more
 * (answered, or the silence clock restarted), so heartbeats count up to their own time again.
 */
export const armSilence = (ctx: DeviceContext): DeviceContext =>
  ctxWith(ctx, { silenceDueAt: deadline.silence(ctx), pollSentAt: null });

export const startPoll = (ctx: DeviceContext): DeviceContext =>
  ctxWith(ctx, { pollSentAt: ctx.now });

/** A timer fired: logical time moves to its deadline (never backwards if an input was later). */
export const advanceTo = (ctx: DeviceContext, due: number): DeviceContext =>
  due > ctx.now ? ctxWith(ctx, { now: due }) : ctx;
