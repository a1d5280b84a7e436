/**
 * The worker's own dashboard (in-process App, real HTTP, real MQTT through aedes): the page is served,
 * /api/machines needs the token and lists every configured machine, and a reading published over
 * MQTT reaches an open Server-Sent Events stream as a `device_state` event.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type DashboardMachine, validate } from '@workshop-iot/shared';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import { device } from '../helpers/control.ts';
import { captureLog } from '../helpers/log.ts';

const TOKEN = 'dashboard-admin-token-0123456789';
const READ_TOKEN = 'dashboard-read-token-0123456789';

let dir: string;
let broker: EmbeddedBroker;
let app: App | null = null;
let publisher: mqtt.MqttClient | null = null;
let logged: ReturnType<typeof captureLog>;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
  broker = new EmbeddedBroker({ port: 0 });
  const { url } = await broker.start();
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      worker_uid: 'dash-worker',
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: TOKEN, read_token: READ_TOKEN },
      odoo: { url: null },
      config: {
        version: 1,
        broker: { url },
        devices: [{ ...device('m1'), area: 'Metal shop' }, device('m2')],
      },
    }),
  );
  logged = captureLog('info');
  app = await App.start({
    argv: ['--config', file],
    env: {},
    cwd: dir,
    log: logged.log,
  });
  publisher = await mqtt.connectAsync(url);
});

afterEach(async () => {
  await publisher?.endAsync(true);
  await app?.stop();
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${app?.http.address()?.port}`;

/** Opens the SSE stream and resolves with the first `device_state` for `deviceId` in `state`. */
function nextDeviceState(
  deviceId: string,
  state: string,
): { ready: Promise<void>; machine: Promise<DashboardMachine>; close: () => void } {
  let req: http.ClientRequest | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  const machine = new Promise<DashboardMachine>((resolve, reject) => {
    req = http.get(`${base()}/api/events?token=${READ_TOKEN}`, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      resolveReady();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end < 0) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!/^event: device_state$/m.test(block) || !data) continue;
          const m = JSON.parse(data) as DashboardMachine;
          if (m.device_id === deviceId && m.state === state) resolve(m);
        }
      });
    });
    req.on('error', reject);
  });
  return { ready, machine, close: () => req?.destroy() };
}

describe('worker dashboard', () => {
  it('serves the page without a token and the machine list only with one', async () => {
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await fetch(`${base()}/api/machines`)).status).toBe(401);
    expect((await fetch(`${base()}/api/machines?token=wrong-token-0123456789012`)).status).toBe(
      401,
    );
    const res = await fetch(`${base()}/api/machines`, {
      headers: { authorization: `Bearer ${READ_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const machines = (await res.json()) as DashboardMachine[];
    expect(validate('dashboard_machines', machines)).toEqual([]);
    expect(machines.map((m) => [m.device_id, m.name, m.area, m.state])).toEqual([
      ['m1', 'Machine m1', 'Metal shop', 'unknown'],
      ['m2', 'Machine m2', null, 'unknown'],
    ]);
  });

  it('logs a refused dashboard token like any failed login, without the token', async () => {
    const res = await fetch(`${base()}/api/events?token=guessed-dashboard-token`);
    expect(res.status).toBe(401);
    const line = logged.lines.find((l) => String(l.msg).startsWith('Control API login failed'));
    expect(line).toMatchObject({ failure: 'invalid', path: '/api/events', source: '127.0.0.1' });
    expect(JSON.stringify(logged.lines)).not.toContain('guessed-dashboard-token');
  });

  it('pushes a state change from an MQTT reading to an open event stream', async () => {
    const stream = nextDeviceState('m1', 'starting');
    try {
      await stream.ready;
      publisher?.publish('shelly-m1/status/switch:0', JSON.stringify({ id: 0, apower: 200 }));
      const machine = await stream.machine;
      expect(machine).toMatchObject({ name: 'Machine m1', area: 'Metal shop', power_w: 200 });
      expect(validate('dashboard_machines', [machine])).toEqual([]);
    } finally {
      stream.close();
    }
  });
});
