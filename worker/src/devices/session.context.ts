/**
 * Context, events and emitted effects of the per-device session machine (session.machine.ts), plus
 * the small pure helpers both the machine and the registry need. Units: every time is an integer
 * number of milliseconds since the epoch (`*At`, `now`), every duration in ms (`*Ms`) until it is
 * turned into wire seconds (`*_s`) by the step functions.
 */
import type {
  DeviceOfflineEvent,
  DeviceOnlineEvent,
  SessionConfig,
  SessionHeartbeatEvent,
  SessionStartedEvent,
  SessionStoppedEvent,
} from '@workshop-iot/shared';

/** Bump when the persisted context changes shape; an older snapshot is then discarded (logged). */
export const SNAPSHOT_VERSION = 1;

/** Longest wait for a poll answer (the design's "asks the device"); shorter when the timeout is. */
export const MAX_POLL_TIMEOUT_MS = 10_000;

/**
 * A counter that falls below this fraction of its last value is a reset (meter reboot, counter
 * wrap); a smaller drop is jitter or a reordered message and is ignored. See `meterStep`.
 */
export const METER_RESET_RATIO = 0.5;

export type Activity = 'standby' | 'working' | 'stopping';

/**
 * Bookkeeping of one session, created when power first crosses the standby threshold (tentative
 * while `starting`, `id` null) and confirmed when the start debounce elapses.
 *
 * Billed time is kept as closed sums plus one open segment (`kind` since `segmentStart`): segments
 * only change on real power changes, so the sums at any instant are exact (`sumsAt`). `stopping`
 * segments are never billed as working/standby but do count in the session's wall-clock total.
 */
export interface SessionAcc {
  id: string | null;
  startedAt: number;
  kind: Activity;
  segmentStart: number;
  workingMs: number;
  standbyMs: number;
  /** Session energy from the meter's running total; null while the meter never reported one. */
  energyWh: number | null;
  /** When the power fell below standby (stopping); the session ends here if it does not return. */
  droppedAt: number | null;
  energyAtDropWh: number | null;
  /** The last heartbeat (or the confirmation); the next one is due `heartbeat_interval_s` later. */
  hbAnchor: number;
  intervalStart: number;
  intervalBaseWorkingMs: number;
  intervalBaseStandbyMs: number;
  intervalBaseEnergyWh: number | null;
}

export interface DeviceContext {
  version: number;
  deviceId: string;
  workerUid: string;
  /** Creation time of this device's actor: keeps session ids unique if a device is re-added. */
  incarnation: number;
  config: SessionConfig;
  /** Seq of the last emitted event (0 = none yet). Persisted, so a restart continues the sequence. */
  seq: number;
  /** Bumped by every change that must survive a restart; the registry persists when it moves. */
  rev: number;
  /** Logical time: the latest input's timestamp or the deadline of the timer that fired. */
  now: number;
  power_w: number | null;
  /** Last meter counter seen (high-water mark, see `meterStep`). */
  meterWh: number | null;
  /** Last fresh (non-retained) message from the device. */
  lastMessageAt: number | null;
  /** Since when the worker has been listening (start, resume, reconnect, retained replay). */
  listenSince: number;
  /**
   * When the silence timer was armed to fire (set on entering `listening`). Only the timer's own
   * instant: the deadline that decides is `deadline.silence`, which every fresh message pushes. A
   * timer that fires before it just re-arms.
   */
  silenceDueAt: number;
  /** When the pending poll went out; null when no poll is pending (liveness not in doubt). */
  pollSentAt: number | null;
  session: SessionAcc | null;
}

export interface DeviceMachineInput {
  deviceId: string;
  workerUid: string;
  config: SessionConfig;
  at: number;
  /** Seq to continue from when the device was removed and is configured again (0 = new device). */
  seq?: number;
}

/** Events the registry sends. Every one carries `at` (ms, the registry clock). */
export type ReadingEvent = {
  type: 'READING';
  at: number;
  power_w: number;
  energy_wh: number | null;
  retained: boolean;
  /**
   * The fast lane's bookkeeping, taken over before the reading itself (see SyncEvent). A reading the
   * lane refuses carries it instead of a SYNC of its own: one macrostep instead of two.
   */
  sync?: SyncEvent;
};
export type DeviceEvent =
  | ReadingEvent
  | { type: 'ALIVE'; at: number; retained: boolean }
  | { type: 'AVAILABILITY'; at: number; online: boolean; retained: boolean }
  | { type: 'CONFIG'; at: number; config: SessionConfig }
  | { type: 'RESUME'; at: number; config: SessionConfig }
  | { type: 'LISTEN'; at: number; listening: boolean }
  | { type: 'POLL_UNAVAILABLE'; at: number }
  | { type: 'REMOVE'; at: number }
  | { type: 'SHUTDOWN'; at: number }
  /** Catch-up of a resumed device (catch-up.ts): logical time moves to `at`, due timers decide. */
  | { type: 'ADVANCE'; at: number }
  | SyncEvent;

/**
 * Catches the actor up with readings the registry's fast lane (fast-lane.ts) already booked: the
 * fields `noteReading` changes, as they stand after those readings. Sent before anything else
 * reaches the actor (inputs, timers, stop), so the machine never acts on stale bookkeeping; a
 * READING carries it as `sync` instead. Either way it never moves the machine: the lane only books
 * readings before its earliest deadline and inside the current state's power band, so no guard
 * that reads these fields can change its answer.
 */
export type SyncEvent = {
  type: 'SYNC';
  at: number;
  power_w: number | null;
  lastMessageAt: number | null;
  meterWh: number | null;
  energyWh: number | null;
};

type Draft<E extends { type: string; payload: unknown }> = {
  type: E['type'];
  seq: number;
  at: number;
  payload: E['payload'];
};

/** An event without its envelope: the registry adds event_uid/worker_uid and validates it. */
export type EventDraft =
  | Draft<SessionStartedEvent>
  | Draft<SessionHeartbeatEvent>
  | Draft<SessionStoppedEvent>
  | Draft<DeviceOnlineEvent>
  | Draft<DeviceOfflineEvent>;

/** What leaves the machine: domain events to persist, and poll requests for the registry. */
export type MachineEmitted = { type: 'draft'; draft: EventDraft } | { type: 'poll'; at: number };

export function initialContext(input: DeviceMachineInput): DeviceContext {
  return {
    version: SNAPSHOT_VERSION,
    deviceId: input.deviceId,
    workerUid: input.workerUid,
    incarnation: input.at,
    config: input.config,
    seq: input.seq ?? 0,
    rev: 0,
    now: input.at,
    power_w: null,
    meterWh: null,
    lastMessageAt: null,
    listenSince: input.at,
    silenceDueAt: input.at + input.config.message_timeout_s * 1000,
    pollSentAt: null,
    session: null,
  };
}

/**
 * `new Date(ms).toISOString()`, but the date/time up to the second is reused while `ms` stays in
 * the same second: live state formats the last-seen time of every message that moves the power,
 * and at tens of thousands of messages a second the Date formatting was a top-5 cost. Same output
 * (the prefix comes from `toISOString` itself; an invalid time still throws RangeError).
 */
export function iso(ms: number): string {
  // Date truncates a fractional time value toward zero (TimeClip); so do we.
  const t = Math.trunc(ms);
  const second = Math.floor(t / 1000);
  // 8.64e15 is the last valid time value and starts its own second: past it, let Date throw.
  if (second !== isoCache.second || t > 8.64e15) {
    const full = new Date(t).toISOString();
    isoCache.second = second;
    isoCache.prefix = full.slice(0, -4); // "...:SS." — the last four are "mmmZ"
    return full;
  }
  const milli = t - second * 1000;
  return `${isoCache.prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
const isoCache = { second: Number.NaN, prefix: '' };
export const seconds = (ms: number): number => ms / 1000;
/** Energy on the wire: rounded to 1e-6 Wh so float noise of many small deltas does not show. */
export const roundWh = (wh: number): number => Math.round(wh * 1e6) / 1e6;

export const pollTimeoutMs = (c: SessionConfig): number =>
  Math.min(MAX_POLL_TIMEOUT_MS, c.message_timeout_s * 1000);

/**
 * Deadlines (ms) of the timed states. A timed state's delay is always "deadline - now" (never
 * negative), and its `always` guard is "now >= deadline": the deadline alone decides.
 */
export const deadline = {
  /**
   * `message_timeout_s` after the last sign of life: the last fresh message, or the start of
   * listening (configured, resumed, reconnected, a retained replay) when that is later.
   */
  silence: (c: DeviceContext): number =>
    Math.max(c.lastMessageAt ?? c.listenSince, c.listenSince) + c.config.message_timeout_s * 1000,
  start: (c: DeviceContext): number => c.session!.startedAt + c.config.start_debounce_s * 1000,
  stop: (c: DeviceContext): number =>
    (c.session!.droppedAt ?? c.now) + c.config.stop_debounce_s * 1000,
  heartbeat: (c: DeviceContext): number =>
    c.session!.hbAnchor + c.config.heartbeat_interval_s * 1000,
  poll: (c: DeviceContext): number => (c.pollSentAt ?? c.now) + pollTimeoutMs(c.config),
};

/** Billed sums at instant `t` (>= segmentStart): closed segments plus the open one. */
export function sumsAt(s: SessionAcc, t: number): { workingMs: number; standbyMs: number } {
  const open = Math.max(0, t - s.segmentStart);
  return {
    workingMs: s.workingMs + (s.kind === 'working' ? open : 0),
    standbyMs: s.standbyMs + (s.kind === 'standby' ? open : 0),
  };
}

/**
 * One meter counter reading against the last one. `delta` is the energy to add (null: no counter
 * in this reading). A drop below METER_RESET_RATIO of the last value is a reset: the new value is
 * all energy since the reset. A smaller drop (jitter, a reordered duplicate) adds nothing and keeps
 * the high-water mark, so the next in-order value does not count the dip twice.
 */
export function meterStep(
  lastWh: number | null,
  wh: number | null,
): { meterWh: number | null; delta: number | null; reset: boolean } {
  if (wh === null) return { meterWh: lastWh, delta: null, reset: false };
  if (lastWh === null) return { meterWh: wh, delta: null, reset: false };
  if (wh >= lastWh) return { meterWh: wh, delta: wh - lastWh, reset: false };
  if (wh < lastWh * METER_RESET_RATIO) return { meterWh: wh, delta: wh, reset: true };
  return { meterWh: lastWh, delta: 0, reset: false };
}

/**
 * `{ ...c, ...patch }`, built as one object literal so that every context has the same shape. V8
 * copies a spread on its slow path once contexts come in many shapes (a field that held an integer,
 * then a fraction, then null): in a stream of real meter readings that made the object copies the
 * top cost of a state change. No field of a context is ever undefined, so an absent key is one
 * whose patch value is undefined.
 */
export function ctxWith(c: DeviceContext, p: Partial<DeviceContext>): DeviceContext {
  return {
    version: p.version !== undefined ? p.version : c.version,
    deviceId: p.deviceId !== undefined ? p.deviceId : c.deviceId,
    workerUid: p.workerUid !== undefined ? p.workerUid : c.workerUid,
    incarnation: p.incarnation !== undefined ? p.incarnation : c.incarnation,
    config: p.config !== undefined ? p.config : c.config,
    seq: p.seq !== undefined ? p.seq : c.seq,
    rev: p.rev !== undefined ? p.rev : c.rev,
    now: p.now !== undefined ? p.now : c.now,
    power_w: p.power_w !== undefined ? p.power_w : c.power_w,
    meterWh: p.meterWh !== undefined ? p.meterWh : c.meterWh,
    lastMessageAt: p.lastMessageAt !== undefined ? p.lastMessageAt : c.lastMessageAt,
    listenSince: p.listenSince !== undefined ? p.listenSince : c.listenSince,
    silenceDueAt: p.silenceDueAt !== undefined ? p.silenceDueAt : c.silenceDueAt,
    pollSentAt: p.pollSentAt !== undefined ? p.pollSentAt : c.pollSentAt,
    session: p.session !== undefined ? p.session : c.session,
  };
}

/** `{ ...s, ...patch }` for a session, one object literal (see `ctxWith`). */
export function sessionWith(s: SessionAcc, p: Partial<SessionAcc>): SessionAcc {
  return {
    id: p.id !== undefined ? p.id : s.id,
    startedAt: p.startedAt !== undefined ? p.startedAt : s.startedAt,
    kind: p.kind !== undefined ? p.kind : s.kind,
    segmentStart: p.segmentStart !== undefined ? p.segmentStart : s.segmentStart,
    workingMs: p.workingMs !== undefined ? p.workingMs : s.workingMs,
    standbyMs: p.standbyMs !== undefined ? p.standbyMs : s.standbyMs,
    energyWh: p.energyWh !== undefined ? p.energyWh : s.energyWh,
    droppedAt: p.droppedAt !== undefined ? p.droppedAt : s.droppedAt,
    energyAtDropWh: p.energyAtDropWh !== undefined ? p.energyAtDropWh : s.energyAtDropWh,
    hbAnchor: p.hbAnchor !== undefined ? p.hbAnchor : s.hbAnchor,
    intervalStart: p.intervalStart !== undefined ? p.intervalStart : s.intervalStart,
    intervalBaseWorkingMs:
      p.intervalBaseWorkingMs !== undefined ? p.intervalBaseWorkingMs : s.intervalBaseWorkingMs,
    intervalBaseStandbyMs:
      p.intervalBaseStandbyMs !== undefined ? p.intervalBaseStandbyMs : s.intervalBaseStandbyMs,
    intervalBaseEnergyWh:
      p.intervalBaseEnergyWh !== undefined ? p.intervalBaseEnergyWh : s.intervalBaseEnergyWh,
  };
}
