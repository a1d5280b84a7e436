/**
 * Drives a DeviceRegistry through a timed scenario on fake timers (TestClock) and flattens the
 * resulting events for comparison with golden files. Decouples the tests from wall time (no real
 * sleeps), from event_uid randomness and from absolute timestamps (all times are ms offsets).
 */
import type { DeviceConfig, ParserType, SessionConfig, WorkshopEvent } from '@workshop-iot/shared';
import { pino } from 'pino';
import {
  DeviceRegistry,
  type DeviceRegistryOptions,
  MemoryDeviceStore,
} from '../../src/devices/registry.ts';
import { snapshotText } from '../../src/devices/snapshot-json.ts';

/** 2026-01-05T08:00:00.000Z: every scenario's time 0. */
export const BASE_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
export const DEVICE_ID = 'shelly-golden-1';
export const WORKER_UID = 'worker-golden';

export const DEFAULT_SESSION_CONFIG: SessionConfig = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 10,
  stop_debounce_s: 30,
  message_timeout_s: 300,
  heartbeat_interval_s: 60,
};

/**
 * Fake timers for the actors and the registry's clock in one object. Unlike a clock that jumps,
 * `advanceTo` fires due timers one by one at their own instant (ties in scheduling order), so a
 * timer scheduled by another timer's callback is relative to the right time. This is what real
 * timers do when the event loop is not blocked.
 */
export class TestClock {
  #now: number;
  #id = 0;
  readonly #timers = new Map<number, { end: number; fn: () => void }>();

  constructor(start = BASE_MS) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#id;
    this.#timers.set(id, { end: this.#now + ms, fn });
    return id;
  }

  clearTimeout(id: number): void {
    this.#timers.delete(id);
  }

  /**
   * Moves the clock to `t` WITHOUT firing the timers due by then: they fire late, on the next
   * `advanceTo`. This is a loaded event loop: an MQTT message handled before a timer that was due.
   */
  jumpTo(t: number): void {
    if (t > this.#now) this.#now = t;
  }

  get pending(): number {
    return this.#timers.size;
  }

  advanceTo(t: number): void {
    for (;;) {
      let nextId = 0;
      let next: { end: number; fn: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.end <= t && (!next || timer.end < next.end)) {
          next = timer;
          nextId = id;
        }
      }
      if (!next) break;
      this.#timers.delete(nextId);
      if (next.end > this.#now) this.#now = next.end;
      next.fn();
    }
    if (t > this.#now) this.#now = t;
  }
}

export type Step =
  | { t: number; w: number; wh?: number | null; retained?: boolean }
  | { t: number; online: boolean; retained?: boolean }
  | { t: number; alive: true; retained?: boolean }
  | { t: number; config: Partial<SessionConfig> }
  | {
      t: number;
      do: 'remove' | 'shutdown_close' | 'shutdown_keep' | 'broker_down' | 'broker_up' | 'restart';
    };

/** How the simulated device answers polls: after `answer_after_ms` with its last reading, or never. */
export type PollBehaviour = { answer_after_ms: number } | 'none' | 'unavailable';

export interface Scenario {
  description?: string;
  session_config?: Partial<SessionConfig>;
  /** The device's parser (default shelly_gen2); the core only sees it through `poll`. */
  parser_type?: ParserType;
  poll?: PollBehaviour;
  /**
   * Timers fire this late (ms): an input at `t` is handled before the timers due in
   * (t - timer_lag_ms, t], as on a busy event loop. Default 0 (a timer due at an input's instant
   * fires first).
   */
  timer_lag_ms?: number;
  steps: Step[];
  end: number;
}

export type Flat = Record<string, unknown> & { type: string; t: number };

export function deviceConfig(
  overrides: Partial<SessionConfig> = {},
  parserType: ParserType = 'shelly_gen2',
): DeviceConfig {
  return {
    device_id: DEVICE_ID,
    name: 'Golden saw',
    parser_type: parserType,
    topic: DEVICE_ID,
    session_config: { ...DEFAULT_SESSION_CONFIG, ...overrides },
  };
}

export const silentLog = () => pino({ level: 'silent' });

/**
 * A registry on a test clock (both its own and XState's), silent, for this worker: the wiring every
 * device test shares; `options` add or override the rest (onPoll, backlog, fastLane...).
 */
export function testRegistry(
  store: MemoryDeviceStore,
  clock: TestClock,
  options: Partial<DeviceRegistryOptions> = {},
): DeviceRegistry {
  return new DeviceRegistry({
    workerUid: WORKER_UID,
    store,
    clock,
    xstateClock: clock,
    log: silentLog(),
    ...options,
  });
}

/** Keeps every commit (its events' seqs and the snapshot's JSON), not only the latest snapshot. */
export class HistoryStore extends MemoryDeviceStore {
  readonly history: string[] = [];

  override commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    super.commit(deviceId, events, snapshot);
    this.history.push(
      `${deviceId} ${events.map((e) => e.seq).join(',')} ${snapshotText(snapshot)}`,
    );
  }
}

export interface Run {
  events: WorkshopEvent[];
  /** Registries built after the first one (graceful restarts, crashes, downtime). */
  restarts: number;
  /** Readings booked on the fast lane, summed over every registry of the run. */
  fastLaneReadings: number;
  /** Times a device's actor was parked, summed over every registry of the run. */
  parkings: number;
  /** State changes taken as direct steps (direct-step.ts), summed over every registry. */
  directSteps: number;
  polls: number[];
  store: HistoryStore;
  registry: DeviceRegistry;
  clock: TestClock;
}

/**
 * Runs `scenario`. `restartAt` (ms offsets) stop the registry gracefully (sessions kept) and build a
 * new one on the same store, as a worker restart does; `crashAt` abandons the registry without
 * stopping it (its clock is frozen, so its timers never fire again), as kill -9 does. `downtime`
 * ([from, until) offsets) stops it at `from`; the messages of the window are the broker's backlog,
 * handed with their own time to a registry built at `until` (option `backlog`), then live again.
 */
export function runScenario(
  scenario: Scenario,
  opts: {
    restartAt?: number[];
    crashAt?: number[];
    downtime?: Array<[number, number]>;
    fastLane?: boolean;
    /** Park steady devices' actors (registry option `park`); default on. */
    park?: boolean;
    /** Direct steps for parked devices (registry option `directSteps`); default on. */
    directSteps?: boolean;
  } = {},
): Run {
  const store = new HistoryStore();
  const polls: number[] = [];
  const parserType = scenario.parser_type ?? 'shelly_gen2';
  const lag = scenario.timer_lag_ms ?? 0;
  let config = deviceConfig(scenario.session_config, parserType);
  let clock = new TestClock();
  let last: { w: number; wh: number | null } | null = null;
  const behaviour = scenario.poll ?? { answer_after_ms: 1000 };

  const build = (backlog = false): DeviceRegistry => {
    const c = clock;
    const reg: DeviceRegistry = testRegistry(store, c, {
      backlog,
      fastLane: opts.fastLane ?? true,
      park: opts.park ?? true,
      directSteps: opts.directSteps ?? true,
      onPoll: () => {
        polls.push(c.now() - BASE_MS);
        if (behaviour === 'unavailable') return false;
        if (behaviour !== 'none') {
          const answer = last;
          c.setTimeout(() => {
            if (answer)
              reg.input(DEVICE_ID, { kind: 'reading', power_w: answer.w, energy_wh: answer.wh });
            else reg.input(DEVICE_ID, { kind: 'alive' });
          }, behaviour.answer_after_ms);
        }
        return true;
      },
    });
    reg.apply([config]);
    return reg;
  };

  let registry = build();
  let restarts = 0;
  let fastLaneReadings = 0;
  let parkings = 0;
  let directSteps = 0;
  const rebuild = (backlog = false): DeviceRegistry => {
    fastLaneReadings += registry.fastLaneReadings();
    parkings += registry.parking().parkings;
    directSteps += registry.directSteps();
    restarts++;
    return build(backlog);
  };
  let queued: Step[] | null = null;
  const pending = [
    ...(opts.downtime ?? []).flatMap(([from, until]) => [
      { t: from, step: { t: from, do: 'down' } as const },
      { t: until, step: { t: until, do: 'up' } as const },
    ]),
    ...scenario.steps.map((s) => ({ t: s.t, step: s as Step | null })),
    ...(opts.restartAt ?? []).map((t) => ({ t, step: { t, do: 'restart' } as Step })),
    ...(opts.crashAt ?? []).map((t) => ({ t, step: null })),
  ].sort((a, b) => a.t - b.t);

  for (const { t, step } of pending) {
    clock.advanceTo(BASE_MS + t - lag);
    clock.jumpTo(BASE_MS + t);
    if (step !== null && 'do' in step && step.do === 'down') {
      registry.stop({ closeSessions: false });
      queued = [];
      continue;
    }
    if (step !== null && 'do' in step && step.do === 'up') {
      clock = new TestClock(BASE_MS + t);
      registry = rebuild(true);
      registry.setReplaying(true);
      for (const q of queued ?? []) feed(registry, q, BASE_MS + q.t);
      registry.setReplaying(false);
      registry.catchUp();
      queued = null;
      continue;
    }
    if (queued && step) {
      if ('w' in step && !step.retained) last = { w: step.w, wh: step.wh ?? null };
      queued.push(step);
      continue;
    }
    if (step === null) {
      // kill -9: nothing is flushed, the old actors' timers never fire (their clock stops here).
      clock = new TestClock(BASE_MS + t);
      registry = rebuild();
      continue;
    }
    if ('w' in step || 'online' in step || 'alive' in step) {
      if ('w' in step && !step.retained) last = { w: step.w, wh: step.wh ?? null };
      feed(registry, step);
    } else if ('config' in step) {
      config = deviceConfig({ ...config.session_config, ...step.config }, parserType);
      registry.apply([config]);
    } else if (step.do === 'remove') {
      registry.apply([]);
    } else if (step.do === 'shutdown_close' || step.do === 'shutdown_keep') {
      registry.stop({ closeSessions: step.do === 'shutdown_close' });
    } else if (step.do === 'broker_down' || step.do === 'broker_up') {
      registry.setBrokerConnected(step.do === 'broker_up');
    } else {
      registry.stop({ closeSessions: false });
      registry = rebuild();
    }
  }
  clock.advanceTo(BASE_MS + scenario.end);
  fastLaneReadings += registry.fastLaneReadings();
  parkings += registry.parking().parkings;
  directSteps += registry.directSteps();
  return {
    events: store.eventsOf(DEVICE_ID),
    restarts,
    fastLaneReadings,
    parkings,
    directSteps,
    polls,
    store,
    registry,
    clock,
  };
}

/** A device message of a scenario; `at`: the device's own time, as a queued Shelly Gen2 has. */
function feed(registry: DeviceRegistry, step: Step, at?: number): void {
  const meta = { retained: 'retained' in step && step.retained === true };
  if ('w' in step) {
    const reading = { kind: 'reading', power_w: step.w, energy_wh: step.wh ?? null } as const;
    registry.input(DEVICE_ID, at === undefined ? reading : { ...reading, at }, meta);
  } else if ('online' in step) {
    registry.input(DEVICE_ID, { kind: 'availability', online: step.online }, meta);
  } else if ('alive' in step) {
    registry.input(DEVICE_ID, { kind: 'alive' }, meta);
  }
}

const TIME_FIELDS = new Set([
  'started_at',
  'ended_at',
  'interval_start',
  'interval_end',
  'last_seen_at',
]);

/**
 * Flattens events for comparison: `t` = occurred_at offset, timestamps in the payload as ms
 * offsets, session ids as S1, S2… in order of appearance; everything else as on the wire.
 */
export function flatten(events: WorkshopEvent[]): Flat[] {
  const sessions = new Map<string, string>();
  return events.map((e) => {
    const flat: Flat = { type: e.type, t: Date.parse(e.occurred_at) - BASE_MS };
    for (const [key, value] of Object.entries(e.payload)) {
      if (key === 'session_id') {
        const id = value as string;
        if (!sessions.has(id)) sessions.set(id, `S${sessions.size + 1}`);
        flat.session = sessions.get(id);
      } else if (TIME_FIELDS.has(key) && typeof value === 'string') {
        flat[key] = Date.parse(value) - BASE_MS;
      } else {
        flat[key] = value;
      }
    }
    return flat;
  });
}

/** Keeps only the keys the expectation names, so golden files list what matters. */
export function project(actual: Flat[], expected: Record<string, unknown>[]): Flat[] {
  return actual.map((a, i) => {
    const keys = Object.keys(expected[i] ?? a);
    return Object.fromEntries(keys.map((k) => [k, a[k]])) as Flat;
  });
}

/** Deterministic PRNG for property tests (the simulator's mulberry32). */
export { seededRandom as prng } from '../../../scripts/sim/random.ts';
