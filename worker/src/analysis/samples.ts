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
  // The previous reading still holds (no reading or {online:false} since): its end is not known yet.
  let open = false;
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k] as RecordedInput;
    const isReading = input.kind === 'reading';
    if (open && (isReading || (input.kind === 'availability' && !input.online))) {
      const held = Math.min(Math.max(0, input.at - (at[i - 1] as number)), capMs) / 1000;
      heldS[i - 1] = held;
      totalS += held;
      open = false;
    }
    if (!isReading) continue;
    at[i] = input.at;
    power[i] = input.power_w;
    if (input.power_w > maxW) maxW = input.power_w;
    open = true;
    i++;
  }
  if (open) {
    const held = Math.min(Math.max(0, toMs - (at[i - 1] as number)), capMs) / 1000;
    heldS[i - 1] = held;
    totalS += held;
  }
  const gaps = gapStats(at);
  return { count: n, at, power, heldS, totalS, maxW, ...gaps };
}

/**
 * Median and 99th percentile of the gaps, from a count per 10 ms step rather than a sort: a meter's
 * gaps take a handful of values, and sorting 604,800 of them was a tenth of a week's analysis.
 */
function gapStats(at: Float64Array): { typicalIntervalS: number | null; longGapS: number | null } {
  if (at.length < 2) return { typicalIntervalS: null, longGapS: null };
  const counts = new Map<number, number>();
  for (let k = 1; k < at.length; k++) {
    const step = Math.round(((at[k] as number) - (at[k - 1] as number)) / 10);
    counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  const steps = [...counts.keys()].sort((a, b) => a - b);
  const q = (f: number) => {
    const target = Math.floor(f * (at.length - 1));
    let seen = 0;
    for (const step of steps) {
      seen += counts.get(step) as number;
      if (seen > target) return step / 100;
    }
    return (steps[steps.length - 1] as number) / 100;
  };
  return { typicalIntervalS: q(0.5), longGapS: q(0.99) };
}
