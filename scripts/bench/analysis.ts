/**
 * Calibration analysis of one machine's week (issue 18): `npx tsx scripts/bench/analysis.ts`.
 *
 * 7 days of 1 Hz readings (604,800) of a realistic profile (scripts/sim/power-profiles.ts: off 2 W,
 * standby 12 W, working 300 W with 3 % noise, six jobs a day with pauses) in an in-memory recording;
 * `runAnalysis` as `analysis.run` calls it: read the range, histogram, levels, proposal and two
 * replays through the worker's DeviceRegistry and session machine. Side by side in the same process,
 * a bare loop over the same readings (summing their power): the ratio says what the analysis costs
 * per reading compared with merely touching it. The first run is cold (nothing compiled yet, as for
 * the first `analysis.run` after a start); then RUNS warm runs, median reported. Wall and CPU time
 * both: on a shared machine the wall time includes waiting for a core.
 * Target: the first (cold) analysis under 2 s.
 */
import { runAnalysis } from '../../worker/src/analysis/analyse.ts';
import { MemoryRecording } from '../../worker/src/analysis/memory-recording.ts';
import { generateProfile } from '../sim/power-profiles.ts';
import { printResult } from './result.ts';

const DAYS = 7;
const RUNS = 5;
const START = Date.UTC(2026, 10, 30);
const DEVICE = {
  device_id: 'laser-1',
  name: 'Laser',
  parser_type: 'shelly_gen2' as const,
  topic: 'laser-1',
  session_config: {
    standby_threshold_w: 5,
    working_threshold_w: 60,
    start_debounce_s: 10,
    stop_debounce_s: 30,
    message_timeout_s: 300,
    heartbeat_interval_s: 60,
  },
};

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function timed(fn: () => unknown): Timing & { value: unknown } {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (c.user + c.system) / 1000, value };
}

function main(): void {
  const { inputs } = generateProfile({
    start: START,
    days: DAYS,
    interval_s: 1,
    seed: 2026,
    off_w: 2,
    standby_w: 12,
    working_w: 300,
    noise: 0.03,
    jobs_per_day: 6,
    dip_max_s: 40,
  });
  const recording = new MemoryRecording();
  recording.add(DEVICE.device_id, inputs);
  const analyse = () =>
    runAnalysis(recording, { device: DEVICE, fromMs: START, toMs: START + DAYS * 86_400_000 });
  const bare = () => {
    let sum = 0;
    for (const input of recording.inputs(DEVICE.device_id, START, START + DAYS * 86_400_000))
      if (input.kind === 'reading') sum += input.power_w;
    return sum;
  };
  const rows: { analysis: Timing; bare: Timing }[] = [];
  let sessions = '';
  for (let i = 0; i <= RUNS; i++) {
    const a = timed(analyse);
    const b = timed(bare);
    rows.push({ analysis: a, bare: b });
    const r = a.value as ReturnType<typeof runAnalysis>;
    sessions = `${r.current.sessions.length} sessions current, ${r.proposed.sessions.length} proposed; proposal ${JSON.stringify(r.proposed_config)}`;
    console.error(
      `${i === 0 ? 'cold' : `warm ${i}`}: analysis ${a.wallMs.toFixed(0)} ms (CPU ${a.cpuMs.toFixed(0)}), bare loop ${b.wallMs.toFixed(1)} ms (CPU ${b.cpuMs.toFixed(1)}), ratio ${(a.wallMs / b.wallMs).toFixed(0)}`,
    );
  }
  const cold = rows[0] as { analysis: Timing; bare: Timing };
  const warm = rows.slice(1);
  const median = (xs: number[]) =>
    [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  const warmA = median(warm.map((r) => r.analysis.wallMs));
  const warmCpu = median(warm.map((r) => r.analysis.cpuMs));
  const warmB = median(warm.map((r) => r.bare.wallMs));
  printResult({
    bench: 'analysis',
    metrics: [
      {
        name: `analysis of ${inputs.length} readings (7 days at 1 Hz), cold`,
        value: round(cold.analysis.wallMs),
        unit: 'ms',
        target: '< 2000',
      },
      {
        name: 'the same, CPU time, cold',
        value: round(cold.analysis.cpuMs),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: `analysis, warm (median of ${RUNS})`,
        value: round(warmA),
        unit: 'ms',
        better: 'lower',
      },
      { name: 'the same, CPU time, warm', value: round(warmCpu), unit: 'ms', better: 'lower' },
      {
        name: 'bare loop over the same readings, warm',
        value: round(warmB, 10),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'ratio analysis / bare loop, warm',
        value: round(warmA / warmB),
        unit: 'x',
        better: 'lower',
      },
    ],
    notes: [sessions],
  });
}

const round = (x: number, f = 1) => Math.round(x * f) / f;

main();
