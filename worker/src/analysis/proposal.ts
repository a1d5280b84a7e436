/**
 * The proposed `session_config` (issue 18, README "Calibration") from the levels (levels.ts) and
 * the flapping (flapping.ts), with one explanation line per decision.
 *
 * Roles: the lowest level is `off`, the highest `working`, any between `standby`. With exactly two
 * levels the lower one is taken as off: a machine never seen lower than it idles there (a session
 * that never ends is the worse mistake). With one level or none, the thresholds stay as they are.
 *
 * Thresholds sit at the geometric midpoint between the upper edge (99th percentile) of the level
 * below and the lower edge (1st percentile) of the level above, rounded to two significant digits
 * when that keeps them inside the gap: the same ratio of margin to both levels, as meter noise is
 * relative. The standby threshold separates off from the next level; the working threshold the
 * highest non-working level from working (with two levels: midway between the standby threshold and
 * the working level).
 *
 * Debounces: 1.5 x the 90th percentile of the bursts (start) and of the dips inside work (stop),
 * rounded up to 5 s; the stop debounce stays below half the usual quiet gap after a burst (else a
 * burst would keep a finished session alive). Never below two report intervals (one stray reading
 * must not decide); without bursts or dips the current value is kept. Timeout and heartbeat stay.
 */
import type { PowerCluster, SessionConfig } from '@workshop-iot/shared';
import { type Flapping, flappingOf } from './flapping.ts';
import { FLOOR_W, type Level } from './levels.ts';
import type { Samples } from './samples.ts';

/** Fewer readings than this, or a shorter range, and the proposal says it is unreliable. */
export const MIN_READINGS = 500;
export const MIN_SPAN_S = 6 * 3600;
/** Margin (ratio threshold / level edge) under which two levels are too close to tell apart. */
const TIGHT_MARGIN = 1.15;
const MAX_DEBOUNCE_S = 3600;

export interface Proposal {
  clusters: PowerCluster[];
  config: SessionConfig;
  explanation: string[];
}

export function propose(samples: Samples, levels: Level[], current: SessionConfig): Proposal {
  const explanation: string[] = [];
  const clusters = levels.map((l, i) => clusterOf(l, roleOf(i, levels.length)));
  if (samples.count < MIN_READINGS || samples.totalS < MIN_SPAN_S)
    explanation.push(
      `Warning: only ${samples.count} readings over ${hours(samples.totalS)} h: too few for a reliable proposal (record at least ${MIN_READINGS} readings over ${MIN_SPAN_S / 3600} h of typical use).`,
    );
  const config = { ...current, ...thresholds(levels, current, explanation) };
  Object.assign(config, debounces(samples, config, current, explanation));
  explanation.push(
    `message_timeout_s ${current.message_timeout_s} and heartbeat_interval_s ${current.heartbeat_interval_s} kept (they are not a matter of the power profile).`,
  );
  if (samples.longGapS !== null && samples.longGapS > current.message_timeout_s / 2)
    explanation.push(
      `Warning: 1 % of the gaps between readings are ${round(samples.longGapS)} s or longer, more than half of message_timeout_s (${current.message_timeout_s} s): the meter may be taken offline between reports.`,
    );
  return { clusters, config, explanation };
}

function roleOf(i: number, n: number): PowerCluster['role'] {
  if (i === 0 && n > 1) return 'off';
  if (i === n - 1) return 'working';
  return 'standby';
}

function clusterOf(l: Level, role: PowerCluster['role']): PowerCluster {
  return {
    role,
    center_w: round(l.center_w),
    low_w: round(l.low_w),
    high_w: round(l.high_w),
    share: Math.min(1, Math.round(l.share * 10_000) / 10_000),
  };
}

function thresholds(
  levels: Level[],
  current: SessionConfig,
  explanation: string[],
): Pick<SessionConfig, 'standby_threshold_w' | 'working_threshold_w'> {
  const described = levels.map((l) => `${round(l.center_w)} W (${pct(l.share)} of the time)`);
  if (levels.length < 2) {
    explanation.push(
      `${levels.length === 0 ? 'No power level' : `One power level only (${described[0]})`}: thresholds kept at ${current.standby_threshold_w} / ${current.working_threshold_w} W.`,
    );
    return {
      standby_threshold_w: current.standby_threshold_w,
      working_threshold_w: current.working_threshold_w,
    };
  }
  explanation.push(
    `Power levels (peaks of the time-weighted log-power histogram): ${described.join(', ')}; lowest = off, highest = working${levels.length > 2 ? ', between = standby' : ' (two levels: the lower one is off)'}.`,
  );
  const off = levels[0] as Level;
  const working = levels[levels.length - 1] as Level;
  const standby = between(off, levels[1] as Level, 'standby', explanation);
  const work =
    levels.length === 2
      ? between(
          { ...off, high_w: standby },
          working,
          'working',
          explanation,
          'the standby threshold',
        )
      : between(levels[levels.length - 2] as Level, working, 'working', explanation);
  return { standby_threshold_w: standby, working_threshold_w: Math.max(work, nextUp(standby)) };
}

/** The geometric midpoint of the gap between two levels, rounded when that stays in the gap. */
function between(
  lower: Level,
  upper: Level,
  name: string,
  explanation: string[],
  lowerLabel = `top of the ${round(lower.center_w)} W level`,
): number {
  const lo = Math.max(lower.high_w, FLOOR_W);
  const hi = upper.low_w;
  let t: number;
  if (lo < hi) {
    const mid = Math.sqrt(lo * hi);
    const nice = Number(mid.toPrecision(2));
    t = nice > lo && nice < hi ? nice : round(mid);
    const margin = Math.min(t / lo, hi / t);
    explanation.push(
      `${name}_threshold_w ${t} W: geometric midpoint between ${round(lo)} W (${lowerLabel}) and ${round(hi)} W (bottom of the ${round(upper.center_w)} W level), margin x${margin.toFixed(2)} to each.`,
    );
    if (margin < TIGHT_MARGIN)
      explanation.push(
        `Warning: the levels around ${name}_threshold_w are within ${pct(margin - 1)} of it; noise may cross it.`,
      );
  } else {
    t = round(Math.sqrt(Math.max(lower.center_w, FLOOR_W) * upper.center_w));
    explanation.push(
      `Warning: the ${round(lower.center_w)} W and ${round(upper.center_w)} W levels overlap; ${name}_threshold_w ${t} W is the geometric midpoint of their medians.`,
    );
  }
  return t;
}

function debounces(
  samples: Samples,
  config: SessionConfig,
  current: SessionConfig,
  explanation: string[],
): Pick<SessionConfig, 'start_debounce_s' | 'stop_debounce_s'> {
  const flap = flappingOf(
    samples,
    config.standby_threshold_w,
    config.working_threshold_w,
    current.message_timeout_s,
  );
  const floor = samples.typicalIntervalS === null ? 0 : ceil5(2 * samples.typicalIntervalS);
  let start = startDebounce(flap, current, explanation);
  let stop = stopDebounce(flap, current, floor, explanation);
  if (start < floor || stop < floor) {
    start = Math.max(start, floor);
    stop = Math.max(stop, floor);
    explanation.push(
      `Debounces at least ${floor} s: two report intervals (the meter reports every ${round(samples.typicalIntervalS ?? 0)} s), so one stray reading cannot decide.`,
    );
  }
  return {
    start_debounce_s: Math.min(start, MAX_DEBOUNCE_S),
    stop_debounce_s: Math.min(stop, MAX_DEBOUNCE_S),
  };
}

function startDebounce(flap: Flapping, current: SessionConfig, explanation: string[]): number {
  if (flap.bursts.length < 3) {
    explanation.push(
      `start_debounce_s ${current.start_debounce_s} kept: ${flap.bursts.length} short bursts above the standby threshold (fewer than 3).`,
    );
    return current.start_debounce_s;
  }
  const p90 = quantile(flap.bursts, 0.9);
  const start = ceil5(1.5 * p90);
  explanation.push(
    `start_debounce_s ${start}: ${flap.bursts.length} short bursts above the standby threshold that never reached working (90 % last ${round(p90)} s or less), x1.5: a burst ends before a session would be announced.`,
  );
  return start;
}

function stopDebounce(
  flap: Flapping,
  current: SessionConfig,
  floor: number,
  explanation: string[],
): number {
  let stop = current.stop_debounce_s;
  if (flap.dips.length >= 1) {
    const p90 = quantile(flap.dips, 0.9);
    stop = ceil5(1.5 * p90);
    explanation.push(
      `stop_debounce_s ${stop}: ${flap.dips.length} short dips below the standby threshold inside work (90 % last ${round(p90)} s or less), x1.5: a pause does not split a job.`,
    );
  } else {
    explanation.push(`stop_debounce_s ${stop} kept: no short dips inside work.`);
  }
  if (flap.afterBursts.length >= 3) {
    const quiet = quantile(flap.afterBursts, 0.1);
    const cap = Math.floor(quiet / 2);
    if (stop > cap && cap >= floor) {
      stop = cap;
      explanation.push(
        `stop_debounce_s lowered to ${stop}: half the usual quiet time between bursts (${round(quiet)} s), so bursts cannot keep a finished session open.`,
      );
    }
  }
  return stop;
}

function quantile(values: number[], f: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] as number;
}

const ceil5 = (s: number) => Math.ceil(s / 5) * 5;
const nextUp = (w: number) => round(w * 1.01 + 0.01);
/** Power and seconds as shown: three significant digits, at most 0.01 resolution. */
const round = (x: number) => Math.round(Number(x.toPrecision(3)) * 100) / 100;
const pct = (f: number) => `${Math.round(f * 1000) / 10} %`;
const hours = (s: number) => Math.round((s / 3600) * 10) / 10;
