/**
 * The recording as the whole worker wires it: readings published to the embedded broker end up in
 * `<data_dir>/recording.sqlite` (on by default), not for a machine with `recording: false`, and are
 * there after the worker stopped; `recording.enabled: false` opens no recording at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeviceConfig } from '@workshop-iot/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { App } from '../../src/app.ts';
import { RECORDING_FILE, RecordingStore } from '../../src/recording/store.ts';
import { captureLog } from '../helpers/log.ts';
import { publisher } from '../mqtt/helpers/worker.ts';

let dir: string;
let app: App | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-app-'));
});
afterEach(async () => {
  await app?.stop();
  app = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

const device = (id: string, recording?: boolean): DeviceConfig => ({
  device_id: id,
  name: id,
  parser_type: 'shelly_gen2',
  topic: id,
  ...(recording === undefined ? {} : { recording }),
  session_config: {
    standby_threshold_w: 10,
    working_threshold_w: 100,
    start_debounce_s: 10,
    stop_debounce_s: 30,
    message_timeout_s: 300,
    heartbeat_interval_s: 60,
  },
});

async function start(extra: Record<string, unknown> = {}): Promise<{ app: App; url: string }> {
  const port = await freePort();
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      worker_uid: 'recording-worker',
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: 'admin-token-0123456789abcdef0123' },
      embedded_broker: { port },
      discovery: { enabled: false },
      config: {
        version: 1,
        broker: { url: null },
        devices: [device('saw'), device('quiet', false)],
      },
      ...extra,
    }),
  );
  const started = await App.start({
    argv: ['--config', file],
    env: {},
    cwd: dir,
    log: captureLog('info').log,
  });
  app = started;
  await waitFor(() => started.mqtt.status().connected, 'the worker connected to its broker');
  return { app: started, url: `mqtt://127.0.0.1:${port}` };
}

describe('the worker records every machine', () => {
  it('keeps published readings in data_dir/recording.sqlite, except for recording: false', async () => {
    const { app: worker, url } = await start();
    const recording = worker.recording as RecordingStore;
    expect(recording).not.toBeNull();
    const meter = await publisher(url);
    for (const id of ['quiet', 'saw'])
      await meter.publishAsync(
        `${id}/status/switch:0`,
        JSON.stringify({ id: 0, apower: 321.5, aenergy: { total: 42.25 } }),
      );
    await waitFor(
      () => [...recording.inputs('saw', 0, 8.64e15)].length > 0,
      'the reading recorded',
    );
    await meter.endAsync();
    await worker.stop();
    app = null;
    const reopened = new RecordingStore({
      dir: path.join(dir, 'data'),
      log: captureLog().log,
      flushIntervalMs: 0,
    });
    try {
      const saw = [...reopened.inputs('saw', 0, 8.64e15)];
      expect(saw).toEqual([
        expect.objectContaining({ kind: 'reading', power_w: 321.5, energy_wh: 42.25 }),
      ]);
      expect(reopened.devices()).toEqual(['saw']);
    } finally {
      reopened.stop();
    }
  });

  it('opens no recording with recording.enabled false', async () => {
    const { app: worker } = await start({ recording: { enabled: false } });
    expect(worker.recording).toBeNull();
    expect(fs.existsSync(path.join(dir, 'data', RECORDING_FILE))).toBe(false);
  });
});
