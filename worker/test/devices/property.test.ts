/**
 * Property-style tests: a few hundred seeded random power sequences (random gaps, thresholds,
 * debounces, counter resets, retained replays, LWT, polls, config changes, broker drops, restarts
 * and crashes). Whatever happens: sessions never overlap, durations are never negative,
 * working + standby <= total, seq is contiguous, every event validates.
 */
import { type SessionConfig, validate, type WorkshopEvent } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import {
  flatten,
  type PollBehaviour,
  prng,
  runScenario,
  type Scenario,
  type Step,
} from './harness.ts';

const EPS = 1e-9;

/** The numeric fields of a flattened event (absent ones are never read for that type). */
interface Nums {
  t: number;
  started_at: number;
  ended_at: number;
  interval_start: number;
  interval_end: number;
  interval_working_s: number;
  interval_standby_s: number;
  working_s: number;
  standby_s: number;
  total_s: number;
  energy_wh: number | null;
}

function randomConfig(rnd: () => number): SessionConfig {
  const standby = Math.round(1 + rnd() * 50);
  return {
    standby_threshold_w: standby,
    working_threshold_w: standby + Math.round(1 + rnd() * 400),
    start_debounce_s: Math.floor(rnd() * 20),
    stop_debounce_s: Math.floor(rnd() * 60),
    message_timeout_s: 5 + Math.floor(rnd() * 300),
    heartbeat_interval_s: 5 + Math.floor(rnd() * 120),
  };
}

function randomScenario(seed: number, opts: { liveness: boolean }): Scenario {
  const rnd = prng(seed);
  const config = randomConfig(rnd);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const steps: Step[] = [];
  let t = 0;
  let counter = rnd() * 1000;
  let current = { ...config };
  const n = 30 + Math.floor(rnd() * 120);
  for (let i = 0; i < n; i++) {
    const g = rnd();
    t += g < 0.1 ? 0 : g < 0.85 ? Math.floor(rnd() * 30_000) : Math.floor(rnd() * 600_000);
    const level = pick([0, 0.5, 0.99, 1, 1.01, 2, 0.999, 1.001, 3]);
    const band = rnd() < 0.5 ? current.standby_threshold_w : current.working_threshold_w;
    const w = Math.max(0, Math.round(band * level * 100) / 100);
    counter += (w * rnd() * 30) / 3600;
    const r = rnd();
    if (r < 0.7) {
      const e = rnd();
      if (e >= 0.05 && e < 0.08) counter = rnd() * 2; // meter reset
      const wh = e < 0.05 ? null : e >= 0.08 && e < 0.1 ? counter * 0.9 : counter;
      steps.push({ t, w, wh: wh === null ? null : Math.round(wh * 1000) / 1000 });
    } else if (r < 0.77) {
      steps.push({ t, w: pick([0, w, 5000]), wh: rnd() * 100, retained: true });
    } else if (r < 0.82 && opts.liveness) {
      steps.push({ t, online: rnd() < 0.5, retained: rnd() < 0.3 });
    } else if (r < 0.85 && opts.liveness) {
      steps.push({ t, alive: true, retained: rnd() < 0.3 });
    } else if (r < 0.9) {
      const next = randomConfig(rnd);
      if (!opts.liveness) next.message_timeout_s = 86_400;
      current = next;
      steps.push({ t, config: next });
    } else if (r < 0.94) {
      steps.push({ t, do: pick(['broker_down', 'broker_up'] as const) });
    } else {
      steps.push({ t, w, wh: Math.round(counter * 1000) / 1000 });
      steps.push({ t, w, wh: Math.round(counter * 1000) / 1000 }); // duplicate delivery
    }
  }
  const poll: PollBehaviour = opts.liveness
    ? pick<PollBehaviour>(['none', 'unavailable', { answer_after_ms: Math.floor(rnd() * 15_000) }])
    : 'none';
  return {
    session_config: opts.liveness ? config : { ...config, message_timeout_s: 86_400 },
    poll,
    steps,
    end: t + 700_000,
  };
}

function checkInvariants(events: WorkshopEvent[]): void {
  let open: {
    id: string;
    startedAt: number;
    lastEnd: number;
    working: number;
    standby: number;
  } | null = null;
  let lastEnd = -Infinity;
  let lastOccurred = -Infinity;
  const closed = new Set<string>();
  let online: boolean | null = null;
  events.forEach((event, i) => {
    expect(validate('event', event)).toEqual([]);
    expect(event.seq).toBe(i + 1);
    const occurred = Date.parse(event.occurred_at);
    expect(occurred).toBeGreaterThanOrEqual(lastOccurred);
    lastOccurred = occurred;
  });
  for (const e of flatten(events)) {
    const f = e as unknown as Nums;
    if (e.type === 'session_started') {
      expect(open).toBeNull();
      expect(closed.has(e.session as string)).toBe(false);
      expect(f.started_at).toBeGreaterThanOrEqual(lastEnd); // never overlapping
      expect(f.started_at).toBeLessThanOrEqual(f.t);
      open = {
        id: e.session as string,
        startedAt: f.started_at,
        lastEnd: f.started_at,
        working: 0,
        standby: 0,
      };
    } else if (e.type === 'session_heartbeat') {
      expect(open?.id).toBe(e.session);
      expect(f.interval_start).toBe(open!.lastEnd);
      expect(f.interval_end).toBeGreaterThanOrEqual(f.interval_start);
      expect(f.interval_working_s + f.interval_standby_s).toBeLessThanOrEqual(
        (f.interval_end - f.interval_start) / 1000 + EPS,
      );
      expect(f.working_s + f.standby_s).toBeLessThanOrEqual(f.total_s + EPS);
      expect(f.working_s).toBeGreaterThanOrEqual(open!.working - EPS);
      expect(f.standby_s).toBeGreaterThanOrEqual(open!.standby - EPS);
      expect(f.working_s).toBeCloseTo(open!.working + f.interval_working_s, 6);
      expect(f.total_s).toBeCloseTo((f.interval_end - open!.startedAt) / 1000, 6);
      open!.lastEnd = f.interval_end;
      open!.working = f.working_s;
      open!.standby = f.standby_s;
    } else if (e.type === 'session_stopped') {
      expect(open?.id).toBe(e.session);
      expect(f.ended_at).toBeGreaterThanOrEqual(f.started_at);
      expect(f.ended_at).toBeLessThanOrEqual(f.t);
      expect(f.working_s + f.standby_s).toBeLessThanOrEqual(f.total_s + EPS);
      expect(f.total_s).toBeCloseTo((f.ended_at - f.started_at) / 1000, 6);
      if (f.energy_wh !== null) expect(f.energy_wh).toBeGreaterThanOrEqual(0);
      lastEnd = f.ended_at;
      closed.add(e.session as string);
      open = null;
    } else if (e.type === 'device_offline') {
      expect(open).toBeNull(); // the session was closed first
      expect(online).not.toBe(false);
      online = false;
    } else if (e.type === 'device_online') {
      expect(online).toBe(false);
      online = true;
    }
  }
}

describe('random power sequences', () => {
  it('keep every invariant (300 seeds, with liveness, restarts and crashes)', () => {
    // What the seeds exercised (deterministic: 4,003 sessions, 3,488 offline transitions, 174
    // restarts/crashes, 4,652 fast-lane readings): an invariant check over runs that never start a
    // session, never go offline or never restart would pass while checking nothing.
    const seen = { sessions: 0, offline: 0, restarts: 0, fastLane: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const scenario = randomScenario(seed, { liveness: true });
      const rnd = prng(seed * 7919);
      const restartAt = rnd() < 0.3 ? [Math.floor(rnd() * scenario.end)] : [];
      const crashAt = rnd() < 0.3 ? [Math.floor(rnd() * scenario.end)] : [];
      const run = runScenario(scenario, { restartAt, crashAt });
      try {
        checkInvariants(run.events);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}`);
      }
      seen.sessions += run.events.filter((e) => e.type === 'session_stopped').length;
      seen.offline += run.events.filter((e) => e.type === 'device_offline').length;
      seen.restarts += run.restarts;
      seen.fastLane += run.fastLaneReadings;
    }
    expect(seen.sessions, 'closed sessions').toBeGreaterThanOrEqual(2000);
    expect(seen.offline, 'offline transitions').toBeGreaterThanOrEqual(1500);
    expect(seen.restarts, 'restarts and crashes').toBeGreaterThanOrEqual(100);
    expect(seen.fastLane, 'readings on the fast lane').toBeGreaterThanOrEqual(2000);
  });

  it('give the same events with and without the registry fast lane (300 seeds)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const scenario = randomScenario(seed, { liveness: true });
      const fast = flatten(runScenario(scenario, { fastLane: true }).events);
      const slow = flatten(runScenario(scenario, { fastLane: false }).events);
      expect(fast, `seed ${seed}`).toEqual(slow);
    }
  });

  it('are deterministic and resume exactly after graceful restarts (100 seeds, no silence)', () => {
    for (let seed = 1001; seed <= 1100; seed++) {
      const scenario = randomScenario(seed, { liveness: false });
      const reference = flatten(runScenario(scenario).events);
      expect(flatten(runScenario(scenario).events)).toEqual(reference);
      const rnd = prng(seed);
      const restartAt = [rnd(), rnd(), rnd()].map((x) => Math.floor(x * scenario.end));
      const resumed = flatten(runScenario(scenario, { restartAt }).events);
      expect(resumed, `seed ${seed}`).toEqual(reference);
    }
  });
});
