/**
 * The power levels of a machine (issue 18, README "Calibration"): where its time-weighted
 * log-power histogram has peaks separated by clear valleys.
 *
 * 1. Every reading goes into a fine grid over log10(power) (0.01 decade, ~2.3 % per bin), weighted
 *    by the time it held; readings below FLOOR_W count as FLOOR_W (a machine that is off).
 * 2. The grid is smoothed with a Gaussian of 0.05 decade (~12 %), so meter noise makes one hump.
 * 3. Every local maximum starts a level; between two neighbours the valley is the lowest point.
 *    Neighbours merge while their valley is above VALLEY_RATIO of the lower peak (one level with a
 *    shoulder, not two), then any level holding less than MIN_SHARE of the time merges into the
 *    neighbour it is least separated from (transitions, spikes). At most MAX_LEVELS remain.
 * 4. Each level reports the time-weighted median (`center_w`) and its 1st / 99th percentiles
 *    (`low_w`, `high_w`) from the raw readings of its grid bins, and its share of the time.
 */
import type { Samples } from './samples.ts';

export const FLOOR_W = 0.5;
const STEP_DEC = 0.01;
const SIGMA_DEC = 0.05;
export const VALLEY_RATIO = 0.5;
export const MIN_SHARE = 0.005;
const MAX_LEVELS = 8;

export interface Level {
  center_w: number;
  low_w: number;
  high_w: number;
  share: number;
}

interface Grid {
  weight: Float64Array;
  /** Lowest / highest raw power seen in each bin (for exact-ish percentiles). */
  min: Float64Array;
  max: Float64Array;
  total: number;
}

export function findLevels(samples: Samples): Level[] {
  if (samples.count === 0 || samples.totalS <= 0) return [];
  const grid = gridOf(samples);
  const smooth = smoothed(grid.weight);
  // Level = [first bin, last bin] of the grid, its peak bin.
  let levels = peaksOf(smooth);
  levels = mergeShallow(levels, smooth);
  levels = mergeSmall(levels, smooth, grid);
  while (levels.length > MAX_LEVELS) levels = mergeAt(levels, leastSeparated(levels, smooth));
  return levels.map((l) => levelStats(grid, l.first, l.last));
}

const binOf = (w: number) =>
  Math.floor((Math.log10(Math.max(w, FLOOR_W)) - Math.log10(FLOOR_W)) / STEP_DEC);

function gridOf(samples: Samples): Grid {
  const bins = binOf(samples.maxW) + 1;
  const weight = new Float64Array(bins);
  const min = new Float64Array(bins).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(bins).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < samples.count; i++) {
    const w = samples.power[i] as number;
    const k = binOf(w);
    weight[k] = (weight[k] as number) + (samples.heldS[i] as number);
    if (w < (min[k] as number)) min[k] = w;
    if (w > (max[k] as number)) max[k] = w;
  }
  return { weight, min, max, total: samples.totalS };
}

function smoothed(weight: Float64Array): Float64Array {
  const sigma = SIGMA_DEC / STEP_DEC;
  const reach = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * reach + 1 }, (_, j) =>
    Math.exp(-(((j - reach) / sigma) ** 2) / 2),
  );
  const out = new Float64Array(weight.length);
  for (let k = 0; k < weight.length; k++) {
    const w = weight[k] as number;
    if (w === 0) continue;
    for (let j = -reach; j <= reach; j++) {
      const t = k + j;
      if (t >= 0 && t < out.length) out[t] = (out[t] as number) + w * (kernel[j + reach] as number);
    }
  }
  return out;
}

interface Span {
  first: number;
  last: number;
  peak: number;
}

/** One span per local maximum, split at the lowest point between neighbouring maxima. */
function peaksOf(s: Float64Array): Span[] {
  const peaks: number[] = [];
  for (let k = 0; k < s.length; k++) {
    const v = s[k] as number;
    if (
      v > 0 &&
      (k === 0 || v > (s[k - 1] as number)) &&
      (k === s.length - 1 || v >= (s[k + 1] as number))
    )
      peaks.push(k);
  }
  const spans: Span[] = [];
  let first = 0;
  peaks.forEach((peak, i) => {
    const next = peaks[i + 1];
    const last = next === undefined ? s.length - 1 : argMin(s, peak, next) - 1;
    spans.push({ first, last, peak });
    first = last + 1;
  });
  return spans;
}

function argMin(s: Float64Array, from: number, to: number): number {
  let best = from;
  for (let k = from; k <= to; k++) if ((s[k] as number) < (s[best] as number)) best = k;
  return best;
}

/** The valley between span i and i+1 relative to the lower of their peaks (1 = no valley). */
function separation(spans: Span[], s: Float64Array, i: number): number {
  const a = spans[i] as Span;
  const b = spans[i + 1] as Span;
  const valley = s[argMin(s, a.peak, b.peak)] as number;
  return valley / Math.min(s[a.peak] as number, s[b.peak] as number);
}

function mergeAt(spans: Span[], i: number, s?: Float64Array): Span[] {
  const a = spans[i] as Span;
  const b = spans[i + 1] as Span;
  const peak = s && (s[b.peak] as number) > (s[a.peak] as number) ? b.peak : a.peak;
  return [...spans.slice(0, i), { first: a.first, last: b.last, peak }, ...spans.slice(i + 2)];
}

function leastSeparated(spans: Span[], s: Float64Array): number {
  let best = 0;
  for (let i = 1; i < spans.length - 1; i++)
    if (separation(spans, s, i) > separation(spans, s, best)) best = i;
  return best;
}

function mergeShallow(spans: Span[], s: Float64Array): Span[] {
  let out = spans;
  for (;;) {
    if (out.length < 2) return out;
    const i = leastSeparated(out, s);
    if (separation(out, s, i) <= VALLEY_RATIO) return out;
    out = mergeAt(out, i, s);
  }
}

function mergeSmall(spans: Span[], s: Float64Array, grid: Grid): Span[] {
  let out = spans;
  for (;;) {
    if (out.length < 2) return out;
    const shares = out.map((l) => shareOf(grid, l.first, l.last));
    let smallest = 0;
    shares.forEach((v, i) => {
      if (v < (shares[smallest] as number)) smallest = i;
    });
    if ((shares[smallest] as number) >= MIN_SHARE) return out;
    // Into the neighbour it is least separated from.
    const left = smallest > 0 ? separation(out, s, smallest - 1) : -1;
    const right = smallest < out.length - 1 ? separation(out, s, smallest) : -1;
    const at = left >= right ? smallest - 1 : smallest;
    const bigger = (shares[at] as number) > (shares[at + 1] as number) ? at : at + 1;
    const merged = mergeAt(out, at);
    (merged[at] as Span).peak = (out[bigger] as Span).peak;
    out = merged;
  }
}

function shareOf(grid: Grid, first: number, last: number): number {
  let w = 0;
  for (let k = first; k <= last; k++) w += grid.weight[k] as number;
  return w / grid.total;
}

function levelStats(grid: Grid, first: number, last: number): Level {
  let total = 0;
  for (let k = first; k <= last; k++) total += grid.weight[k] as number;
  const quantile = (f: number): number => {
    const target = f * total;
    let acc = 0;
    let highest = 0;
    for (let k = first; k <= last; k++) {
      const w = grid.weight[k] as number;
      if (w === 0) continue;
      highest = grid.max[k] as number;
      if (acc + w >= target) {
        // Inside the bin: between its lowest and highest raw reading, by the weight left.
        const lo = grid.min[k] as number;
        const hi = grid.max[k] as number;
        return lo + (hi - lo) * Math.min(1, Math.max(0, (target - acc) / w));
      }
      acc += w;
    }
    return highest;
  };
  return {
    center_w: quantile(0.5),
    low_w: quantile(0.01),
    high_w: quantile(0.99),
    share: total / grid.total,
  };
}
