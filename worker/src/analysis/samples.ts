/**
 * The readings of a recorded range as flat arrays, each with the time it held: a reading counts
 * until the next reading, at most `message_timeout_s` (past it the worker would have called the
 * meter silent) and never past the end of the range, nor past an `{online:false}` from the meter.
 * Histogram, levels and flapping all work on this one view.
 */
import type { RecordedInput } from '../recording/types.ts';

export interface Samples {
  readonly count: number;
  /** Epoch ms of each reading, oldest first. */
  readonly at: Float64Array;
  readonly power: Float64Array;
  /** Seconds each reading held (see above). */
  readonly heldS: Float64Array;
  readonly totalS: number;
  readonly maxW: number;
  /** Median gap between consecutive readings (s), null with fewer than 2 readings. */
  readonly typicalIntervalS: number | null;
  /** 99th percentile of the gaps (s), null with fewer than 2 readings. */
  readonly longGapS: number | null;
}

/** Builds the samples from inputs already limited to the range (oldest first). */
export function samplesOf(
  inputs: readonly RecordedInput[],
  toMs: number,
  messageTimeoutS: number,
): Samples {
  let n = 0;
  for (const input of inputs) if (input.kind === 'reading') n++;
  const at = new Float64Array(n);
  const power = new Float64Array(n);
  const heldS = new Float64Array(n);
  const capMs = messageTimeoutS * 1000;
  let i = 0;
  let maxW = 0;
  let totalS = 0;
  const close = (until: number) => {
    if (i === 0) return;
    const last = i - 1;
    if (heldS[last] !== -1) return;
    const held = Math.min(Math.max(0, until - (at[last] as number)), capMs) / 1000;
    heldS[last] = held;
    totalS += held;
  };
  for (const input of inputs) {
    if (input.kind === 'availability' && !input.online) close(input.at);
    if (input.kind !== 'reading') continue;
    close(input.at);
    at[i] = input.at;
    power[i] = input.power_w;
    heldS[i] = -1;
    if (input.power_w > maxW) maxW = input.power_w;
    i++;
  }
  close(toMs);
  const gaps = gapStats(at);
  return { count: n, at, power, heldS, totalS, maxW, ...gaps };
}

function gapStats(at: Float64Array): { typicalIntervalS: number | null; longGapS: number | null } {
  if (at.length < 2) return { typicalIntervalS: null, longGapS: null };
  const gaps = new Float64Array(at.length - 1);
  for (let k = 1; k < at.length; k++)
    gaps[k - 1] = ((at[k] as number) - (at[k - 1] as number)) / 1000;
  gaps.sort();
  const q = (f: number) => gaps[Math.min(gaps.length - 1, Math.floor(f * gaps.length))] as number;
  return { typicalIntervalS: q(0.5), longGapS: q(0.99) };
}
