/**
 * Recording benchmark (a script, not a timed test): `npx tsx scripts/bench/recording.ts [--quick]`.
 *
 * One machine reporting at 1 Hz for 7 days (604,800 readings: working, standby and off periods,
 * power with one decimal and noise, a Shelly-like energy counter with three decimals, arrival jitter
 * of ±20 ms) goes through `RecordingStore.record()` with a flush every 10 readings (the worker's
 * 10 s timer at 1 Hz). Measured side by side in one run:
 * 1. ms per flush of that machine; µs per `record()` (the hot-path cost) and ms per flush for 500
 *    machines recording 10 readings each between flushes (the worker's timer in a large workshop).
 * 2. Bytes per reading on disk: the file (after close) / readings, for this working machine and for
 *    an idle one (0 W, counter unchanged); beside it one row per reading (device_id, at, power,
 *    energy; indexed) in SQLite, the naive layout.
 * 3. Reading back: the 604,800 inputs through `inputs()` (lazy decode), ms for the first read (cold
 *    code) and the best of two more (warm), inputs/s: the analysis (worker/src/analysis) reads a
 *    week in under 2 s, decoding included.
 * Targets: <= 12 bytes/reading, warm read of the week < 500 ms (a quarter of the analysis budget).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../worker/src/log.ts';
import { RECORDING_FILE, RecordingStore } from '../../worker/src/recording/store.ts';
import type { RecordedInput } from '../../worker/src/recording/types.ts';
import { type BenchMetric, printResult } from './result.ts';

const quick = process.argv.includes('--quick');
const READINGS = quick ? 86_400 : 604_800;
const START = Date.UTC(2026, 11, 1);
const rows: [string, string][] = [];

/** A deterministic pseudo-random stream (the same machine on every run). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return s / 4_294_967_296;
  };
}

/** A working machine: 20-minute jobs at ~1.2 kW, standby at ~8 W, off at night. */
function workingMachine(n: number): RecordedInput[] {
  const rand = lcg(42);
  const out: RecordedInput[] = new Array(n);
  let energy = 123_456.789;
  for (let i = 0; i < n; i++) {
    const hour = Math.floor(i / 3600) % 24;
    const inJob = Math.floor(i / 1200) % 3 !== 2;
    const base = hour < 7 || hour >= 19 ? 0 : inJob ? 1200 : 8;
    const power = base === 0 ? 0 : Math.round((base + (rand() - 0.5) * base * 0.1) * 10) / 10;
    energy = Math.round((energy + power / 3600) * 1000) / 1000;
    const at = START + i * 1000 + Math.round((rand() - 0.5) * 40);
    out[i] = { at, kind: 'reading', power_w: power, energy_wh: energy };
  }
  return out;
}

function idleMachine(n: number): RecordedInput[] {
  const rand = lcg(7);
  const out: RecordedInput[] = new Array(n);
  for (let i = 0; i < n; i++)
    out[i] = {
      at: START + i * 1000 + Math.round((rand() - 0.5) * 40),
      kind: 'reading',
      power_w: 0,
      energy_wh: 4711.5,
    };
  return out;
}

function fileBytes(dir: string, name: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    const file = path.join(dir, name + suffix);
    if (fs.existsSync(file)) total += fs.statSync(file).size;
  }
  return total;
}

function newStore(dir: string, end: number): RecordingStore {
  return new RecordingStore({
    dir,
    log: silentLogger(),
    maxDays: 30,
    maxBytesPerMachine: 1024 * 1024 * 1024,
    now: () => end,
    flushIntervalMs: 0,
  });
}

/** Records the stream with a flush every 10 inputs; returns ms/flush and bytes/reading. */
function recordStream(inputs: RecordedInput[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-'));
  const store = newStore(dir, (inputs.at(-1) as RecordedInput).at);
  let flushNs = 0n;
  let flushes = 0;
  for (let i = 0; i < inputs.length; i += 10) {
    const end = Math.min(i + 10, inputs.length);
    for (let k = i; k < end; k++) store.record('machine-1', inputs[k] as RecordedInput);
    const t1 = process.hrtime.bigint();
    store.flush();
    flushNs += process.hrtime.bigint() - t1;
    flushes++;
  }
  store.stop();
  const bytes = fileBytes(dir, RECORDING_FILE);
  return {
    dir,
    msPerFlush: Number(flushNs) / 1e6 / flushes,
    bytesPerReading: bytes / inputs.length,
    fileMb: bytes / 1024 / 1024,
  };
}

/** One row per reading, the layout the recording avoids. */
function naive(inputs: RecordedInput[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-naive-'));
  const db = new Database(path.join(dir, 'naive.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE readings (id INTEGER PRIMARY KEY, device_id TEXT, at INTEGER, power_w REAL, energy_wh REAL); CREATE INDEX r_dev_at ON readings (device_id, at);',
  );
  const insert = db.prepare(
    'INSERT INTO readings (device_id, at, power_w, energy_wh) VALUES (?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const r of inputs)
      if (r.kind === 'reading') insert.run('machine-1', r.at, r.power_w, r.energy_wh);
  })();
  // The same week read back row by row, as the recording's reader returns it: the baseline.
  const select = db.prepare(
    'SELECT at, power_w, energy_wh FROM readings WHERE device_id = ? AND at >= ? AND at < ? ORDER BY at',
  );
  const reads: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    let sum = 0;
    for (const row of select.iterate(
      'machine-1',
      START - 1000,
      START + 8 * 86_400_000,
    ) as Iterable<{
      at: number;
      power_w: number;
      energy_wh: number | null;
    }>) {
      const input: RecordedInput = {
        at: row.at,
        kind: 'reading',
        power_w: row.power_w,
        energy_wh: row.energy_wh,
      };
      if (input.kind === 'reading') sum += input.power_w;
    }
    reads.push(performance.now() - t0);
    if (sum < 0) throw new Error('unreachable');
  }
  db.close();
  const bytes = fileBytes(dir, 'naive.sqlite');
  fs.rmSync(dir, { recursive: true, force: true });
  return { bytesPerReading: bytes / inputs.length, readMs: Math.min(...reads.slice(1)) };
}

/**
 * 500 machines, 10 new readings each, then one flush (the 10 s timer at 1 Hz in a big workshop):
 * µs per `record()` over those 5,000 calls, ms per flush.
 */
function manyMachines(machines: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-many-'));
  const store = newStore(dir, START + 3_600_000);
  // The ingest hands the registry the config's own id strings: no new string per message.
  const ids = Array.from({ length: machines }, (_, m) => `machine-${m}`);
  let recordNs = 0n;
  let flushNs = 0n;
  let baselineNs = 0n;
  const seen = new Map<string, number>(ids.map((id) => [id, 0]));
  const noop = {
    record(id: string, input: RecordedInput) {
      seen.set(id, input.at);
    },
  };
  const rounds = 40;
  let calls = 0;
  for (let round = 0; round < rounds; round++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 10; k++)
      for (let m = 0; m < machines; m++)
        store.record(ids[m] as string, {
          at: START + (round * 10 + k) * 1000,
          kind: 'reading',
          power_w: 100 + ((m * 31 + k * 7) % 50) / 10,
          energy_wh: 1000 + round,
        });
    const t1 = process.hrtime.bigint();
    store.flush();
    flushNs += process.hrtime.bigint() - t1;
    recordNs += t1 - t0;
    calls += 10 * machines;
    // Baseline, same loop and inputs: a recorder that only finds the machine (what any would do).
    const t2 = process.hrtime.bigint();
    for (let k = 0; k < 10; k++)
      for (let m = 0; m < machines; m++)
        noop.record(ids[m] as string, {
          at: START + (round * 10 + k) * 1000,
          kind: 'reading',
          power_w: 100 + ((m * 31 + k * 7) % 50) / 10,
          energy_wh: 1000 + round,
        });
    baselineNs += process.hrtime.bigint() - t2;
  }
  store.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    usPerRecord: Number(recordNs) / 1000 / calls,
    usBaseline: Number(baselineNs) / 1000 / calls,
    msPerFlush: Number(flushNs) / 1e6 / rounds,
  };
}

/**
 * Reads the whole stream back through `inputs()` three times (checking it is exactly what was
 * recorded): the first read runs on cold code (as the worker's first analysis does), the best of
 * the next two on warm code.
 */
function readBack(dir: string, inputs: RecordedInput[]) {
  const store = newStore(dir, (inputs.at(-1) as RecordedInput).at);
  let expected = 0;
  for (const r of inputs) if (r.kind === 'reading') expected += r.power_w;
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    let n = 0;
    let checksum = 0;
    for (const input of store.inputs('machine-1', START - 1000, START + 8 * 86_400_000)) {
      n++;
      if (input.kind === 'reading') checksum += input.power_w;
    }
    times.push(performance.now() - t0);
    if (n !== inputs.length || Math.abs(checksum - expected) > 1e-6)
      throw new Error(
        `read back ${n} inputs (${checksum}), recorded ${inputs.length} (${expected})`,
      );
  }
  store.stop();
  const warm = Math.min(...times.slice(1));
  return { cold: times[0] as number, ms: warm, perSecond: inputs.length / (warm / 1000) };
}

function main(): void {
  const working = workingMachine(READINGS);
  const idle = idleMachine(READINGS);
  const w = recordStream(working);
  const i = recordStream(idle);
  const rows1 = naive(working);
  const many = manyMachines(500);
  const read = readBack(w.dir, working);
  for (const dir of [w.dir, i.dir]) fs.rmSync(dir, { recursive: true, force: true });
  const days = READINGS / 86_400;
  rows.push(
    [
      'record(), 500 machines',
      `${many.usPerRecord.toFixed(3)} µs per call (baseline loop: ${many.usBaseline.toFixed(3)} µs)`,
    ],
    ['flush, 1 machine (10 readings)', `${w.msPerFlush.toFixed(3)} ms`],
    ['flush, 500 machines (10 readings each)', `${many.msPerFlush.toFixed(1)} ms`],
    [
      'bytes/reading, working machine (file)',
      `${w.bytesPerReading.toFixed(2)} B (${w.fileMb.toFixed(2)} MB for ${days} days)`,
    ],
    ['bytes/reading, idle machine (file)', `${i.bytesPerReading.toFixed(2)} B`],
    [
      'bytes/reading, one row per reading',
      `${rows1.bytesPerReading.toFixed(2)} B (read back warm: ${rows1.readMs.toFixed(0)} ms)`,
    ],
    [
      'read back the week, cold / warm',
      `${read.cold.toFixed(0)} / ${read.ms.toFixed(0)} ms (warm: ${Math.round(read.perSecond).toLocaleString('en-US')} inputs/s)`,
    ],
  );
  for (const [name, value] of rows) process.stderr.write(`${name.padEnd(42)} ${value}\n`);
  const metrics: BenchMetric[] = [
    {
      name: 'record() per call, 500 machines',
      value: round(many.usPerRecord, 3),
      unit: 'µs',
      better: 'lower',
    },
    {
      name: 'the same loop with a recorder that only finds the machine (baseline)',
      value: round(many.usBaseline, 3),
      unit: 'µs',
      better: 'lower',
    },
    {
      name: 'flush of 500 machines, 10 readings each',
      value: round(many.msPerFlush, 1),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'bytes per reading, 1 Hz working machine',
      value: round(w.bytesPerReading, 2),
      unit: 'B',
      target: '<= 12',
    },
    {
      name: 'bytes per reading, idle machine',
      value: round(i.bytesPerReading, 2),
      unit: 'B',
      better: 'lower',
    },
    {
      name: 'bytes per reading, one SQLite row per reading',
      value: round(rows1.bytesPerReading, 2),
      unit: 'B',
    },
    {
      name: `the same, read back ${READINGS.toLocaleString('en-US')} rows, warm (baseline)`,
      value: round(rows1.readMs, 0),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `read back ${READINGS.toLocaleString('en-US')} inputs, first read (cold code)`,
      value: round(read.cold, 0),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `read back ${READINGS.toLocaleString('en-US')} inputs, warm`,
      value: round(read.ms, 0),
      unit: 'ms',
      target: '< 500',
    },
    {
      name: 'decode throughput',
      value: Math.round(read.perSecond),
      unit: 'inputs/s',
      better: 'higher',
    },
  ];
  printResult({
    bench: 'recording',
    metrics,
    notes: [
      `${days} days of one machine at 1 Hz${quick ? ' (--quick)' : ''}; flush every 10 readings`,
    ],
  });
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

main();
