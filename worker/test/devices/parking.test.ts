/**
 * Parking (device-actor.ts, actor-timers.ts): a device whose readings keep to the fast lane keeps
 * only its snapshot; its XState actor is restored on the next step, its timers stay armed. Nothing
 * a device does may change: same events, same polls, same snapshots, same live state.
 */
import type { SessionConfig } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { MemoryDeviceStore } from '../../src/devices/registry.ts';
import {
  BASE_MS,
  DEVICE_ID,
  deviceConfig,
  flatten,
  type PollBehaviour,
  prng,
  runScenario,
  type Scenario,
  type Step,
  TestClock,
  testRegistry,
} from './harness.ts';

/** A meter that mostly reports steady power (so it parks), with switches, silence and config. */
function steadyScenario(seed: number): Scenario {
  const rnd = prng(seed);
  const config = (): SessionConfig => ({
    standby_threshold_w: 10,
    working_threshold_w: 100,
    start_debounce_s: Math.floor(rnd() * 10),
    stop_debounce_s: Math.floor(rnd() * 30),
    message_timeout_s: 60 + Math.floor(rnd() * 240),
    heartbeat_interval_s: 20 + Math.floor(rnd() * 90),
  });
  const steps: Step[] = [];
  let t = 0;
  let wh = 100;
  let level = 0;
  for (let i = 0; i < 80; i++) {
    const g = rnd();
    t += g < 0.1 ? 0 : g < 0.9 ? Math.floor(rnd() * 20_000) : Math.floor(rnd() * 400_000);
    const r = rnd();
    if (r < 0.12) level = [0, 1, 2][Math.floor(rnd() * 3)]!;
    const w = [2, 40, 800][level]! + rnd() * 5;
    wh += (w * 10) / 3600;
    if (r < 0.85) steps.push({ t, w: Math.round(w * 10) / 10, wh: Math.round(wh * 1000) / 1000 });
    else if (r < 0.88) steps.push({ t, online: rnd() < 0.5, retained: rnd() < 0.3 });
    else if (r < 0.9) steps.push({ t, alive: true });
    else if (r < 0.93) steps.push({ t, config: config() });
    else if (r < 0.96) steps.push({ t, do: rnd() < 0.5 ? 'broker_down' : 'broker_up' });
    else steps.push({ t, w: 5000, wh: rnd() * 10, retained: true });
  }
  const polls: PollBehaviour[] = ['none', 'unavailable', { answer_after_ms: 3_000 }];
  return {
    session_config: config(),
    poll: polls[Math.floor(rnd() * polls.length)]!,
    timer_lag_ms: rnd() < 0.3 ? Math.floor(rnd() * 5_000) : 0,
    steps,
    end: t + 600_000,
  };
}

describe('parking steady devices', () => {
  it('gives the same events, polls and commits parked (with and without direct steps) and awake (100 seeds)', () => {
    let parkings = 0;
    let directSteps = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const scenario = steadyScenario(seed);
      const rnd = prng(seed * 31);
      const restartAt = rnd() < 0.3 ? [Math.floor(rnd() * scenario.end)] : [];
      const crashAt = rnd() < 0.3 ? [Math.floor(rnd() * scenario.end)] : [];
      const opts = { restartAt, crashAt };
      const direct = runScenario(scenario, { ...opts, park: true });
      const parked = runScenario(scenario, { ...opts, park: true, directSteps: false });
      const awake = runScenario(scenario, { ...opts, park: false });
      for (const [name, run] of [
        ['direct', direct],
        ['parked', parked],
      ] as const) {
        const label = `seed ${seed}, ${name}`;
        expect(flatten(run.events), label).toEqual(flatten(awake.events));
        expect(run.polls, label).toEqual(awake.polls);
        // Every commit, not only the last: same events with the same snapshot, at the same steps.
        expect(run.store.history, label).toEqual(awake.store.history);
        expect(run.registry.liveState(DEVICE_ID), label).toEqual(
          awake.registry.liveState(DEVICE_ID),
        );
      }
      expect(awake.parkings).toBe(0);
      expect(parked.directSteps).toBe(0);
      parkings += parked.parkings;
      directSteps += direct.directSteps;
    }
    // The seeds must actually park devices and take direct steps, or this compares identical paths.
    expect(parkings).toBeGreaterThanOrEqual(800);
    expect(directSteps).toBeGreaterThanOrEqual(500);
    // Three runs per seed on a shared 2-core machine: the default 60 s is too tight under load.
  }, 240_000);

  it('keeps only the snapshot of a device on the fast lane and restores the same state on the next step', () => {
    const clock = new TestClock();
    const store = new MemoryDeviceStore();
    const registry = testRegistry(store, clock, { directSteps: false });
    registry.apply([deviceConfig({ start_debounce_s: 0, heartbeat_interval_s: 600 })]);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 500, energy_wh: 10 });
    for (let i = 1; i <= 3; i++) {
      clock.advanceTo(BASE_MS + i * 1000);
      registry.input(DEVICE_ID, { kind: 'reading', power_w: 500 + i, energy_wh: 10 + i });
    }
    // Parked when configured, woken by the first reading (no direct steps here), parked again.
    expect(registry.parking()).toEqual({ parked: 1, parkings: 2 });
    const live = registry.liveState(DEVICE_ID);
    expect(live?.state).toBe('working');
    clock.advanceTo(BASE_MS + 6000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 50, energy_wh: 15 });
    // Woken by a reading the lane refuses: a step (working -> standby) on the same session.
    expect(registry.parking().parked).toBe(0);
    expect(registry.liveState(DEVICE_ID)).toMatchObject({
      state: 'standby',
      session_id: live?.session_id,
      session_working_s: 6,
    });
    registry.stop({ closeSessions: true });
    const types = store.eventsOf(DEVICE_ID).map((e) => e.type);
    expect(types).toEqual(['session_started', 'session_stopped']);
  });

  it('fires a parked device timers at their own instants and parks it again after', () => {
    const run = (park: boolean) => {
      const clock = new TestClock();
      const store = new MemoryDeviceStore();
      const registry = testRegistry(store, clock, { park });
      registry.apply([deviceConfig({ start_debounce_s: 0, heartbeat_interval_s: 30 })]);
      for (let i = 0; i <= 3; i++) {
        clock.advanceTo(BASE_MS + i * 1000);
        registry.input(DEVICE_ID, { kind: 'reading', power_w: 500 + i, energy_wh: 10 + i });
      }
      const parkedBefore = registry.parking().parked;
      clock.advanceTo(BASE_MS + 100_000);
      return { store, parkedBefore, after: registry.parking(), registry };
    };
    const parked = run(true);
    const awake = run(false);
    expect(parked.parkedBefore).toBe(1);
    const beats = parked.store.eventsOf(DEVICE_ID).filter((e) => e.type === 'session_heartbeat');
    expect(beats.map((e) => e.occurred_at)).toEqual(
      [30_000, 60_000, 90_000].map((ms) => new Date(BASE_MS + ms).toISOString()),
    );
    expect(flatten(parked.store.eventsOf(DEVICE_ID))).toEqual(
      flatten(awake.store.eventsOf(DEVICE_ID)),
    );
    // Parked when configured; the first reading (idle -> working, zero debounce) and each heartbeat
    // were direct steps: the device never woke.
    expect(parked.after).toEqual({ parked: 1, parkings: 1 });
    expect(parked.registry.directSteps()).toBe(4);
  });

  it('takes a state change on a parked device as a direct step and stays parked', () => {
    const clock = new TestClock();
    const store = new MemoryDeviceStore();
    const registry = testRegistry(store, clock);
    registry.apply([deviceConfig({ start_debounce_s: 0, stop_debounce_s: 0 })]);
    for (let i = 0; i <= 3; i++) {
      clock.advanceTo(BASE_MS + i * 1000);
      registry.input(DEVICE_ID, { kind: 'reading', power_w: 500 + i, energy_wh: 10 + i });
    }
    expect(registry.parking()).toEqual({ parked: 1, parkings: 1 });
    clock.advanceTo(BASE_MS + 5000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 50, energy_wh: 15 });
    clock.advanceTo(BASE_MS + 6000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 0, energy_wh: 15 });
    // idle -> working at the first reading, working -> standby, then standby -> stopping -> idle
    // (zero debounce) with session_stopped: all direct, the device parked since it was configured.
    expect(registry.directSteps()).toBe(3);
    expect(registry.parking()).toEqual({ parked: 1, parkings: 1 });
    expect(registry.liveState(DEVICE_ID)?.state).toBe('idle');
    const stopped = store.eventsOf(DEVICE_ID).find((e) => e.type === 'session_stopped');
    expect(stopped?.payload).toMatchObject({ working_s: 5, standby_s: 1, total_s: 6 });
  });
});
