/**
 * The recording's block encoding (docs: README "Recording"): one machine's inputs, oldest first,
 * packed into a byte string. A block is decodable on its own (every delta starts from zero), so the
 * store can drop whole old blocks and read any block without its neighbours.
 *
 * One entry = a tag byte, then the time, then the reading's values:
 *   tag bits 0-1  kind: 0 reading, 1 availability offline, 2 availability online, 3 alive
 *   tag bits 2-3  power (reading): 0 same as the previous reading's, 1 centiwatts as a zigzag varint
 *                 delta from the last centiwatt value, 2 float64 (more than two decimals)
 *   tag bits 4-5  energy (reading): 0 none (null), 1 same as the previous reading's, 2 milliwatt
 *                 hours as a zigzag varint delta from the last such value, 3 float64
 *   time          zigzag varint of (this gap - previous gap) in ms: a meter reporting every second
 *                 costs one byte, jitter and all
 * Values are exact: a decimal value goes through the integer path only when it comes back equal
 * (`Math.round(v * 100) / 100 === v`), anything else is stored as float64. A 1 Hz machine at work
 * takes about 4-6 bytes per reading, an idle one 2 (figures: README "Recording").
 */
import type { RecordedInput } from './types.ts';

/** The most one entry can take: tag + three varints/float64s of at most 9 bytes. */
const MAX_ENTRY_BYTES = 28;
/** Beyond this the integer paths would lose precision (2^53 / 4: zigzag and deltas double it). */
const MAX_SCALED = 2 ** 50;

const KIND_READING = 0;
const KIND_OFFLINE = 1;
const KIND_ONLINE = 2;
const KIND_ALIVE = 3;
const POWER_SAME = 0;
const POWER_CENTI = 1;
const POWER_F64 = 2;
const ENERGY_NULL = 0;
const ENERGY_SAME = 1;
const ENERGY_MILLI = 2;
const ENERGY_F64 = 3;

/** Appends inputs of one machine to a growing block. Times must not go backwards (the store clamps). */
export class BlockEncoder {
  readonly firstAt: number;
  lastAt: number;
  count = 0;
  length = 0;
  #buf: Uint8Array;
  #view: DataView;
  #prevGap = 0;
  #prevPower = 0;
  #prevCenti = 0;
  #prevEnergy: number | null = null;
  #prevMilli = 0;

  constructor(firstAt: number, capacity = 256) {
    this.firstAt = firstAt;
    this.lastAt = firstAt;
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  append(input: RecordedInput): void {
    if (this.#buf.length - this.length < MAX_ENTRY_BYTES) this.#grow();
    const tagAt = this.length++;
    const gap = input.at - this.lastAt;
    this.#zigzag(gap - this.#prevGap);
    this.#prevGap = gap;
    this.lastAt = input.at;
    this.count++;
    let tag: number;
    if (input.kind === 'reading')
      tag = KIND_READING | this.#power(input.power_w) | this.#energy(input.energy_wh);
    else if (input.kind === 'availability') tag = input.online ? KIND_ONLINE : KIND_OFFLINE;
    else tag = KIND_ALIVE;
    (this.#buf as Uint8Array)[tagAt] = tag;
  }

  /** A copy of the encoded bytes (the store writes it; the encoder keeps growing). */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }

  #power(p: number): number {
    if (p === this.#prevPower) return POWER_SAME << 2;
    this.#prevPower = p;
    const centi = Math.round(p * 100);
    if (centi / 100 === p && Math.abs(centi) <= MAX_SCALED) {
      this.#zigzag(centi - this.#prevCenti);
      this.#prevCenti = centi;
      return POWER_CENTI << 2;
    }
    this.#float64(p);
    return POWER_F64 << 2;
  }

  #energy(e: number | null): number {
    if (e === null) {
      this.#prevEnergy = null;
      return ENERGY_NULL << 4;
    }
    if (e === this.#prevEnergy) return ENERGY_SAME << 4;
    this.#prevEnergy = e;
    const milli = Math.round(e * 1000);
    if (milli / 1000 === e && Math.abs(milli) <= MAX_SCALED) {
      this.#zigzag(milli - this.#prevMilli);
      this.#prevMilli = milli;
      return ENERGY_MILLI << 4;
    }
    this.#float64(e);
    return ENERGY_F64 << 4;
  }

  #zigzag(n: number): void {
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    const buf = this.#buf;
    while (z >= 128) {
      buf[this.length++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    buf[this.length++] = z;
  }

  #float64(v: number): void {
    this.#view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  #grow(): void {
    const next = new Uint8Array(this.#buf.length * 2);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/** Thrown for a block that does not decode (a damaged file): the reader skips it and says so. */
export class BlockCorrupt extends Error {}

/**
 * Decodes a block's inputs with `from <= at < to`, oldest first, onto `out`. The analysis of a week
 * at 1 Hz pulls 604,800 inputs through here: one tight loop, no generator per entry (the reader
 * yields from `out`, one generator level in all).
 */
export function decodeBlock(
  data: Uint8Array,
  firstAt: number,
  count: number,
  from: number,
  to: number,
  out: RecordedInput[],
): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.length;
  let pos = 0;
  let at = firstAt;
  let gap = 0;
  let power = 0;
  let centi = 0;
  let energy: number | null = null;
  let milli = 0;
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw new BlockCorrupt(`block ends after ${i} of ${count} inputs`);
    const tag = data[pos++] as number;
    // Zigzag varints, inlined: this loop is the decode throughput.
    let b = data[pos++] as number;
    let z = b & 127;
    for (let mult = 128; b >= 128; mult *= 128) {
      b = data[pos++] as number;
      z += (b & 127) * mult;
    }
    gap += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    at += gap;
    const kind = tag & 3;
    if (kind === KIND_READING) {
      const pm = (tag >> 2) & 3;
      if (pm === POWER_CENTI) {
        b = data[pos++] as number;
        z = b & 127;
        for (let mult = 128; b >= 128; mult *= 128) {
          b = data[pos++] as number;
          z += (b & 127) * mult;
        }
        centi += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        power = centi / 100;
      } else if (pm === POWER_F64) {
        if (pos + 8 > end) throw new BlockCorrupt(`block overruns its ${end} bytes`);
        power = view.getFloat64(pos, true);
        pos += 8;
      }
      const em = (tag >> 4) & 3;
      if (em === ENERGY_NULL) energy = null;
      else if (em === ENERGY_MILLI) {
        b = data[pos++] as number;
        z = b & 127;
        for (let mult = 128; b >= 128; mult *= 128) {
          b = data[pos++] as number;
          z += (b & 127) * mult;
        }
        milli += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        energy = milli / 1000;
      } else if (em === ENERGY_F64) {
        if (pos + 8 > end) throw new BlockCorrupt(`block overruns its ${end} bytes`);
        energy = view.getFloat64(pos, true);
        pos += 8;
      }
    }
    if (pos > end) throw new BlockCorrupt(`block overruns its ${end} bytes`);
    if (at >= to) return;
    if (at < from) continue;
    if (kind === KIND_READING) out.push({ at, kind: 'reading', power_w: power, energy_wh: energy });
    else if (kind === KIND_ALIVE) out.push({ at, kind: 'alive' });
    else out.push({ at, kind: 'availability', online: kind === KIND_ONLINE });
  }
}
