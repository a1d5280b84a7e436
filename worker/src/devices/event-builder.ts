/**
 * Turns a machine's event draft into a wire event: envelope (event_uid, worker_uid, device_id, seq,
 * occurred_at) + payload, validated against the shared schema. `seq` and the instant come from the
 * machine (seq lives in its persisted context, so it continues across restarts; the instant is the
 * input's clock time or the exact deadline of the timer that fired). An event that fails validation
 * is a bug in the worker: it is thrown, never handed on.
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
 * power_w: 0 } }, { deviceId: 'shelly-1', workerUid: 'w1' })` -> `{ event_uid: '019…', type:
 * 'device_online', device_id: 'shelly-1', worker_uid: 'w1', seq: 7, occurred_at:
 * '2026-01-05T08:00:00.000Z', payload: {…} }`.
 */
export function buildEvent(draft: EventDraft, source: EnvelopeSource): WorkshopEvent {
  const event = {
    // v7 without options: the library keeps ids monotonic within the process, so they sort by
    // creation even within one millisecond.
    event_uid: v7(),
    type: draft.type,
    device_id: source.deviceId,
    worker_uid: source.workerUid,
    seq: draft.seq,
    occurred_at: iso(draft.at),
    payload: draft.payload,
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
