/**
 * Turns a machine's event draft into a wire event: envelope (event_uid, worker_uid, device_id, seq,
 * occurred_at) + payload, validated against the shared schema. `seq` and the instant come from the
 * machine (seq lives in its persisted context, so it continues across restarts; the instant is the
 * input's clock time or the exact deadline of the timer that fired). An event that fails validation
 * is a bug in the worker: it is thrown, never handed on.
 *
 * Every payload carries `last_seen_at`, the meter's last message when the event is built (the
 * machine's drafts leave it out; `device_offline` has its own, the time before the silence).
 * Odoo's "last seen" is this time: an event's own instant is often a timer's (a heartbeat, a
 * debounce), not a message from the meter.
 */
import { validate, type WorkshopEvent } from '@workshop-iot/shared';
import { v7 } from 'uuid';
import { WorkerError } from '../errors.ts';
import { type EventDraft, iso } from './session.context.ts';

export interface EnvelopeSource {
  deviceId: string;
  workerUid: string;
}

/**
 * Example: `buildEvent({ type: 'device_online', seq: 7, at: 1767600000000, payload: { state: 'idle',
 * power_w: 0 } }, { deviceId: 'shelly-1', workerUid: 'w1' }, 1767600000000)` -> `{ event_uid:
 * '019…', type: 'device_online', device_id: 'shelly-1', worker_uid: 'w1', seq: 7, occurred_at:
 * '2026-01-05T08:00:00.000Z', payload: { state: 'idle', power_w: 0, last_seen_at:
 * '2026-01-05T08:00:00.000Z' } }`.
 */
export function buildEvent(
  draft: EventDraft,
  source: EnvelopeSource,
  lastMessageAt: number | null,
): WorkshopEvent {
  // The draft is the machine's fresh object and is not used after this: its payload is completed in
  // place (an object spread here cost more than the rest of the envelope, on every event).
  const payload = draft.payload as Record<string, unknown>;
  if (!('last_seen_at' in payload))
    payload.last_seen_at = lastMessageAt === null ? null : iso(lastMessageAt);
  const event = {
    // v7 without options: the library keeps ids monotonic within the process, so they sort by
    // creation even within one millisecond.
    event_uid: v7(),
    type: draft.type,
    device_id: source.deviceId,
    worker_uid: source.workerUid,
    seq: draft.seq,
    occurred_at: iso(draft.at),
    payload,
  } as WorkshopEvent;
  const errors = validate('event', event);
  if (errors.length > 0) {
    throw new WorkerError(
      'EVENT_INVALID',
      { type: draft.type, device_id: source.deviceId },
      { type: draft.type, device_id: source.deviceId, errors },
    );
  }
  return event;
}
