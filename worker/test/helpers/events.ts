/** Builds valid events for outbox and sender tests (the registry makes the real ones). */
import type { WorkshopEvent } from '@workshop-iot/shared';
import { v7 as uuidv7 } from 'uuid';

const seqs = new Map<string, number>();

export function onlineEvent(deviceId: string, seq?: number): WorkshopEvent {
  const next = seq ?? (seqs.get(deviceId) ?? 0) + 1;
  seqs.set(deviceId, next);
  return {
    event_uid: uuidv7(),
    type: 'device_online',
    device_id: deviceId,
    worker_uid: 'test-worker',
    seq: next,
    occurred_at: new Date().toISOString(),
    payload: { state: 'idle', power_w: 0 },
  };
}
