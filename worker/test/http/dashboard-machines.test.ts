/**
 * Today's working/standby time on the worker's dashboard, built from committed events, and the
 * machine dicts (validated against the shared `dashboard_machines` contract).
 */
import { type DeviceLiveState, validate, type WorkshopEvent } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { machineOf, TodayTotals } from '../../src/http/dashboard-machines.ts';
import { device } from '../helpers/control.ts';

const SESSION = '0193b6f2-7c1e-7a4b-9c3d-2f1e0a9b8c7d';
const T0 = new Date(2026, 10, 25, 10, 0, 0).getTime(); // local time: the day is the worker's

function heartbeat(workingS: number, standbyS: number): WorkshopEvent {
  return {
    type: 'session_heartbeat',
    device_id: 'm1',
    payload: { session_id: SESSION, interval_working_s: workingS, interval_standby_s: standbyS },
  } as unknown as WorkshopEvent;
}

function stopped(workingS: number, standbyS: number): WorkshopEvent {
  return {
    type: 'session_stopped',
    device_id: 'm1',
    payload: { session_id: SESSION, working_s: workingS, standby_s: standbyS },
  } as unknown as WorkshopEvent;
}

function live(workingS: number, standbyS: number): DeviceLiveState {
  return {
    device_id: 'm1',
    state: 'working',
    power_w: 250,
    session_id: SESSION,
    session_started_at: new Date(T0).toISOString(),
    session_working_s: workingS,
    session_standby_s: standbyS,
    last_seen_at: new Date(T0).toISOString(),
    changed_at: new Date(T0).toISOString(),
    expected_interval_s: 60,
  };
}

describe('TodayTotals', () => {
  it('adds heartbeats, the running remainder and the final stop without counting twice', () => {
    let now = T0;
    const today = new TodayTotals(() => now);
    today.record([heartbeat(50, 10)]);
    expect(today.of(live(70, 10), 'm1')).toEqual({ working: 70, standby: 10 });
    today.record([heartbeat(30, 5)]);
    expect(today.of(live(80, 15), 'm1')).toEqual({ working: 80, standby: 15 });
    today.record([stopped(90, 15)]);
    expect(today.of(undefined, 'm1')).toEqual({ working: 90, standby: 15 });
    now += 3600_000;
    expect(today.of(undefined, 'other')).toEqual({ working: 0, standby: 0 });
  });

  it('restarts at local midnight but keeps what a running session booked before it', () => {
    let now = T0;
    const today = new TodayTotals(() => now);
    today.record([heartbeat(600, 0)]);
    now = new Date(2026, 10, 26, 0, 5, 0).getTime();
    // The running session's 600 s were yesterday's; only the 300 s after them count today.
    expect(today.of(live(900, 0), 'm1')).toEqual({ working: 300, standby: 0 });
  });
});

describe('machineOf', () => {
  it('builds a valid dashboard machine for a device with and without live state', () => {
    const config = { ...device('m1'), area: 'Wood shop' };
    const withState = machineOf(config, live(70, 10), { working: 70, standby: 10 }, 'x');
    const unknown = machineOf(
      device('m2'),
      undefined,
      { working: 0, standby: 0 },
      new Date(T0).toISOString(),
    );
    expect(validate('dashboard_machines', [withState, unknown])).toEqual([]);
    expect(withState).toMatchObject({
      name: 'Machine m1',
      area: 'Wood shop',
      state: 'working',
      today_working_s: 70,
      expected_interval_s: 60,
    });
    // Never heard from: no power, never seen, and the timeout as the interval until one is learnt.
    expect(unknown).toMatchObject({
      state: 'unknown',
      area: null,
      power_w: null,
      session_id: null,
      last_seen_at: null,
      expected_interval_s: device('m2').session_config.message_timeout_s,
    });
  });
});
