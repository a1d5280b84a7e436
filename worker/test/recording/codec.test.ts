/**
 * The block encoding: any stream of inputs (random kinds, gaps, powers and counters, including
 * values that need the float64 path) decodes to exactly what was encoded, for any range.
 */
import { describe, expect, it } from 'vitest';
import { BlockCorrupt, BlockEncoder, decodeBlock } from '../../src/recording/codec.ts';
import { parseLine } from '../../src/recording/jsonl.ts';
import type { RecordedInput } from '../../src/recording/types.ts';

function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return s / 4_294_967_296;
  };
}

function stream(seed: number, n: number): RecordedInput[] {
  const rand = random(seed);
  const values = [0, 0, 12.5, -0.25, 1e7, 7.123456789, 1 / 3, 2 ** 52, 99.99, 0.01];
  const out: RecordedInput[] = [];
  let at = Date.UTC(2026, 0, 1) + Math.floor(rand() * 1e6);
  let energy = 1000;
  for (let i = 0; i < n; i++) {
    const r = rand();
    at +=
      r < 0.1 ? 0 : r < 0.2 ? Math.floor(rand() * 86_400_000) : 1000 + Math.floor(rand() * 50) - 25;
    const k = rand();
    if (k < 0.8) {
      const power =
        rand() < 0.3
          ? (values[Math.floor(rand() * values.length)] as number)
          : Math.round(rand() * 30_000) / 10;
      const e = rand();
      energy =
        e < 0.2 ? energy : e < 0.4 ? energy + rand() : Math.round((energy + rand()) * 1000) / 1000;
      out.push({ at, kind: 'reading', power_w: power, energy_wh: e > 0.9 ? null : energy });
    } else if (k < 0.9) out.push({ at, kind: 'availability', online: rand() < 0.5 });
    else out.push({ at, kind: 'alive' });
  }
  return out;
}

function decode(enc: BlockEncoder, from = -8.64e15, to = 8.64e15): RecordedInput[] {
  const out: RecordedInput[] = [];
  decodeBlock(enc.bytes(), enc.firstAt, enc.count, from, to, out);
  return out;
}

describe('block codec', () => {
  it('decodes 50 random streams exactly, whole and by range', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const inputs = stream(seed, 300);
      const enc = new BlockEncoder((inputs[0] as RecordedInput).at, 16);
      for (const input of inputs) enc.append(input);
      expect(decode(enc), `seed ${seed}`).toEqual(inputs);
      const from = (inputs[50] as RecordedInput).at;
      const to = (inputs[250] as RecordedInput).at;
      expect(decode(enc, from, to)).toEqual(inputs.filter((i) => i.at >= from && i.at < to));
    }
  });

  it('refuses a truncated block instead of inventing inputs', () => {
    const enc = new BlockEncoder(0);
    for (const input of stream(3, 20)) enc.append({ ...input, at: Math.max(input.at, 0) });
    const out: RecordedInput[] = [];
    expect(() => decodeBlock(enc.bytes().slice(0, 20), 0, enc.count, -1, 8.64e15, out)).toThrow(
      BlockCorrupt,
    );
  });

  it('refuses an impossible calendar date in an import line', () => {
    expect(parseLine('{"device_id":"m","at":"2026-02-30T00:00:00Z","kind":"alive"}')).toEqual({
      errors: ['at is not a valid time (got "2026-02-30T00:00:00Z")'],
    });
    expect(parseLine('{"device_id":"m","at":"2024-02-29T00:00:00+01:00","kind":"alive"}')).toEqual({
      deviceId: 'm',
      input: { at: Date.UTC(2024, 1, 28, 23), kind: 'alive' },
    });
  });
});
