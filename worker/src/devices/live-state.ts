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

/**
 * Live state at instant `now` (session seconds include the open segment up to `now`). `stable`
 * formats the instants that stay put (state change, session start): a device passes its own
 * `IsoMemo` (an object, not a closure: under tsx a closure made per call cost more than the
 * formatting). `expectedIntervalS` is the meter's usual interval (report-interval.ts); without one,
 * the device's message timeout.
 */
export function liveStateOf(
  context: DeviceContext,
  state: DeviceState,
  changedAt: number,
  now: number,
  stable: { format(ms: number): string } = ISO,
  expectedIntervalS: number = context.config.message_timeout_s,
): DeviceLiveState {
  const s = context.session;
  const open = s?.id ? s : null;
  const sums = open ? sumsAt(open, Math.max(now, open.segmentStart)) : null;
  return {
    device_id: context.deviceId,
    state,
    power_w: context.power_w,
    session_id: open?.id ?? null,
    session_started_at: open ? stable.format(open.startedAt) : null,
    session_working_s: sums ? seconds(sums.workingMs) : 0,
    session_standby_s: sums ? seconds(sums.standbyMs) : 0,
    last_seen_at: context.lastMessageAt === null ? null : iso(context.lastMessageAt),
    changed_at: stable.format(changedAt),
    expected_interval_s: expectedIntervalS,
  };
}

/** `iso` as a formatter (no memo). */
const ISO = { format: iso };

/**
 * ISO strings of one device's instants that stay put (state change, session start), formatted on
 * every live-state notification. `iso`'s one-second cache is for the moving last-seen time: these
 * older instants would miss it, and evict it, on every call. Two slots, replaced in turn.
 */
export class IsoMemo {
  #ms0 = Number.NaN;
  #iso0 = '';
  #ms1 = Number.NaN;
  #iso1 = '';
  #nextIsOne = false;

  // A method, not an arrow field: a per-instance arrow costs ~300 bytes (its closure and the own
  // `name` V8 gives it), times 10,000 devices.
  format(ms: number): string {
    if (ms === this.#ms0) return this.#iso0;
    if (ms === this.#ms1) return this.#iso1;
    // Not `iso`: its text is a rope of its cached prefix and the milliseconds (~180 bytes kept per
    // string); this one is kept for as long as the device is in this state, 10,000 devices at once.
    const text = new Date(Math.trunc(ms)).toISOString();
    if (this.#nextIsOne) {
      this.#ms1 = ms;
      this.#iso1 = text;
    } else {
      this.#ms0 = ms;
      this.#iso0 = text;
    }
    this.#nextIsOne = !this.#nextIsOne;
    return text;
  }
}

/**
 * Whether a power change is worth a live-state notification: any change of null-ness, else at
 * least 1 W and 5 % of the last notified value. Keeps meters that jitter by a watt from pushing
 * every message to Odoo; `liveState()` always has the exact current value.
 */
export function powerChanged(last: number | null, now: number | null): boolean {
  if (last === null || now === null) return last !== now;
  const delta = Math.abs(now - last);
  return delta >= 1 && delta >= 0.05 * Math.abs(last);
}
