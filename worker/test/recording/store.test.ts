/**
 * RecordingStore through its public API on a real SQLite file: read-back and range semantics, exact
 * values, restart, the size and age bounds (explicit times and an injected clock, no timers), and
 * compactness. The flush timer is off (`flushIntervalMs: 0`): tests flush explicitly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_BLOCK_INPUTS,
  RECORDING_FILE,
  RecordingStore,
  type RecordingStoreOptions,
} from '../../src/recording/store.ts';
import type { RecordedInput } from '../../src/recording/types.ts';
import { captureLog } from '../helpers/log.ts';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const DAY = 86_400_000;
let dir: string;
let now: number;
const stores: RecordingStore[] = [];

function open(options: Partial<RecordingStoreOptions> = {}): RecordingStore {
  const store = new RecordingStore({
    dir,
    log: captureLog().log,
    flushIntervalMs: 0,
    now: () => now,
    ...options,
  });
  stores.push(store);
  return store;
}

const reading = (at: number, power_w: number, energy_wh: number | null = null): RecordedInput => ({
  at,
  kind: 'reading',
  power_w,
  energy_wh,
});

/** A 1 Hz machine: power with one decimal and noise, a counter with three decimals, jitter. */
function oneHz(from: number, n: number, seed = 1): RecordedInput[] {
  let s = seed;
  const rand = () => {
    s = (s * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return s / 4_294_967_296;
  };
  let energy = 1000;
  const out: RecordedInput[] = [];
  for (let i = 0; i < n; i++) {
    const power = Math.round((1200 + (rand() - 0.5) * 120) * 10) / 10;
    energy = Math.round((energy + power / 3600) * 1000) / 1000;
    out.push(reading(from + i * 1000 + Math.round((rand() - 0.5) * 40), power, energy));
  }
  return out;
}

const all = (store: RecordingStore, id: string) => [...store.inputs(id, -8.64e15, 8.64e15)];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-'));
  now = T0;
});
afterEach(() => {
  for (const store of stores.splice(0)) store.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('RecordingStore: reading back', () => {
  it('returns a machine’s inputs oldest first with from <= at < to, written or not yet flushed', () => {
    const store = open();
    const inputs = oneHz(T0, 600);
    for (const input of inputs.slice(0, 400)) store.record('laser-1', input);
    store.flush();
    for (const input of inputs.slice(400)) store.record('laser-1', input);
    store.record('lathe-2', reading(T0 + 5, 10));
    expect(all(store, 'laser-1')).toEqual(inputs);
    const from = (inputs[100] as RecordedInput).at;
    const to = (inputs[500] as RecordedInput).at;
    expect([...store.inputs('laser-1', from, to)]).toEqual(inputs.slice(100, 500));
    expect([...store.inputs('laser-1', from, from)]).toEqual([]);
    expect([...store.inputs('laser-1', to, from)]).toEqual([]);
    expect([...store.inputs('nobody', -1, 8.64e15)]).toEqual([]);
    expect(all(store, 'lathe-2')).toEqual([reading(T0 + 5, 10)]);
    expect(store.devices()).toEqual(['laser-1', 'lathe-2']);
  });

  it('keeps every kind and value exactly (decimals, many decimals, negative, no counter)', () => {
    const store = open();
    const inputs: RecordedInput[] = [
      reading(T0, 0, null),
      reading(T0 + 1000, 301.5, 1234.5),
      reading(T0 + 1999, 301.5, 1234.5),
      reading(T0 + 3000, 0.1 + 0.2, 12_345_678.901),
      reading(T0 + 3000, -0.75, 1 / 3),
      reading(T0 + 4000, 1e9, null),
      { at: T0 + 4000, kind: 'availability', online: false },
      { at: T0 + 90_000, kind: 'alive' },
      { at: T0 + 90_001, kind: 'availability', online: true },
      reading(T0 + 10 * DAY, 22.22, 0),
    ];
    for (const input of inputs) store.record('m', input);
    store.flush();
    expect(all(store, 'm')).toEqual(inputs);
  });

  it('records a time before the machine’s last one at the last one (never backwards)', () => {
    const store = open();
    store.record('m', reading(T0 + 5000, 1));
    store.record('m', reading(T0 + 1000, 2));
    store.record('m', reading(T0 + 5000.4, 3));
    expect(all(store, 'm').map((i) => i.at)).toEqual([T0 + 5000, T0 + 5000, T0 + 5000]);
  });
});

describe('RecordingStore: restart', () => {
  it('keeps the inputs across stop and reopen; new inputs append after them', () => {
    const first = open();
    const before = oneHz(T0, 300);
    for (const input of before) first.record('m', input);
    first.stop();
    const second = open();
    expect(all(second, 'm')).toEqual(before);
    const after = oneHz(T0 + 400_000, 300, 2);
    for (const input of after) second.record('m', input);
    second.stop();
    const third = open();
    expect(all(third, 'm')).toEqual([...before, ...after]);
    expect(third.usage()[0]).toMatchObject({ device_id: 'm', inputs: 600 });
  });

  it('ignores inputs after stop and cannot be started again', () => {
    const store = open();
    store.stop();
    store.record('m', reading(T0, 1));
    expect(() => store.start()).toThrow(/cannot be restarted/);
    expect(all(open(), 'm')).toEqual([]);
  });
});

describe('RecordingStore: bounds', () => {
  it('drops the oldest blocks of a machine beyond max bytes and stays under the bound', () => {
    const maxBytes = 32 * 1024;
    const store = open({ maxBytesPerMachine: maxBytes });
    const inputs = oneHz(T0, 30_000);
    for (const input of inputs.slice(0, 50)) store.record('small', input);
    for (let i = 0; i < inputs.length; i++) {
      store.record('big', inputs[i] as RecordedInput);
      if (i % 20 === 19) store.flush();
    }
    store.flush();
    const usage = Object.fromEntries(store.usage().map((u) => [u.device_id, u]));
    expect(usage.big?.bytes).toBeLessThanOrEqual(maxBytes);
    expect(usage.big?.bytes).toBeGreaterThan(maxBytes * 0.9);
    const kept = all(store, 'big');
    // The newest are kept, in one piece, ending with the last input; the oldest are gone.
    expect(kept.length).toBeLessThan(inputs.length / 2);
    expect(kept).toEqual(inputs.slice(inputs.length - kept.length));
    // Another machine is not touched by it.
    expect(all(store, 'small')).toEqual(inputs.slice(0, 50));
    store.stop();
    // The file itself stays near the bound (freed pages are reused), not at the 30,000 readings.
    const file = fs.statSync(path.join(dir, RECORDING_FILE)).size;
    expect(file).toBeLessThan(2 * maxBytes + 64 * 1024);
  });

  it('applies a lower bound at open', () => {
    const first = open();
    const inputs = oneHz(T0, 20_000);
    for (const input of inputs) first.record('m', input);
    first.stop();
    const second = open({ maxBytesPerMachine: 16 * 1024 });
    expect(second.usage()[0]?.bytes).toBeLessThanOrEqual(16 * 1024);
    const kept = all(second, 'm');
    expect(kept).toEqual(inputs.slice(inputs.length - kept.length));
  });

  it('drops blocks whose newest input is older than max_days, at open and once a minute', () => {
    const first = open({ maxDays: 2 });
    const day0 = oneHz(T0, MAX_BLOCK_INPUTS * 2);
    const day1 = oneHz(T0 + DAY, MAX_BLOCK_INPUTS * 2);
    const day2 = oneHz(T0 + 2 * DAY, 10);
    for (const input of [...day0, ...day1, ...day2]) first.record('m', input);
    now = T0 + 2 * DAY + 20_000;
    first.flush();
    expect(all(first, 'm')).toHaveLength(day0.length + day1.length + day2.length);
    // Day 0 ages out at the next age check, a minute after the last one.
    now = T0 + 2 * DAY + 30 * 60_000;
    first.flush();
    expect(all(first, 'm')).toEqual([...day1, ...day2]);
    first.stop();
    now = T0 + 3 * DAY + 30 * 60_000;
    const second = open({ maxDays: 2 });
    expect(all(second, 'm')).toEqual(day2);
    now = T0 + 5 * DAY;
    second.flush();
    expect(all(second, 'm')).toEqual([]);
    expect(second.usage()).toEqual([]);
  });
});

describe('RecordingStore: compactness', () => {
  it('takes at most 12 bytes per reading on disk for a 1 Hz machine (file size / readings)', () => {
    const store = open({ maxBytesPerMachine: 1024 ** 3 });
    const inputs = oneHz(T0, 86_400);
    for (let i = 0; i < inputs.length; i++) {
      store.record('m', inputs[i] as RecordedInput);
      if (i % 10 === 9) store.flush();
    }
    store.stop();
    const bytes = fs.statSync(path.join(dir, RECORDING_FILE)).size;
    expect(bytes / inputs.length).toBeLessThanOrEqual(12);
  });
});

describe('RecordingStore: imported blocks', () => {
  it('merges imported inputs that overlap recorded ones into time order', () => {
    const store = open();
    const recorded = oneHz(T0, 100);
    for (const input of recorded) store.record('m', input);
    store.flush();
    const imported = oneHz(T0 + 500, 100, 9);
    const batch = store.beginImport();
    for (const input of imported) batch.add('m', input);
    expect(batch.commit()).toBe(100);
    const merged = all(store, 'm');
    expect(merged).toHaveLength(200);
    expect(merged.map((i) => i.at)).toEqual(
      [...recorded, ...imported].map((i) => i.at).sort((a, b) => a - b),
    );
  });

  it('keeps nothing of a rolled-back import', () => {
    const store = open();
    const batch = store.beginImport();
    for (const input of oneHz(T0, 1000)) batch.add('m', input);
    batch.rollback();
    expect(all(store, 'm')).toEqual([]);
  });
});
