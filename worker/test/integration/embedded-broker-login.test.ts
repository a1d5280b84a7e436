/**
 * The embedded broker's login as the whole worker uses it: a non-loopback bind without credentials
 * stops start-up with exit code 2 naming the setting; with credentials the worker's own MQTT client
 * logs in to its embedded broker and anonymous devices are refused.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { App } from '../../src/app.ts';
import { captureLog } from '../helpers/log.ts';
import { REPO_ROOT } from '../helpers/worker-process.ts';
import { publisher } from '../mqtt/helpers/worker.ts';

let dir: string;
let app: App | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-login-'));
});
afterEach(async () => {
  await app?.stop();
  app = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded broker login', () => {
  it('exits with code 2 naming the setting for a non-loopback bind without credentials', () => {
    const file = path.join(dir, 'settings.json');
    fs.writeFileSync(file, JSON.stringify({ data_dir: path.join(dir, 'data') }));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        WORKSHOP_IOT_CONFIG: file,
        WORKSHOP_IOT_EMBEDDED_BROKER_HOST: '0.0.0.0',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "WORKSHOP_IOT_EMBEDDED_BROKER_HOST (/embedded_broker/host) '0.0.0.0' is not a loopback address",
    );
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it("logs the worker's own client in and refuses anonymous devices", async () => {
    const port = await freePort();
    const file = path.join(dir, 'settings.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        worker_uid: 'login-worker',
        data_dir: path.join(dir, 'data'),
        http: { port: 0, token: 'admin-token-0123456789abcdef0123' },
        embedded_broker: { port, username: 'devices', password: 'embedded-pa55word' },
      }),
    );
    const { log } = captureLog('info');
    app = await App.start({ argv: ['--config', file], env: {}, cwd: dir, log });
    const started = app;
    await waitFor(() => started.mqtt.status().connected, 'the worker connected to its broker');
    const url = `mqtt://127.0.0.1:${port}`;
    await expect(publisher(url)).rejects.toThrow(/Not authorized/i);
    const device = await publisher(url, { username: 'devices', password: 'embedded-pa55word' });
    await device.endAsync(true);
  });
});
