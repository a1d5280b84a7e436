/**
 * The power histogram of a recorded range (issue 18): log-spaced bins, the first from 0 W to 1 W
 * (a machine that is off reads 0-1 W, noise included), then `bins - 1` bins evenly spaced in
 * log10(power) from 1 W to just above the highest reading. Each bin counts its readings and the
 * time they held (samples.ts).
 */
import type { HistogramBin } from '@workshop-iot/shared';
import type { Samples } from './samples.ts';

export const DEFAULT_BINS = 40;
/** Upper edge of the first bin. */
const FIRST_EDGE_W = 1;

export function histogram(samples: Samples, bins = DEFAULT_BINS): HistogramBin[] {
  if (samples.count === 0) return [];
  // Just above the highest reading (it belongs in the last bin, whose upper edge is exclusive), and
  // at least one decade so a machine that never leaves 1-2 W still gets readable bins.
  const top = Math.max(samples.maxW * 1.001, 10 * FIRST_EDGE_W);
  const logTop = Math.log10(top / FIRST_EDGE_W);
  const edges = [0];
  for (let k = 0; k < bins; k++) edges.push(FIRST_EDGE_W * 10 ** ((logTop * k) / (bins - 1)));
  const count = new Array<number>(bins).fill(0);
  const seconds = new Array<number>(bins).fill(0);
  const scale = (bins - 1) / logTop;
  for (let i = 0; i < samples.count; i++) {
    const p = samples.power[i] as number;
    const k =
      p < FIRST_EDGE_W
        ? 0
        : Math.min(bins - 1, 1 + Math.floor(Math.log10(p / FIRST_EDGE_W) * scale));
    count[k] = (count[k] as number) + 1;
    seconds[k] = (seconds[k] as number) + (samples.heldS[i] as number);
  }
  return count.map((c, k) => ({
    from_w: round4(edges[k] as number),
    to_w: round4(edges[k + 1] as number),
    count: c,
    seconds: Math.round((seconds[k] as number) * 1000) / 1000,
  }));
}

/** Four significant digits: edges stay distinct (bins are at least 0.5 % apart) and readable. */
function round4(w: number): number {
  return w === 0 ? 0 : Number(w.toPrecision(4));
}
