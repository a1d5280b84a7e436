/**
 * `analysis.run` (issue 18): for one machine and a range of its recording, the power histogram, the
 * levels and a proposed `session_config` with its reasons, and the sessions the current and the
 * proposed (or the admin's candidate) settings would have produced — both replayed by the worker's
 * own session machine (replay.ts). An empty range is an answer (0 readings, current settings kept,
 * an explanation line), not an error.
 */
import type {
  AnalysisRunResult,
  DeviceConfig,
  ReplayResult,
  SessionConfig,
} from '@workshop-iot/shared';
import type { RecordedInput, RecordingReader } from '../recording/types.ts';
import { DEFAULT_BINS, histogram } from './histogram.ts';
import { findLevels } from './levels.ts';
import { propose } from './proposal.ts';
import { replay } from './replay.ts';
import { samplesOf } from './samples.ts';

/** The contract's bound on explanation lines. */
const MAX_EXPLANATION = 20;

export interface AnalysisRequest {
  device: DeviceConfig;
  fromMs: number;
  toMs: number;
  candidate?: SessionConfig;
  bins?: number;
}

export function runAnalysis(reader: RecordingReader, req: AnalysisRequest): AnalysisRunResult {
  const read = reader.inputs(req.device.device_id, req.fromMs, req.toMs);
  // Read once (an array already is one: no second copy of a week of inputs).
  const inputs = Array.isArray(read) ? (read as RecordedInput[]) : [...read];
  return analyseInputs(inputs, req);
}

/** The analysis of inputs already read (oldest first, inside the range). */
export function analyseInputs(inputs: RecordedInput[], req: AnalysisRequest): AnalysisRunResult {
  const current = req.device.session_config;
  const samples = samplesOf(inputs, req.toMs, current.message_timeout_s);
  const proposal = propose(samples, findLevels(samples), current);
  const range = { from: req.fromMs, to: req.toMs };
  const currentRun = replay(inputs, req.device, range, current);
  const proposedRun = replay(inputs, req.device, range, req.candidate ?? proposal.config);
  const explanation = [...proposal.explanation];
  if (samples.count === 0)
    explanation.unshift(
      'No recorded readings in this range (recording off for this machine, or nothing recorded yet): the current settings are kept.',
    );
  explanation.push(
    `Replayed through the worker's session machine: ${summary(currentRun)} with the current settings, ${summary(proposedRun)} with the ${req.candidate ? 'candidate' : 'proposed'} ones.`,
  );
  const first = samples.count > 0 ? (samples.at[0] as number) : null;
  const last = samples.count > 0 ? (samples.at[samples.count - 1] as number) : null;
  return {
    device_id: req.device.device_id,
    from: new Date(req.fromMs).toISOString(),
    to: new Date(req.toMs).toISOString(),
    readings: samples.count,
    first_reading_at: first === null ? null : new Date(first).toISOString(),
    last_reading_at: last === null ? null : new Date(last).toISOString(),
    histogram: histogram(samples, req.bins ?? DEFAULT_BINS),
    clusters: proposal.clusters,
    proposed_config: proposal.config,
    explanation: explanation.slice(0, MAX_EXPLANATION),
    current: currentRun,
    proposed: proposedRun,
  };
}

function summary(run: ReplayResult): string {
  const n = run.sessions.length + run.sessions_omitted;
  const open = run.sessions.filter((s) => s.reason === 'open').length;
  return `${n} session${n === 1 ? '' : 's'}${open > 0 ? ` (${open} still open at the end)` : ''}`;
}
