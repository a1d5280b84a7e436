import { describe, expect, it } from 'vitest';
import { IsoMemo, liveStateOf } from '../../src/devices/live-state.ts';
import { type DeviceContext, initialContext, iso } from '../../src/devices/session.context.ts';

// liveStateOf on its own: the device actor's path (its IsoMemo) and the plain one give the same state.
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const config = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 0,
  stop_debounce_s: 0,
  message_timeout_s: 360,
  heartbeat_interval_s: 60,
};

function context(session: DeviceContext['session']): DeviceContext {
  const ctx = initialContext({ deviceId: 'shelly-1', workerUid: 'w1', config, at: T0 });
  return { ...ctx, power_w: 812.5, lastMessageAt: T0 + 95_123, session };
}

const open = {
  id: 'session-1',
  startedAt: T0 + 1_000,
  kind: 'working' as const,
  segmentStart: T0 + 60_000,
  workingMs: 50_000,
  standbyMs: 9_000,
  energyWh: 12.5,
  droppedAt: null,
  energyAtDropWh: null,
  hbAnchor: T0 + 60_000,
  intervalStart: T0 + 60_000,
  intervalBaseWorkingMs: 50_000,
  intervalBaseStandbyMs: 9_000,
  intervalBaseEnergyWh: 12.5,
};

describe('liveStateOf', () => {
  it('Should count the open segment up to now and format the stable instants with the memo or plain iso alike', () => {
    const ctx = context(open);
    const now = T0 + 100_000;
    const memo = new IsoMemo();
    const viaMemo = liveStateOf(ctx, 'working', T0 + 60_000, now, memo, 60);
    const viaFunction = liveStateOf(ctx, 'working', T0 + 60_000, now, { format: iso }, 60);
    expect(viaMemo).toEqual(viaFunction);
    expect(viaMemo).toEqual({
      device_id: 'shelly-1',
      state: 'working',
      power_w: 812.5,
      session_id: 'session-1',
      session_started_at: '2026-12-06T10:00:01.000Z',
      session_working_s: 90,
      session_standby_s: 9,
      last_seen_at: '2026-12-06T10:01:35.123Z',
      changed_at: '2026-12-06T10:01:00.000Z',
      expected_interval_s: 60,
    });
    // Twice more through the same memo (its two slots): the same strings.
    expect(liveStateOf(ctx, 'working', T0 + 60_000, now, memo, 60)).toEqual(viaMemo);
  });

  it('Should add nothing for a segment that starts after now, and report no session without an id', () => {
    const early = liveStateOf(context(open), 'working', T0, T0 + 30_000);
    expect([early.session_working_s, early.session_standby_s]).toEqual([50, 9]);
    expect(early.expected_interval_s).toBe(360);
    const starting = liveStateOf(context({ ...open, id: null }), 'starting', T0, T0 + 100_000);
    expect(starting).toMatchObject({
      session_id: null,
      session_started_at: null,
      session_working_s: 0,
      session_standby_s: 0,
    });
  });
});
