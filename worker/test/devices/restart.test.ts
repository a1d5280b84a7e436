/**
 * Restart and crash resume: a registry rebuilt on the same store continues exactly where the old
 * one stopped — same session id, contiguous seq, no new session_started, no session end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry, MemoryDeviceStore } from '../../src/devices/registry.ts';
import {
  BASE_MS,
  DEVICE_ID,
  deviceConfig,
  flatten,
  runScenario,
  type Scenario,
  silentLog,
  TestClock,
  WORKER_UID,
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
    const registry = new DeviceRegistry({
      workerUid: WORKER_UID,
      store,
      clock,
      xstateClock: clock,
      log: silentLog(),
    });
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
    const make = () =>
      new DeviceRegistry({
        workerUid: WORKER_UID,
        store,
        clock,
        xstateClock: clock,
        log: silentLog(),
      });
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
