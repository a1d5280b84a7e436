/**
 * The calibration analysis (analysis.run's core) on recorded synthetic profiles: the levels it finds,
 * the thresholds and debounces it proposes, and the sessions the worker's own session machine
 * produces with them compared to the jobs really run — and to what today's settings produce.
 */
import { type AnalysisRunResult, validate } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { analyseInputs } from '../../src/analysis/analyse.ts';
import { MemoryRecording } from '../../src/analysis/memory-recording.ts';
import type { RecordedInput } from '../../src/recording/types.ts';
import {
  DAY_MS,
  generateProfile,
  IDLES_AT_12_W,
  LASER_WITH_CHILLER,
  machine,
  START_MS,
  WORKSHOP,
} from './profiles.ts';

const iso = (ms: number) => new Date(ms).toISOString();

function analyse(
  inputs: RecordedInput[],
  session: Parameters<typeof machine>[1],
  days: number,
  extra: { candidate?: AnalysisRunResult['proposed_config']; bins?: number } = {},
): AnalysisRunResult {
  const result = analyseInputs(inputs, {
    device: machine('m1', session),
    fromMs: START_MS,
    toMs: START_MS + days * DAY_MS,
    ...extra,
  });
  expect(validate('analysis_run_result', result)).toEqual([]);
  return result;
}

describe('calibration of an off 2 W / standby 12 W / working 300 W machine', () => {
  const { inputs, jobs } = generateProfile(WORKSHOP);
  const result = analyse(inputs, {}, WORKSHOP.days);

  it('finds the three levels with their roles', () => {
    expect(result.clusters.map((c) => c.role)).toEqual(['off', 'standby', 'working']);
    const centers = result.clusters.map((c) => c.center_w);
    expect(centers[0]).toBeCloseTo(2, 0);
    expect(centers[1]).toBeCloseTo(12, 0);
    expect(Math.abs((centers[2] as number) - 300)).toBeLessThan(10);
    expect(result.clusters.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 2);
  });

  it('proposes thresholds that separate the levels, clear of their edges', () => {
    const [off, standby, working] = result.clusters;
    const c = result.proposed_config;
    expect(c.standby_threshold_w).toBeGreaterThan(off?.high_w ?? Infinity);
    expect(c.standby_threshold_w).toBeLessThan(standby?.low_w ?? 0);
    expect(c.working_threshold_w).toBeGreaterThan(standby?.high_w ?? Infinity);
    expect(c.working_threshold_w).toBeLessThan(working?.low_w ?? 0);
    expect(c.standby_threshold_w).toBeGreaterThan(2);
    expect(c.standby_threshold_w).toBeLessThan(12);
    expect(c.working_threshold_w).toBeGreaterThan(12);
    expect(c.working_threshold_w).toBeLessThan(300);
  });

  it('sets the stop debounce above the pauses inside work and explains every value', () => {
    // Pauses last up to 40 s: 1.5 x their 90th percentile, rounded up to 5 s.
    expect(result.proposed_config.stop_debounce_s).toBeGreaterThanOrEqual(40);
    expect(result.proposed_config.stop_debounce_s).toBeLessThanOrEqual(60);
    for (const field of ['standby_threshold_w', 'working_threshold_w', 'stop_debounce_s'])
      expect(result.explanation.some((l) => l.startsWith(field))).toBe(true);
  });

  it('replays the proposal into exactly one session per job, from switch-on to switch-off', () => {
    expect(result.proposed.sessions).toEqual(
      jobs.map((job) =>
        expect.objectContaining({
          started_at: iso(job.startAt),
          ended_at: iso(job.endAt),
          reason: 'power_off',
        }),
      ),
    );
    for (const [i, s] of result.proposed.sessions.entries()) {
      const job = jobs[i];
      expect(s.total_s).toBe(((job?.endAt ?? 0) - (job?.startAt ?? 0)) / 1000);
      expect(s.working_s + s.standby_s).toBeLessThanOrEqual(s.total_s);
      expect(s.energy_wh).toBeGreaterThan(0);
    }
  });

  it("shows that today's 30 s stop debounce splits jobs at their pauses", () => {
    expect(result.current.sessions.length).toBeGreaterThan(jobs.length);
    expect(result.current.session_config).toEqual(machine('m1').session_config);
  });

  it('reports the time-weighted, log-spaced histogram', () => {
    const h = result.histogram;
    expect(h).toHaveLength(40);
    expect(h[0]).toMatchObject({ from_w: 0, to_w: 1 });
    for (let k = 1; k < h.length; k++) expect(h[k]?.from_w).toBe(h[k - 1]?.to_w);
    expect(h.reduce((s, b) => s + b.count, 0)).toBe(inputs.length);
    // Every reading holds until the next one (2 s); the last one until the end of the range.
    const seconds = h.reduce((s, b) => s + b.seconds, 0);
    expect(seconds).toBeCloseTo(WORKSHOP.days * 86_400, 0);
    const bin = (w: number) => h.find((b) => b.from_w <= w && w < b.to_w);
    expect(bin(2)?.seconds).toBeGreaterThan(bin(40)?.seconds ?? Infinity);
  });
});

describe('calibration of a laser with a cycling chiller', () => {
  const { inputs, jobs } = generateProfile(LASER_WITH_CHILLER);
  // Today: standby just above idle, so each chiller burst (120 W) crosses it and outlasts 10 s.
  const today = { standby_threshold_w: 30, working_threshold_w: 100 };
  const result = analyse(inputs, today, LASER_WITH_CHILLER.days);

  it("today's settings make a phantom session of every chiller burst", () => {
    const bursts = (LASER_WITH_CHILLER.days * 86_400) / 180;
    expect(result.current.sessions.length).toBeGreaterThan(bursts * 0.8);
  });

  it('proposes a start debounce longer than a burst and thresholds around the three levels', () => {
    const c = result.proposed_config;
    expect(c.start_debounce_s).toBeGreaterThan(20);
    expect(c.start_debounce_s).toBeLessThanOrEqual(60);
    expect(c.standby_threshold_w).toBeGreaterThan(16);
    expect(c.standby_threshold_w).toBeLessThan(110);
    expect(c.working_threshold_w).toBeGreaterThan(130);
    expect(c.working_threshold_w).toBeLessThan(800);
    // A stop debounce shorter than the quiet time between bursts: they cannot keep a job open.
    expect(c.stop_debounce_s).toBeLessThan(160);
  });

  it('replays the proposal into one session per job and no phantom session', () => {
    const sessions = result.proposed.sessions;
    expect(sessions).toHaveLength(jobs.length);
    sessions.forEach((s, i) => {
      const job = jobs[i];
      if (!job) throw new Error('more sessions than jobs');
      // A burst may run into the start or the end of the job: the session spans it.
      const started = Date.parse(s.started_at);
      const ended = Date.parse(s.ended_at ?? '');
      expect(started).toBeGreaterThanOrEqual(job.startAt - 21_000);
      expect(started).toBeLessThanOrEqual(job.startAt);
      expect(ended).toBeGreaterThanOrEqual(job.endAt);
      expect(ended).toBeLessThanOrEqual(job.endAt + 181_000);
      expect(s.reason).toBe('power_off');
    });
  });
});

describe('calibration of a machine that idles at 12 W', () => {
  const { inputs, jobs } = generateProfile(IDLES_AT_12_W);
  const result = analyse(inputs, { standby_threshold_w: 10, working_threshold_w: 100 }, 2);

  it('with a 10 W standby threshold the first session never ends', () => {
    expect(result.current.sessions).toHaveLength(1);
    expect(result.current.sessions[0]).toMatchObject({ ended_at: null, reason: 'open' });
  });

  it('takes 12 W as off and replays one session per job', () => {
    expect(result.clusters.map((c) => c.role)).toEqual(['off', 'working']);
    expect(result.proposed_config.standby_threshold_w).toBeGreaterThan(13);
    expect(result.proposed_config.working_threshold_w).toBeGreaterThan(
      result.proposed_config.standby_threshold_w,
    );
    expect(result.explanation).toContainEqual(
      expect.stringMatching(/^working_threshold_w .* W \(the standby threshold\) and /),
    );
    expect(result.proposed.sessions.map((s) => [s.started_at, s.ended_at])).toEqual(
      jobs.map((j) => [iso(j.startAt), iso(j.endAt)]),
    );
  });
});

describe('analysis edge cases', () => {
  it('answers an empty range with 0 readings, the current settings and a reason', () => {
    const result = analyse([], {}, 1);
    expect(result).toMatchObject({
      readings: 0,
      first_reading_at: null,
      last_reading_at: null,
      histogram: [],
      clusters: [],
      proposed_config: machine('m1').session_config,
    });
    expect(result.current.sessions).toEqual([]);
    expect(result.explanation[0]).toMatch(/No recorded readings/);
  });

  it('warns when the readings are too few', () => {
    const inputs: RecordedInput[] = Array.from({ length: 50 }, (_, i) => ({
      at: START_MS + i * 10_000,
      kind: 'reading',
      power_w: i % 10 < 5 ? 1 : 200,
      energy_wh: null,
    }));
    const result = analyse(inputs, {}, 1);
    expect(result.readings).toBe(50);
    expect(result.explanation.some((l) => /^Warning: only 50 readings/.test(l))).toBe(true);
  });

  it('replays a candidate as the proposed side when one is given', () => {
    const { inputs } = generateProfile({ ...WORKSHOP, days: 1 });
    const candidate = { ...machine('m1').session_config, stop_debounce_s: 600 };
    const result = analyse(inputs, {}, 1, { candidate, bins: 12 });
    expect(result.proposed.session_config).toEqual(candidate);
    expect(result.histogram).toHaveLength(12);
    expect(result.proposed_config).not.toEqual(candidate);
  });

  it('counts a reading for at most message_timeout_s in the histogram', () => {
    // 0.5 W for 10 s, then 100 W and 1,000 s of silence: 300 s (the timeout) count, not 1,000.
    const inputs: RecordedInput[] = [
      { at: START_MS, kind: 'reading', power_w: 0.5, energy_wh: null },
      { at: START_MS + 10_000, kind: 'reading', power_w: 100, energy_wh: null },
      { at: START_MS + 1_010_000, kind: 'availability', online: false },
    ];
    const h = analyse(inputs, {}, 1).histogram;
    expect(h[0]).toMatchObject({ from_w: 0, to_w: 1, count: 1, seconds: 10 });
    expect(h.find((b) => b.count === 1 && b.from_w > 0)).toMatchObject({ seconds: 300 });
    expect(h.at(-1)?.to_w).toBeGreaterThan(100);
  });

  it('reads a range from a recording: from inclusive, to exclusive', () => {
    const rec = new MemoryRecording();
    const at = [0, 1000, 2000, 3000].map((t) => START_MS + t);
    rec.add(
      'm1',
      at.map((t) => ({ at: t, kind: 'alive' as const })),
    );
    expect(rec.inputs('m1', START_MS + 1000, START_MS + 3000).map((i) => i.at)).toEqual([
      START_MS + 1000,
      START_MS + 2000,
    ]);
    expect(rec.inputs('other', 0, Infinity)).toEqual([]);
  });
});
