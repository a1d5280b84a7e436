/**
 * The worker's own topics on a REAL mosquitto:
 * - the real worker process (`node worker/src/main.ts`) publishes retained `online` at
 *   `workshop-iot/<worker_uid>/status` after it connects; killed with SIGKILL (no shutdown code
 *   runs) the broker publishes its last will `offline`, retained; a clean stop (SIGTERM) publishes
 *   `offline` itself, retained.
 * - the whole worker (App) with `machine_summaries` on: a machine's retained summary appears and
 *   follows its state when its meter reports, carries none of the worker's secrets, and is cleared
 *   (empty retained payload) when the machine is removed by a config push.
 * Observers are ordinary MQTT clients; every wait is on a received message (no sleeps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerConfig } from '@workshop-iot/shared';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto, requireBinaries } from '../../../scripts/lib/mosquitto.ts';
import { App } from '../../src/app.ts';
import { captureLog } from '../helpers/log.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';
import { device } from './helpers/devices.ts';
import { Recorder } from './helpers/wait.ts';
import { FAST_RECONNECT, perTest } from './helpers/worker.ts';

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

describe("the worker's availability and machine summaries on a real mosquitto", () => {
  beforeAll(() => requireBinaries());
  const { cleanup, meter } = perTest();

  async function broker(options: ConstructorParameters<typeof Mosquitto>[0] = {}) {
    const b = new Mosquitto(options);
    cleanup.push(() => b.dispose());
    await b.start();
    return b;
  }

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'availability-'));
    cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A client subscribed to `filter`, recording every message (retained ones flagged). */
  async function observe(url: string, filter: string, options = {}) {
    const client: MqttClient = await meter(url, options);
    const messages = new Recorder<Received>();
    client.on('message', (topic, payload, packet) =>
      messages.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    await client.subscribeAsync(filter, { qos: 1 });
    return messages;
  }

  /** What a consumer arriving now gets: the retained message of `topic`. */
  async function retained(url: string, topic: string, options = {}): Promise<string> {
    const messages = await observe(url, topic, options);
    return (await messages.waitFor((m) => m.retain, `retained ${topic}`)).payload;
  }

  function workerProcess(url: string, uid: string): WorkerProcess {
    const dir = tempDir();
    const settings = WorkerProcess.writeSettings(dir, {
      worker_uid: uid,
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: 'availability-admin-token-0123456789' },
      discovery: { enabled: false },
      config: { version: 1, broker: { url, ...FAST_RECONNECT }, devices: [] },
    });
    const worker = new WorkerProcess(settings);
    cleanup.push(() => worker.kill());
    return worker;
  }

  it('SIGKILL: the broker publishes the last will, offline, retained', async () => {
    const b = await broker();
    const topic = 'workshop-iot/w-kill/status';
    const status = await observe(b.url, topic);
    const worker = workerProcess(b.url, 'w-kill');
    await worker.start();
    await status.waitFor((m) => m.payload === 'online', 'online after start');
    expect(await retained(b.url, topic)).toBe('online');

    await worker.kill();
    expect(worker.exit?.signal).toBe('SIGKILL');
    const will = await status.waitFor((m) => m.payload === 'offline', 'the last will');
    expect(will.topic).toBe(topic);
    expect(await retained(b.url, topic)).toBe('offline');
  });

  it('clean stop: offline is published (retained) before the worker disconnects', async () => {
    const b = await broker();
    const topic = 'workshop-iot/w-stop/status';
    const status = await observe(b.url, topic);
    const worker = workerProcess(b.url, 'w-stop');
    await worker.start();
    await status.waitFor((m) => m.payload === 'online', 'online after start');
    expect(await worker.stop()).toBe(0);
    await status.waitFor((m) => m.payload === 'offline', 'offline on a clean stop');
    expect(await retained(b.url, topic)).toBe('offline');
    // Back again: online replaces it.
    const back = status.next((m) => m.payload === 'online', 'online after a restart');
    await worker.start();
    await back;
    expect(await retained(b.url, topic)).toBe('online');
  });

  it('machine summaries: on state change, retained, no secret; cleared when the machine is removed', async () => {
    const secrets = {
      broker: 'broker-password-0123456789-secret',
      token: 'summary-admin-token-0123456789abcdef',
      read: 'summary-read-token-0123456789abcdef',
      apiKey: 'odoo-api-key-0123456789-secret',
    };
    const b = await broker({ users: { worker: secrets.broker, meter: 'meter-password-0123' } });
    const dir = tempDir();
    const saw = {
      ...device('saw', 'generic_json', 'meters/saw', { unit: 'W' }),
      area: 'Wood shop',
    };
    const config = (version: number, devices = [saw]): WorkerConfig => ({
      version,
      broker: { url: b.url, username: 'worker', password: secrets.broker, ...FAST_RECONNECT },
      devices,
    });
    const settings = path.join(dir, 'settings.json');
    fs.writeFileSync(
      settings,
      JSON.stringify({
        worker_uid: 'w-sum',
        data_dir: path.join(dir, 'data'),
        http: { port: 0, token: secrets.token, read_token: secrets.read },
        // Odoo unreachable on purpose: only its API key matters here.
        odoo: { url: 'http://127.0.0.1:9', api_key: secrets.apiKey, timeout_ms: 200 },
        discovery: { enabled: false },
        mqtt_status: { prefix: 'shop/iot', machine_summaries: true, summary_min_interval_s: 0 },
        config: config(1),
      }),
    );
    const login = { username: 'meter', password: 'meter-password-0123' };
    const all = await observe(b.url, 'shop/iot/#', login);
    const app = await App.start({
      argv: ['--config', settings],
      env: {},
      cwd: dir,
      log: captureLog('info').log,
    });
    cleanup.push(() => app.stop());
    const topic = 'shop/iot/machines/saw';
    await all.waitFor((m) => m.topic === 'shop/iot/status' && m.payload === 'online', 'online');
    const first = await all.waitFor((m) => m.topic === topic && m.payload !== '', 'first summary');
    expect(JSON.parse(first.payload)).toMatchObject({ device_id: 'saw', power_w: null });

    // The meter reports 500 W: the machine leaves its state, the summary follows.
    const plug = await meter(b.url, login);
    await plug.publishAsync('meters/saw', '500', { qos: 1 });
    const changed = await all.waitFor(
      (m) => m.topic === topic && m.payload.includes('"power_w":500'),
      'the summary after the reading',
    );
    const body = JSON.parse(changed.payload);
    expect(Object.keys(body).sort()).toEqual([
      'area',
      'changed_at',
      'device_id',
      'last_seen_at',
      'name',
      'power_w',
      'session_running',
      'session_started_at',
      'state',
    ]);
    expect(body).toMatchObject({ device_id: 'saw', name: 'Machine saw', area: 'Wood shop' });
    expect(body.state).not.toBe(JSON.parse(first.payload).state);
    expect(body.last_seen_at).not.toBeNull();
    const stored = JSON.parse(await retained(b.url, topic, login));
    expect(stored).toEqual(body);

    // Removed by a config push: the retained summary is cleared.
    await app.configs.apply(config(2, []), 'rpc');
    await all.waitFor((m) => m.topic === topic && m.payload === '', 'the cleared summary');
    for (const m of all.items)
      for (const secret of Object.values(secrets)) expect(m.payload).not.toContain(secret);
  });
});
