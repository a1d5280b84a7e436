/**
 * Flapping around the standby threshold (issue 18, README "Calibration"): the runs of readings at or
 * above it and below it, as the session machine would see them. Two kinds of short run matter:
 *
 * - a **burst**: above the threshold for at most SHORT_RUN_S without ever reaching the working
 *   threshold (a chiller, a compressor, a fan, the meter's noise). The start debounce must outlast
 *   it, or each one is a phantom session;
 * - a **dip**: below the threshold for at most SHORT_RUN_S between two runs above it that both
 *   reached the working threshold (a pause between two cuts). The stop debounce must outlast it, or
 *   the job is split into sessions.
 *
 * A run's duration is from its first reading to the first reading of the next run (how long the
 * machine would have been in that state); a gap past `message_timeout_s` ends the run (offline).
 */
import type { Samples } from './samples.ts';

/** Runs longer than this are real states (a machine switched on, a pause), not flapping. */
export const SHORT_RUN_S = 300;

export interface Flapping {
  /** Durations (s) of the bursts. */
  bursts: number[];
  /** Durations (s) of the dips inside work. */
  dips: number[];
  /** Durations (s) of the quiet gaps right after a burst (below the threshold until the next run). */
  afterBursts: number[];
}

interface Run {
  above: boolean;
  startMs: number;
  endMs: number;
  peak: number;
  /** Ended by silence (a gap past the timeout) rather than by the next run. */
  cut: boolean;
}

export function flappingOf(
  samples: Samples,
  standbyW: number,
  workingW: number,
  messageTimeoutS: number,
): Flapping {
  const runs = runsOf(samples, standbyW, messageTimeoutS * 1000);
  const bursts: number[] = [];
  const dips: number[] = [];
  const afterBursts: number[] = [];
  runs.forEach((run, i) => {
    const s = (run.endMs - run.startMs) / 1000;
    const before = runs[i - 1];
    const after = runs[i + 1];
    if (run.above && !run.cut && s <= SHORT_RUN_S && run.peak < workingW) {
      bursts.push(s);
      if (after && !after.cut && runs[i + 2])
        afterBursts.push((after.endMs - after.startMs) / 1000);
    }
    const inWork = before && after && before.peak >= workingW && after.peak >= workingW;
    if (!run.above && !run.cut && s <= SHORT_RUN_S && inWork && !before.cut) dips.push(s);
  });
  return { bursts, dips, afterBursts };
}

function runsOf(samples: Samples, standbyW: number, timeoutMs: number): Run[] {
  const runs: Run[] = [];
  let run: Run | null = null;
  for (let i = 0; i < samples.count; i++) {
    const t = samples.at[i] as number;
    const p = samples.power[i] as number;
    const above = p >= standbyW;
    if (run && t - run.endMs > timeoutMs) {
      run.cut = true;
      runs.push(run);
      run = null;
    }
    if (run && run.above !== above) {
      run.endMs = t;
      runs.push(run);
      run = null;
    }
    if (!run) run = { above, startMs: t, endMs: t, peak: p, cut: false };
    else {
      run.endMs = t;
      if (p > run.peak) run.peak = p;
    }
  }
  if (run) {
    // The last run has no successor: its length is unknown, so it never counts as short.
    run.cut = true;
    runs.push(run);
  }
  return runs;
}
