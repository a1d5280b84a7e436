/**
 * The control API's calibration method (issue 18, admin token only):
 *
 * - `analysis.run` {device_id, from, to, candidate?, bins?}: the analysis of the machine's recorded
 *   inputs in [from, to) (worker/src/analysis/analyse.ts): histogram, levels, a proposed
 *   `session_config`, and the sessions the current and the proposed (or `candidate`) settings would
 *   have produced, replayed by the worker's own session machine.
 *
 * Errors: params against the contract, `to` not after `from`, a candidate whose working threshold is
 * not above its standby threshold -> INVALID_PARAMS; a device not in the config -> DEVICE_NOT_FOUND;
 * no recording store -> RECORDING_UNAVAILABLE. An empty range (recording off for the machine, or
 * nothing recorded yet) is a result with `readings: 0` and an explanation line.
 *
 * Runs synchronously: a week of 1 Hz readings holds the event loop for about a second (README
 * "Calibration"); MQTT messages wait in the socket meanwhile, nothing is lost.
 */
import {
  type AnalysisRunParams,
  type AnalysisRunResult,
  type DeviceConfig,
  type FieldError,
  validate,
} from '@workshop-iot/shared';
import { runAnalysis } from '../analysis/analyse.ts';
import { WorkerError } from '../errors.ts';
import type { RecordingReader } from '../recording/types.ts';
import type { RpcDispatcher } from './rpc.ts';

export interface AnalysisSources {
  /** The configured devices (the current config). */
  devices: () => readonly DeviceConfig[];
  /** The recording store; null when this worker has none (RECORDING_UNAVAILABLE). */
  recording: RecordingReader | null;
}

export function registerAnalysisMethods(rpc: RpcDispatcher, sources: AnalysisSources): void {
  rpc.add('analysis.run', {
    scope: 'admin',
    handler: (params): AnalysisRunResult => {
      const p = checked(params);
      const device = sources.devices().find((d) => d.device_id === p.device_id);
      if (!device)
        throw new WorkerError(
          'DEVICE_NOT_FOUND',
          { device_id: p.device_id },
          { device_id: p.device_id },
        );
      const recording = sources.recording;
      if (!recording)
        throw new WorkerError(
          'RECORDING_UNAVAILABLE',
          { reason: 'no recording store is configured' },
          { reason: 'not_configured' },
        );
      return runAnalysis(recording, {
        device,
        fromMs: Date.parse(p.from),
        toMs: Date.parse(p.to),
        ...(p.candidate ? { candidate: p.candidate } : {}),
        ...(p.bins ? { bins: p.bins } : {}),
      });
    },
  });
}

function checked(params: unknown): AnalysisRunParams {
  const errors = validate('analysis_run_params', params ?? {});
  if (errors.length === 0) {
    const p = params as AnalysisRunParams;
    const from = Date.parse(p.from);
    const to = Date.parse(p.to);
    // The pattern admits a 13th month or a 30th of February: Date.parse does not.
    if (Number.isNaN(from)) errors.push({ path: '/from', message: 'is not a valid date' });
    if (Number.isNaN(to)) errors.push({ path: '/to', message: 'is not a valid date' });
    else if (!(to > from)) errors.push({ path: '/to', message: 'must be after from' });
    const c = p.candidate;
    // The same rule the worker config applies to every device (shared/src/rules.ts).
    if (c && !(c.working_threshold_w > c.standby_threshold_w))
      errors.push({
        path: '/candidate/working_threshold_w',
        message: 'must be greater than standby_threshold_w',
      });
  }
  if (errors.length > 0) throw invalid(errors);
  return params as AnalysisRunParams;
}

const invalid = (errors: FieldError[]) =>
  new WorkerError('INVALID_PARAMS', { count: errors.length }, { errors: errors.slice(0, 100) });
