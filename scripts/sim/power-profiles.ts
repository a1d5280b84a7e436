/**
 * Synthetic recorded power profiles for the calibration tests and the analysis benchmark (issue 18):
 * a machine's readings over days, as the worker's recording holds them (`RecordedInput`), together
 * with the jobs that were really run, so a test can say which sessions a good calibration must find.
 *
 * A day: the machine sits at `off_w` (a laser's electronics, a saw's transformer) outside jobs. A job
 * is `standby_w` for a few minutes (switched on, not working; skipped when `standby_w` is null), then
 * `working_w` with short dips down to `off_w` (a pause between two cuts), then standby again, then off.
 * An optional chiller or compressor adds `chiller.w` for `chiller.burst_s` every `chiller.every_s`,
 * whatever the machine does. Power carries Gaussian noise (`noise`, relative). Seeded: no Math.random.
 */
import type { RecordedInput } from '../../worker/src/recording/types.ts';
import { seededRandom } from './random.ts';

export interface PowerProfile {
  /** Epoch ms of the first reading. */
  start: number;
  days: number;
  /** Seconds between readings (the meter's report interval). */
  interval_s: number;
  seed: number;
  off_w: number;
  standby_w: number | null;
  working_w: number;
  /** Relative standard deviation of the power noise (0.03 = 3 %). */
  noise: number;
  /** Jobs per day, between 08:00 and 18:00 of the profile's clock. */
  jobs_per_day: number;
  /** Dips down to `off_w` inside work: how long at most (s); 0 = none. */
  dip_max_s: number;
  chiller?: { w: number; every_s: number; burst_s: number };
}

export interface Job {
  /** First reading of the job (ms): where the machine left `off_w`. */
  startAt: number;
  /** First reading back at `off_w` after the job (ms). */
  endAt: number;
  /** Working time (s), without the dips. */
  workS: number;
}

export interface GeneratedProfile {
  inputs: RecordedInput[];
  jobs: Job[];
}

const DAY_S = 86_400;

/** Generates the readings (one every `interval_s`, cumulative energy counter included). */
export function generateProfile(p: PowerProfile): GeneratedProfile {
  const random = seededRandom(p.seed);
  const gauss = () => {
    // Box-Muller: a standard normal from two uniforms.
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const plan = planJobs(p, random);
  const level = new Float64Array(Math.ceil((p.days * DAY_S) / p.interval_s));
  level.fill(p.off_w);
  const jobs: Job[] = [];
  for (const job of plan) {
    const tick = (s: number) => Math.round(s / p.interval_s);
    const [a, b, c, d] = [job.on, job.workFrom, job.workTo, job.off].map(tick) as [
      number,
      number,
      number,
      number,
    ];
    for (let i = a; i < d && i < level.length; i++)
      level[i] = i >= b && i < c ? p.working_w : (p.standby_w ?? p.working_w);
    for (const dip of job.dips) {
      for (let i = tick(dip.at); i < tick(dip.at + dip.s) && i < c; i++) level[i] = p.off_w;
    }
    jobs.push({
      startAt: p.start + a * p.interval_s * 1000,
      endAt: p.start + d * p.interval_s * 1000,
      workS: (c - b) * p.interval_s - job.dips.reduce((sum, dip) => sum + dip.s, 0),
    });
  }
  const inputs: RecordedInput[] = [];
  let energy = 1000;
  const phase = Math.floor(random() * (p.chiller?.every_s ?? 1));
  for (let i = 0; i < level.length; i++) {
    const t = i * p.interval_s;
    let w = (level[i] as number) * (1 + p.noise * gauss());
    const ch = p.chiller;
    if (ch && (t + phase) % ch.every_s < ch.burst_s) w += ch.w * (1 + p.noise * gauss());
    w = Math.max(0, Math.round(w * 10) / 10);
    energy += (w * p.interval_s) / 3600;
    inputs.push({
      at: p.start + t * 1000,
      kind: 'reading',
      power_w: w,
      energy_wh: Math.round(energy * 1000) / 1000,
    });
  }
  return { inputs, jobs };
}

interface PlannedJob {
  on: number;
  workFrom: number;
  workTo: number;
  off: number;
  dips: { at: number; s: number }[];
}

/** Jobs in seconds from the start: spread over each day's 08:00-18:00, never overlapping. */
function planJobs(p: PowerProfile, random: () => number): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  const slot = (10 * 3600) / p.jobs_per_day;
  for (let day = 0; day < p.days; day++) {
    for (let j = 0; j < p.jobs_per_day; j++) {
      const on = day * DAY_S + 8 * 3600 + j * slot + Math.floor(random() * slot * 0.2);
      const lead = p.standby_w === null ? 0 : 120 + Math.floor(random() * 480);
      const work = Math.floor(slot * (0.3 + random() * 0.3));
      const tail = p.standby_w === null ? 0 : 120 + Math.floor(random() * 480);
      const workFrom = on + lead;
      const workTo = workFrom + work;
      const dips: { at: number; s: number }[] = [];
      if (p.dip_max_s > 0) {
        for (let at = workFrom + 300; at < workTo - 300; at += 300 + Math.floor(random() * 600))
          dips.push({ at, s: Math.max(2, Math.floor(random() * p.dip_max_s)) });
      }
      jobs.push({ on, workFrom, workTo, off: workTo + tail, dips });
    }
  }
  return jobs;
}
