/** Events the outbox benches commit: a realistic session heartbeat (the most frequent event). */
import type { WorkshopEvent } from '@workshop-iot/shared';
import { v7 as uuidv7 } from 'uuid';

export function heartbeatEvent(deviceId: string, seq: number): WorkshopEvent {
  return {
    event_uid: uuidv7(),
    type: 'session_heartbeat',
    device_id: deviceId,
    worker_uid: 'bench',
    seq,
    occurred_at: new Date().toISOString(),
    payload: {
      session_id: '0190a6b2-8c1e-7c3a-9f00-000000000001',
      started_at: '2026-01-01T00:00:00.000Z',
      interval_start: '2026-01-01T00:00:00.000Z',
      interval_end: '2026-01-01T00:01:00.000Z',
      interval_working_s: 42,
      interval_standby_s: 18,
      working_s: 420,
      standby_s: 180,
      total_s: 600,
      state: 'working',
      power_w: 1234.5,
      interval_energy_wh: 12.3,
      energy_wh: 123.4,
    },
  };
}
