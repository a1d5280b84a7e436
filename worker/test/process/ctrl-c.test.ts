/**
 * Ctrl-C under `npm start`, for real: the terminal signals the whole process group (npm, sh, the
 * worker) and a copy may follow ~30 ms later (a wrapper's relay). The worker must still run its graceful
 * shutdown to the end. To make the shutdown outlast both signals, Odoo (a local fake) never answers,
 * so the sender flush holds the shutdown for its 5 s deadline; the worker talks to the real mosquitto.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { NpmStart } from '../helpers/npm-start.ts';
import { REPO_ROOT } from '../helpers/worker-process.ts';
import { device } from '../mqtt/helpers/devices.ts';
import { publisher } from '../mqtt/helpers/worker.ts';

const BROKER = 'mqtt://127.0.0.1:1883';
const TOKEN = 'ctrl-c-admin-token-0123456789abcdef';

let dir: string;
let odoo: FakeOdoo;
let run: NpmStart | null = null;
let client: MqttClient | null = null;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrl-c-'));
  odoo = new FakeOdoo();
  odoo.mode = 'hang';
  await odoo.start();
});
afterEach(async () => {
  run?.kill();
  run = null;
  await client?.endAsync();
  client = null;
  await odoo.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts the worker with `npm start` and opens a session (its event stuck on the silent Odoo). */
async function startWithPendingEvent(): Promise<NpmStart> {
  const topic = `ctrl-c-test-${process.pid}-${Date.now()}`;
  const file = path.join(dir, 'settings.json');
  const base = device('m1', 'shelly_gen2', topic);
  const settings = {
    worker_uid: 'ctrl-c-worker',
    data_dir: path.join(dir, 'data'),
    log_level: 'info',
    http: { port: 0, token: TOKEN },
    embedded_broker: { port: await freePort() },
    odoo: { url: odoo.url, api_key: odoo.apiKey, timeout_ms: 10_000, status_interval_s: 3600 },
    config: {
      version: 1,
      broker: { url: BROKER },
      close_sessions_on_shutdown: true,
      // A session starts at the first reading, so a clean shutdown must close it ('shutdown').
      devices: [{ ...base, session_config: { ...base.session_config, start_debounce_s: 0 } }],
    },
  };
  fs.writeFileSync(file, JSON.stringify(settings));
  run = new NpmStart(REPO_ROOT, ['--config', file]).start();
  const started = await run.waitLog('Workshop IoT worker started');
  client = await publisher(BROKER);
  const health = `${started.http}/health`;
  // Readings until the worker has subscribed and committed session_started.
  await waitFor(async () => {
    await client?.publishAsync(`${topic}/status/switch:0`, JSON.stringify({ id: 0, apower: 50 }));
    const res = await fetch(health, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { outbox: { depth: number } };
    return body.outbox.depth > 0;
  }, 'session_started in the outbox');
  return run;
}

const messages = (r: NpmStart) => r.lines.map((l) => l.msg);

/** Event types left in the outbox after the worker exited (nothing reached the silent Odoo). */
function outboxTypes(): string[] {
  const db = new Database(path.join(dir, 'data', 'outbox.sqlite'), { readonly: true });
  try {
    return db
      .prepare('SELECT type, body FROM outbox ORDER BY id')
      .all()
      .map((row) => {
        const { type, body } = row as { type: string; body: string };
        const reason = (JSON.parse(body) as { payload?: { reason?: string } }).payload?.reason;
        return reason ? `${type}:${reason}` : type;
      });
  } finally {
    db.close();
  }
}

describe('Ctrl-C under npm start', () => {
  it('runs the graceful shutdown to the end when the signal arrives twice 30 ms apart', async () => {
    const r = await startWithPendingEvent();
    r.signalGroup('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 30)); // the relay's delay, not a wait
    r.signalGroup('SIGINT');
    const code = await r.waitWorkerExit();
    const log = messages(r);
    expect(log).not.toContain('Second signal: exiting now');
    // close_sessions_on_shutdown ran, the flush ran to its deadline, the database closed cleanly.
    expect(log).toContain('Workshop IoT worker stopped');
    expect(log).toContain('Repeated signal during shutdown grace period: ignored');
    expect(log.at(-1)).toBe('Worker exiting');
    expect(outboxTypes()).toEqual(['session_started', 'session_stopped:shutdown']);
    expect(code).toBe(0);
  });

  it('still exits at once on a signal after the grace period', async () => {
    const r = await startWithPendingEvent();
    r.signalGroup('SIGINT');
    await r.waitLog('Shutdown grace period over: another signal exits at once');
    r.signalGroup('SIGINT');
    expect(await r.waitWorkerExit()).toBe(130);
    const log = messages(r);
    expect(log).toContain('Second signal: exiting now');
    expect(log).not.toContain('Workshop IoT worker stopped');
  });
});
