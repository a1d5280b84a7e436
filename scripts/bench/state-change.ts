/**
 * Event-loop cost of one state change vs one fast-lane reading, side by side in one run:
 *   npx tsx scripts/bench/state-change.ts [--devices 100] [--cycles 200]
 *
 * The pipeline as the worker wires it (bench/pipeline.ts: DeviceRegistry on real timers, the SQLite
 * outbox as store), fed through `DeviceRegistry.input` (no MQTT, no JSON: what one parsed message
 * costs the registry, the machine and the commit staging). Zero debounce, so a reading across the
 * standby threshold is a state change with its event: 0 W -> 800 W is idle -> starting -> working
 * with `session_started`, 800 W -> 0 W is working -> stopping -> idle with `session_stopped`.
 * Between the switches each device gets LANE readings inside its band: the fast lane's bookkeeping,
 * the cheapest thing a message does, as the baseline. Every call is timed on its own
 * (`performance.now()`, synchronous: it is event-loop time); the two kinds interleave, so a busy
 * machine slows both alike. Median and p99 of each, and the ratio of the medians.
 * Target (issue 20): state change median <= 15 µs.
 */
import { parseArgs } from 'node:util';
import { buildPipeline } from './pipeline.ts';
import { printResult } from './result.ts';
import { benchDevices } from './stream.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    cycles: { type: 'string', default: '200' },
    // For profiling one side (`node --cpu-prof --import tsx ... --side direct`).
    side: { type: 'string', default: 'all' },
  },
});
const DEVICES = Number(values.devices);
const CYCLES = Number(values.cycles);
/** Lane readings between two switches of one device. */
const LANE = 4; // >= PARK_AFTER_LANE_READINGS: the parked side parks before every switch
/** Cycles not measured: V8 compiles the first transitions of each kind. */
const WARMUP = 20;

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Side {
  name: string;
  feed(i: number, power_w: number, into: number[] | null): void;
  change: number[];
  lane: number[];
  flush(measured: boolean): void;
  /**
   * CPU time (all threads: the main one stages rows, the writer thread runs SQLite) of the measured
   * group commits, in µs; flush waits for the fsync, so wall time would count waiting.
   */
  flushCpuUs: number;
  /** Events the measured group commits wrote. */
  flushEvents: number;
  stop(): { events: number; parked: number; direct: number };
}

async function side(name: string, park: boolean, directSteps = true): Promise<Side> {
  const devices = benchDevices(DEVICES);
  const p = await buildPipeline(devices, { park, directSteps });
  const ids = devices.map((d) => d.device_id);
  const energy = new Array<number>(DEVICES).fill(1000);
  const s: Side = {
    name,
    change: [],
    lane: [],
    feed(i, power_w, into) {
      energy[i] = energy[i]! + power_w / 3600;
      const t0 = performance.now();
      p.registry.input(ids[i]!, { kind: 'reading', power_w, energy_wh: energy[i]! });
      const dt = performance.now() - t0;
      into?.push(dt * 1000);
    },
    flushCpuUs: 0,
    flushEvents: 0,
    flush(measured) {
      const before = p.events();
      const cpu = process.cpuUsage();
      p.flush();
      if (!measured) return;
      const used = process.cpuUsage(cpu);
      s.flushCpuUs += used.user + used.system;
      s.flushEvents += p.events() - before;
    },
    stop() {
      p.flush();
      const events = p.events();
      const parked = p.registry.parking().parkings;
      const direct = p.registry.directSteps();
      p.stop();
      return { events, parked, direct };
    },
  };
  return s;
}

async function main(): Promise<void> {
  // Direct: the default (a device that kept to the fast lane keeps only its snapshot, and a switch
  // is a direct step on it, no XState). Parked: the same without direct steps, so a switch wakes
  // its actor first. Awake: parking off, every device keeps its XState actor, every switch is a
  // macrostep.
  const all: [string, boolean, boolean][] = [
    ['direct', true, true],
    ['parked, XState', true, false],
    ['awake, XState', false, false],
  ];
  const sides: Side[] = [];
  for (const [name, park, direct] of all)
    if (values.side === 'all' || name.startsWith(values.side))
      sides.push(await side(name, park, direct));
  for (const s of sides) for (let i = 0; i < DEVICES; i++) s.feed(i, 0, null);
  for (let c = 0; c < CYCLES; c++) {
    const measured = c >= WARMUP;
    // Rotate which side goes first, so drift in the machine's load hits all alike.
    const order = sides.map((_, k) => sides[(k + c) % sides.length]!);
    for (const on of [true, false]) {
      for (const s of order) {
        for (let i = 0; i < DEVICES; i++) s.feed(i, on ? 800 : 0, measured ? s.change : null);
        for (let k = 0; k < LANE; k++)
          for (let i = 0; i < DEVICES; i++)
            s.feed(i, on ? 800 + ((k * 37) % 200) : (k % 3) * 0.5, measured ? s.lane : null);
        // The outbox group-commits between event-loop turns, as in the worker.
        s.flush(measured);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const metrics = [];
  const lanes = sides.flatMap((s) => s.lane).sort((a, b) => a - b);
  const l50 = quantile(lanes, 0.5);
  for (const s of sides) {
    const { events, parked, direct } = s.stop();
    s.change.sort((a, b) => a - b);
    const c50 = quantile(s.change, 0.5);
    const c99 = quantile(s.change, 0.99);
    console.log(
      `state change (${s.name}): median ${c50.toFixed(1)} µs, p99 ${c99.toFixed(1)} µs ` +
        `(${s.change.length} changes, ${events} events, ${parked} parkings, ${direct} direct steps); ` +
        `${(c50 / l50).toFixed(0)} x a fast-lane reading; ` +
        `its group commit ${(s.flushCpuUs / s.flushEvents).toFixed(1)} µs CPU per event (all threads)`,
    );
    metrics.push(
      {
        name: `state change (${s.name}), median`,
        value: round(c50, 1),
        unit: 'µs',
        target: '<= 15',
      },
      {
        name: `state change (${s.name}), p99`,
        value: round(c99, 1),
        unit: 'µs',
        better: 'lower' as const,
      },
    );
  }
  console.log(
    `fast-lane reading: median ${l50.toFixed(2)} µs, p99 ${quantile(lanes, 0.99).toFixed(1)} µs (${lanes.length})`,
  );
  metrics.push({
    name: 'fast-lane reading, median',
    value: round(l50, 2),
    unit: 'µs',
    better: 'lower' as const,
  });
  printResult({
    bench: 'state-change',
    metrics,
    notes: [
      `${DEVICES} devices per side, ${CYCLES - WARMUP} measured cycles, SQLite outbox, registry.input only`,
    ],
  });
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
