/**
 * `analysis.run` over the worker's real control server (an in-process App, as main.ts builds it,
 * with an in-memory recording passed in): the result follows the shared contract, and every failure
 * is a catalogue error: bad params, an unknown machine, no recording store, the read-only token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AnalysisRunResult, validate } from '@workshop-iot/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRecording } from '../../src/analysis/memory-recording.ts';
import { App } from '../../src/app.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import type { RecordingReader } from '../../src/recording/types.ts';
import { captureLog } from '../helpers/log.ts';
import { DAY_MS, generateProfile, machine, START_MS, WORKSHOP } from './profiles.ts';

const TOKEN = 'analysis-admin-token-0123456789ab';
const READ_TOKEN = 'analysis-read-token-0123456789ab';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startWorker(recording: RecordingReader | null) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analysis-rpc-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const broker = new EmbeddedBroker({ port: 0 });
  const { url } = await broker.start();
  cleanup.push(() => broker.stop());
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      worker_uid: 'analysis-worker',
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: TOKEN, read_token: READ_TOKEN },
      odoo: { url: null },
      config: { version: 1, broker: { url }, devices: [machine('saw-1'), machine('lathe-2')] },
    }),
  );
  const app = await App.start({
    argv: ['--config', file],
    env: {},
    cwd: dir,
    log: captureLog('info').log,
    recording,
  });
  cleanup.push(() => app.stop());
  let id = 0;
  return async (method: string, params: unknown, token = TOKEN) => {
    const res = await fetch(`http://127.0.0.1:${app.http.address()?.port}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const body = (await res.json()) as {
      result?: AnalysisRunResult;
      error?: { code: number; message: string; data: Record<string, unknown> };
    };
    return { status: res.status, ...body };
  };
}

const day = {
  from: new Date(START_MS).toISOString(),
  to: new Date(START_MS + DAY_MS).toISOString(),
};

function recordingOfOneDay(): MemoryRecording {
  const recording = new MemoryRecording();
  recording.add('saw-1', generateProfile({ ...WORKSHOP, days: 1 }).inputs);
  return recording;
}

describe('analysis.run on the control API', () => {
  it('answers the analysis of a recorded day, valid against the shared contract', async () => {
    const call = await startWorker(recordingOfOneDay());
    const { result, error } = await call('analysis.run', { device_id: 'saw-1', ...day });
    expect(error).toBeUndefined();
    expect(validate('analysis_run_result', result)).toEqual([]);
    expect(result?.readings).toBe(43_200);
    expect(result?.clusters.map((c) => c.role)).toEqual(['off', 'standby', 'working']);
    expect(result?.current.session_config).toEqual(machine('saw-1').session_config);
    expect(result?.proposed.sessions.length).toBe(WORKSHOP.jobs_per_day);
  });

  it('replays the candidate settings when given', async () => {
    const call = await startWorker(recordingOfOneDay());
    const candidate = {
      ...machine('saw-1').session_config,
      standby_threshold_w: 500,
      working_threshold_w: 600,
    };
    const { result } = await call('analysis.run', {
      device_id: 'saw-1',
      ...day,
      candidate,
      bins: 8,
    });
    expect(result?.proposed.session_config).toEqual(candidate);
    expect(result?.proposed.sessions).toEqual([]);
    expect(result?.histogram).toHaveLength(8);
  });

  it('answers a machine with nothing recorded with 0 readings and the reason', async () => {
    const call = await startWorker(recordingOfOneDay());
    const { result, error } = await call('analysis.run', { device_id: 'lathe-2', ...day });
    expect(error).toBeUndefined();
    expect(validate('analysis_run_result', result)).toEqual([]);
    expect(result?.readings).toBe(0);
    expect(result?.explanation[0]).toMatch(/^No recorded readings in this range/);
  });

  it('refuses bad params with INVALID_PARAMS naming the field', async () => {
    const call = await startWorker(recordingOfOneDay());
    const backwards = await call('analysis.run', {
      device_id: 'saw-1',
      from: day.to,
      to: day.from,
    });
    expect(backwards.error?.data).toMatchObject({
      code: 'INVALID_PARAMS',
      errors: [{ path: '/to', message: 'must be after from' }],
    });
    const same = await call('analysis.run', { device_id: 'saw-1', from: day.from, to: day.from });
    expect(same.error?.data.code).toBe('INVALID_PARAMS');
    const missing = await call('analysis.run', { device_id: 'saw-1', from: day.from });
    expect(missing.error?.data).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(JSON.stringify(missing.error?.data.errors)).toContain('"/to"');
    const inverted = {
      ...machine('saw-1').session_config,
      standby_threshold_w: 50,
      working_threshold_w: 50,
    };
    const bad = await call('analysis.run', { device_id: 'saw-1', ...day, candidate: inverted });
    expect(bad.error?.data).toMatchObject({
      code: 'INVALID_PARAMS',
      errors: [
        {
          path: '/candidate/working_threshold_w',
          message: 'must be greater than standby_threshold_w',
        },
      ],
    });
  });

  it('refuses an unknown machine with DEVICE_NOT_FOUND', async () => {
    const call = await startWorker(recordingOfOneDay());
    const { error } = await call('analysis.run', { device_id: 'nope-9', ...day });
    expect(error).toMatchObject({
      code: -32013,
      message: 'No configured device nope-9',
      data: { code: 'DEVICE_NOT_FOUND', device_id: 'nope-9' },
    });
  });

  it('answers RECORDING_UNAVAILABLE on a worker without a recording store', async () => {
    const call = await startWorker(null);
    const { error } = await call('analysis.run', { device_id: 'saw-1', ...day });
    expect(error?.data.code).toBe('RECORDING_UNAVAILABLE');
    expect(error?.code).toBe(-32014);
  });

  it('is refused to the read-only token', async () => {
    const call = await startWorker(recordingOfOneDay());
    const { status, error } = await call(
      'analysis.run',
      { device_id: 'saw-1', ...day },
      READ_TOKEN,
    );
    expect(status).toBe(403);
    expect(error?.data.code).toBe('FORBIDDEN');
  });
});
