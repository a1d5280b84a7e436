/**
 * The worker (in-process App, real SQLite, real HTTP, real MQTT through aedes) while things go wrong:
 * Odoo unreachable for a while, bad control requests, the broker restarting, and a broker switch
 * pushed with config.apply while messages flow.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Health, WorkerConfig } from '@workshop-iot/shared';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { App } from '../../src/app.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import { device } from '../helpers/control.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { captureLog } from '../helpers/log.ts';

const TOKEN = 'integration-admin-token-0123456789';
const sessionConfig = {
  standby_threshold_w: 5,
  working_threshold_w: 100,
  start_debounce_s: 0,
  stop_debounce_s: 0,
  message_timeout_s: 3600,
  heartbeat_interval_s: 3600,
};

let dir: string;
let odoo: FakeOdoo;
let brokers: EmbeddedBroker[];
let clients: mqtt.MqttClient[];
let app: App | null;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-'));
  odoo = new FakeOdoo();
  await odoo.start();
  brokers = [];
  clients = [];
  app = null;
});
afterEach(async () => {
  await app?.stop();
  for (const c of clients) await c.endAsync(true);
  for (const b of brokers) await b.stop();
  await odoo.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function broker(port = 0): Promise<{ url: string; port: number; broker: EmbeddedBroker }> {
  const b = new EmbeddedBroker({ port });
  const address = await b.start();
  brokers.push(b);
  return { url: address.url, port: address.port, broker: b };
}

async function publisherFor(url: string): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 100 });
  clients.push(c);
  return c;
}

function workerConfig(version: number, brokerUrl: string, ids = ['m1']): WorkerConfig {
  return {
    version,
    broker: { url: brokerUrl, reconnect_min_ms: 100, reconnect_max_ms: 300 },
    devices: ids.map((id) => device(id, { session_config: structuredClone(sessionConfig) })),
  };
}

async function startApp(brokerUrl: string, odooUrl: string | null = odoo.url) {
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      worker_uid: 'it-worker',
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: TOKEN, max_body_bytes: 2048 },
      odoo: { url: odooUrl, api_key: odoo.apiKey, timeout_ms: 500, status_interval_s: 3600 },
      config: workerConfig(1, brokerUrl),
    }),
  );
  const { log, lines } = captureLog('info');
  app = await App.start({ argv: ['--config', file], env: {}, cwd: dir, log });
  return { app, lines, url: `http://127.0.0.1:${app.http.address()?.port}` };
}

/** Publishes a power reading that flips m1 on (200 W) or off (0 W): one event per flip. */
function flip(client: mqtt.MqttClient, on: boolean, id = 'm1') {
  client.publish(`shelly-${id}/status/switch:0`, JSON.stringify({ id: 0, apower: on ? 200 : 0 }));
}

const rpc = (url: string, body: unknown, token: string | null = TOKEN, raw?: string) =>
  fetch(`${url}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: raw ?? JSON.stringify(body),
  });

async function health(url: string): Promise<Health> {
  return (await (
    await fetch(`${url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json()) as Health;
}

describe('worker reliability (integration)', () => {
  it('buffers while Odoo is unreachable and delivers everything once it is back', async () => {
    const b = await broker();
    await odoo.stop();
    const { url } = await startApp(b.url);
    const pub = await publisherFor(b.url);
    await waitFor(
      async () => (await health(url)).broker.connected,
      'worker connected to the broker',
    );
    for (let i = 0; i < 6; i++) {
      flip(pub, i % 2 === 0);
      await waitFor(
        async () => (await health(url)).outbox.depth >= i + 1,
        `event ${i + 1} in the outbox`,
      );
    }
    await waitFor(
      async () => (await health(url)).status === 'degraded',
      'degraded while Odoo is down',
    );
    expect((await health(url)).odoo.last_error).toMatch(/unreachable/i);
    await odoo.start();
    await waitFor(async () => (await health(url)).outbox.depth === 0, 'outbox drained', 30_000);
    expect(odoo.acceptedLog.length).toBeGreaterThanOrEqual(6);
    expect(new Set(odoo.acceptedLog).size).toBe(odoo.acceptedLog.length);
  });

  it('survives bad control requests and keeps its config', async () => {
    const b = await broker();
    const { url } = await startApp(b.url, null);
    const call = (method: string, params?: unknown) => ({ jsonrpc: '2.0', id: 1, method, params });
    expect((await rpc(url, call('config.get'), null)).status).toBe(401);
    expect((await rpc(url, call('config.get'), 'x'.repeat(40))).status).toBe(401);
    const parse = (await (await rpc(url, null, TOKEN, '{"jsonrpc":')).json()) as {
      error: { code: number };
    };
    expect(parse.error.code).toBe(-32700);
    const unknown = (await (await rpc(url, call('config.drop', {}))).json()) as {
      error: { code: number };
    };
    expect(unknown.error.code).toBe(-32601);
    const bad = workerConfig(2, b.url);
    bad.devices[0]!.session_config.working_threshold_w = 1;
    const invalid = (await (await rpc(url, call('config.apply', { config: bad }))).json()) as {
      error: { code: number; data: { errors: { path: string }[] } };
    };
    expect(invalid.error.code).toBe(-32602);
    expect(invalid.error.data.errors[0]?.path).toBe(
      '/config/devices/0/session_config/working_threshold_w',
    );
    expect(
      (await rpc(url, call('config.apply', { config: { pad: 'x'.repeat(5000) } }))).status,
    ).toBe(413);
    const h = await health(url);
    expect(h.config.version).toBe(1);
    expect(h.devices).toBe(1);
  });

  it('reconnects after a broker restart and follows a broker switch pushed with config.apply', async () => {
    const first = await broker();
    const { url } = await startApp(first.url, odoo.url);
    const pub1 = await publisherFor(first.url);
    await waitFor(
      async () => (await health(url)).broker.connected,
      'connected to the first broker',
    );
    flip(pub1, true);
    await waitFor(() => odoo.acceptedLog.length >= 1, 'first event delivered');
    // Broker restart on the same port while the worker runs.
    await first.broker.stop();
    await waitFor(async () => !(await health(url)).broker.connected, 'disconnect noticed');
    const again = await broker(first.port);
    const pub1b = await publisherFor(again.url);
    await waitFor(
      async () => (await health(url)).broker.connected,
      'reconnected after the restart',
    );
    const before = odoo.acceptedLog.length;
    await waitFor(() => {
      flip(pub1b, false);
      return odoo.acceptedLog.length > before;
    }, 'events flow again after the restart');
    // Switch to another broker through config.apply, while the old one still carries traffic.
    const second = await broker();
    const pub2 = await publisherFor(second.url);
    const res = (await (
      await rpc(url, {
        jsonrpc: '2.0',
        id: 2,
        method: 'config.apply',
        params: { config: workerConfig(2, second.url) },
      })
    ).json()) as { result: { applied: boolean; changes: { broker_changed: boolean } } };
    expect(res.result).toMatchObject({ applied: true, changes: { broker_changed: true } });
    await waitFor(async () => {
      const h = await health(url);
      return h.broker.connected && h.broker.url.includes(String(second.port));
    }, 'connected to the second broker');
    const count = odoo.acceptedLog.length;
    await waitFor(() => {
      flip(pub2, true);
      return odoo.acceptedLog.length > count;
    }, 'events from the second broker');
  });
});
