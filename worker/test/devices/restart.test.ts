/**
 * Restart and crash resume: a registry rebuilt on the same store continues exactly where the old
 * one stopped — same session id, contiguous seq, no new session_started, no session end.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkshopEvent } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { type DeviceRegistry, MemoryDeviceStore } from '../../src/devices/registry.ts';
import {
  BASE_MS,
  DEVICE_ID,
  deviceConfig,
  flatten,
  runScenario,
  type Scenario,
  TestClock,
  testRegistry,
} from './harness.ts';

const golden = (name: string): Scenario =>
  JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, '..', 'golden', `${name}.json`), 'utf8'),
  ) as Scenario;

/** Scenarios whose outcome does not depend on silence (a restart deliberately restarts that clock). */
const SCENARIOS = [
  'full_session',
  'working_standby_switches',
  'energy_and_meter_reset',
  'heartbeat_boundaries',
  'stop_debounce_return_before',
  'flapping_start_threshold',
  'config_change_mid_session',
  'retained_replay_after_reconnect',
];

const withoutUids = (events: { event_uid: string }[]) =>
  events.map(({ event_uid: _uid, ...rest }) => rest);

describe('graceful restart', () => {
  for (const name of SCENARIOS) {
    it(`resumes ${name} exactly after restarts at many instants`, () => {
      const scenario = golden(name);
      const reference = runScenario(scenario);
      // Restart every 7.5 s: inside debounces, between heartbeats, while starting and stopping.
      const restartAt: number[] = [];
      for (let t = 2500; t < scenario.end; t += 7500) restartAt.push(t);
      const resumed = runScenario(scenario, { restartAt });
      expect(withoutUids(resumed.events)).toEqual(withoutUids(reference.events));
    });
  }

  it('keeps the session id, continues seq and starts no new session', () => {
    const scenario = golden('full_session');
    const half = runScenario({
      ...scenario,
      steps: scenario.steps.filter((s) => s.t < 50_000),
      end: 50_000,
    });
    const store = half.store;
    half.registry.stop({ closeSessions: false });
    const before = store.eventsOf(DEVICE_ID);
    expect(before.map((e) => e.type)).toEqual(['session_started']);

    const clock = new TestClock(BASE_MS + 50_000);
    const registry = testRegistry(store, clock);
    registry.apply([deviceConfig()]);
    expect(registry.liveState(DEVICE_ID)).toMatchObject({
      state: 'working',
      session_id: (before[0]!.payload as { session_id: string }).session_id,
    });
    clock.advanceTo(BASE_MS + 60_000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 500, energy_wh: 1005.2 });
    clock.advanceTo(BASE_MS + 100_000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 0, energy_wh: 1008 });
    clock.advanceTo(BASE_MS + 200_000);
    const after = store.eventsOf(DEVICE_ID);
    expect(after.map((e) => [e.type, e.seq])).toEqual([
      ['session_started', 1],
      ['session_heartbeat', 2],
      ['session_stopped', 3],
    ]);
    const ids = new Set(after.map((e) => (e.payload as { session_id: string }).session_id));
    expect(ids.size).toBe(1);
    expect(flatten(after)[2]).toMatchObject({ working_s: 80, standby_s: 15, energy_wh: 8 });
  });

  it('restarts the silence clock: downtime is not held against the device', () => {
    const scenario: Scenario = {
      session_config: { message_timeout_s: 60 },
      poll: 'none',
      steps: [{ t: 0, w: 250 }],
      end: 200_000,
    };
    const run = runScenario(scenario, { restartAt: [50_000] });
    // Without the restart the poll would go out at 60 s; after it, 60 s after the resume.
    expect(run.polls).toEqual([110_000]);
    expect(flatten(run.events).find((e) => e.type === 'device_offline')).toMatchObject({
      t: 120_000,
      last_seen_at: 0,
    });
  });
});

describe('crash (kill -9) resume', () => {
  for (const name of SCENARIOS) {
    it(`${name}: same sessions, contiguous seq, same final totals`, () => {
      const scenario = golden(name);
      const reference = flatten(runScenario(scenario).events);
      for (let crash = 3000; crash < scenario.end; crash += 11_000) {
        const crashed = runScenario(scenario, { crashAt: [crash] });
        expect(crashed.events.map((e) => e.seq)).toEqual(crashed.events.map((_, i) => i + 1));
        const flat = flatten(crashed.events);
        // Everything but heartbeat energy (re-derived from the counter at the next reading) and
        // last seen (persisted coarsely: at most a minute behind until the next message) matches.
        const strip = (events: typeof flat) =>
          events.map(({ interval_energy_wh: _i, energy_wh: _e, last_seen_at: _l, ...rest }) =>
            rest.type === 'session_heartbeat' ? rest : { ...rest },
          );
        expect(strip(flat)).toEqual(strip(reference));
        flat.forEach((event, i) => {
          const behind = (reference[i]!.last_seen_at as number) - (event.last_seen_at as number);
          expect(behind).toBeGreaterThanOrEqual(0);
          expect(behind).toBeLessThan(60_000);
        });
        const stopped = (events: typeof flat) =>
          events.filter((e) => e.type === 'session_stopped').map((e) => e.energy_wh);
        if (name === 'energy_and_meter_reset' && crash > 30_000 && crash < 40_000) {
          // The one documented loss: the counter value read just before the crash (501 Wh at
          // 30 s) was not persisted, and the first value after the restart is a reset, so the
          // 1 Wh in between cannot be known. Never more than the reference.
          expect(stopped(flat)).toEqual([3.75]);
        } else {
          expect(stopped(flat)).toEqual(stopped(reference));
        }
      }
    });
  }

  it('keeps the start debounce across a crash while starting', () => {
    const run = runScenario({ steps: [{ t: 1000, w: 50 }], end: 30_000 }, { crashAt: [6000] });
    expect(flatten(run.events)).toMatchObject([
      { type: 'session_started', t: 11_000, started_at: 1000 },
    ]);
  });
});

describe('snapshots', () => {
  it('persists an open session on shutdown without close and discards unusable snapshots', () => {
    const store = new MemoryDeviceStore();
    const clock = new TestClock();
    const make = () => testRegistry(store, clock);
    const first = make();
    first.apply([deviceConfig()]);
    first.input(DEVICE_ID, { kind: 'reading', power_w: 500, energy_wh: null });
    clock.advanceTo(BASE_MS + 20_000);
    first.stop({ closeSessions: false });
    const snapshot = store.loadSnapshot(DEVICE_ID) as { context: { session: unknown } };
    expect(snapshot.context.session).toMatchObject({ startedAt: BASE_MS, kind: 'working' });

    store.snapshots.set(DEVICE_ID, JSON.stringify({ status: 'active', context: { version: 0 } }));
    const second = make();
    second.apply([deviceConfig()]);
    expect(second.liveState(DEVICE_ID)).toMatchObject({ state: 'unknown', session_id: null });
    second.stop({ closeSessions: false });
  });
});

describe('restart with a backlog (what the broker queued while the worker was down)', () => {
  /** Session starts and ends, without heartbeats (the catch-up folds those) or event uids. */
  const sessions = (events: WorkshopEvent[]) =>
    flatten(events).filter((e) => e.type === 'session_started' || e.type === 'session_stopped');

  for (const name of SCENARIOS.filter((n) => n !== 'config_change_mid_session')) {
    for (const length of [5_000, 45_000]) {
      it(`${name}: downtimes of ${length / 1000} s give the same sessions as no downtime`, () => {
        const scenario = golden(name);
        const reference = runScenario(scenario);
        const downtime: Array<[number, number]> = [];
        for (let t = 2500; t + length < scenario.end; t += length + 7500)
          downtime.push([t, t + length]);
        const resumed = runScenario(scenario, { downtime });
        expect(sessions(resumed.events)).toEqual(sessions(reference.events));
      });
    }
  }

  const build = (store: MemoryDeviceStore, clock: TestClock) => {
    const registry = testRegistry(store, clock, { backlog: true });
    registry.apply([deviceConfig()]);
    return registry;
  };
  /** A reading the broker delivers with the meter's own time (ms after BASE_MS). */
  const queued = (registry: DeviceRegistry, t: number, power_w: number) =>
    registry.input(DEVICE_ID, { kind: 'reading', power_w, energy_wh: null, at: BASE_MS + t });
  /** The restart: connected, the backlog replayed, every SUBSCRIBE answered (broker-events.ts). */
  const replay = (registry: DeviceRegistry, backlog: Array<[number, number]>) => {
    registry.setBrokerConnected(true);
    registry.setReplaying(true);
    for (const [t, w] of backlog) queued(registry, t, w);
    registry.setReplaying(false);
    registry.catchUp();
  };

  it('holds a resumed device at its snapshot time: its start debounce follows the meter', () => {
    const store = new MemoryDeviceStore();
    const before = new TestClock(BASE_MS);
    const r1 = build(store, before);
    r1.input(DEVICE_ID, { kind: 'reading', power_w: 250, energy_wh: null });
    before.advanceTo(BASE_MS + 4_000);
    r1.stop({ closeSessions: false }); // starting: the 10 s start debounce is pending

    const after = new TestClock(BASE_MS + 600_000);
    const r2 = build(store, after);
    // Until the broker is back, nothing runs on the wall clock: no session from the old debounce.
    after.advanceTo(BASE_MS + 900_000);
    expect(r2.liveState(DEVICE_ID)?.state).toBe('starting');
    // The meter dropped at 6 s, before the debounce; a 5 s blip later is no job either.
    replay(r2, [
      [6_000, 0],
      [100_000, 300],
      [105_000, 0],
    ]);
    expect(r2.liveState(DEVICE_ID)).toMatchObject({
      state: 'idle',
      last_seen_at: new Date(BASE_MS + 105_000).toISOString(),
    });
    after.advanceTo(BASE_MS + 1_000_000);
    expect(store.eventsOf(DEVICE_ID)).toEqual([]);
  });

  it('counts the unobserved time in the state of the snapshot; the job ends at the meter drop', () => {
    const store = new MemoryDeviceStore();
    const before = new TestClock(BASE_MS);
    const r1 = build(store, before);
    r1.input(DEVICE_ID, { kind: 'reading', power_w: 500, energy_wh: null });
    before.advanceTo(BASE_MS + 50_000);
    r1.stop({ closeSessions: false }); // working since 0, heartbeat due at 70 s

    const after = new TestClock(BASE_MS + 900_000);
    const r2 = build(store, after);
    replay(r2, [
      [400_000, 50], // standby from 400 s
      [500_000, 0], // off at 500 s
    ]);
    const events = flatten(store.eventsOf(DEVICE_ID));
    expect(events.map((e) => e.type)).toEqual([
      'session_started',
      'session_heartbeat',
      'session_heartbeat',
      'session_stopped',
    ]);
    // Not heard from 10 s (its last snapshot) to 400 s: still working, in one heartbeat (not six).
    expect(events[1]).toMatchObject({ t: 400_000, interval_end: 400_000, working_s: 400 });
    expect(events[2]).toMatchObject({ t: 500_000, interval_standby_s: 100, working_s: 400 });
    expect(events[3]).toMatchObject({
      reason: 'power_off',
      ended_at: 500_000,
      working_s: 400,
      standby_s: 100,
    });
  });
});
