/**
 * Builds the control HTTP server with a real ConfigManager and ConfigStore in a temp dir, without
 * MQTT, registry or Odoo: what the HTTP tests exercise is the wire behaviour of /rpc, /health,
 * /metrics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Health, WorkerConfig } from '@workshop-iot/shared';
import { ConfigManager } from '../../src/config/apply.ts';
import { ConfigStore } from '../../src/config/store.ts';
import { TokenAuth } from '../../src/http/auth.ts';
import { registerHealthRoute } from '../../src/http/health.ts';
import { registerMetricsRoute, WorkerMetrics } from '../../src/http/metrics.ts';
import { RpcDispatcher } from '../../src/http/rpc.ts';
import { registerControlMethods } from '../../src/http/rpc-methods.ts';
import { HttpServer } from '../../src/http/server.ts';
import { captureLog } from './log.ts';

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123';
export const READ_TOKEN = 'read-token-0123456789abcdef012345';

export function device(id: string, overrides: Record<string, unknown> = {}) {
  return {
    device_id: id,
    name: `Machine ${id}`,
    parser_type: 'shelly_gen2' as const,
    topic: `shelly-${id}`,
    session_config: {
      standby_threshold_w: 5,
      working_threshold_w: 50,
      start_debounce_s: 2,
      stop_debounce_s: 5,
      message_timeout_s: 60,
      heartbeat_interval_s: 60,
    },
    ...overrides,
  };
}

export const config = (version: number, ids: string[] = ['m1']): WorkerConfig => ({
  version,
  broker: { url: null },
  devices: ids.map((id) => device(id)),
});

export async function startControl(maxBodyBytes = 4096) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'control-'));
  const { log, lines } = captureLog();
  const store = new ConfigStore({ dir, log });
  const manager = new ConfigManager({
    initial: config(1),
    appliedAt: null,
    store,
    workerUid: 'w1',
    log,
  });
  const health = (): Health => ({
    status: 'ok',
    software_version: '0.1.0',
    worker_uid: 'w1',
    uptime_s: 1,
    broker: { url: 'mqtt://127.0.0.1:1884', embedded: true, connected: true, reconnects: 0 },
    devices: manager.current().config.devices.length,
    subscriptions: 1,
    outbox: { depth: 0, oldest_pending_s: null, dead_letters: 0 },
    odoo: { configured: false, last_ok_at: null, last_error: null },
    config: { version: manager.version, applied_at: manager.current().applied_at },
  });
  const rpc = new RpcDispatcher({ log });
  registerControlMethods(rpc, {
    applyConfig: (c) => manager.apply(c, 'rpc'),
    getConfig: () => manager.current(),
    health,
  });
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes,
    auth: new TokenAuth(ADMIN_TOKEN, READ_TOKEN),
    rpc,
    log,
  });
  registerHealthRoute(server, health);
  const metrics = new WorkerMetrics({
    mqtt: () => ({ messages: 3, parse_errors: 1, reconnects: 0, connected: true }),
    outbox: () => ({ depth: 2, oldest_pending_ms: 1500, dead_letters: 0, over_cap: false }),
    configVersion: () => manager.version,
  });
  registerMetricsRoute(server, metrics);
  const address = await server.start();
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    server,
    manager,
    lines,
    dir,
    async close() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** POST /rpc with a raw body. */
    post(
      body: string | object,
      token: string | null = ADMIN_TOKEN,
      headers: Record<string, string> = {},
    ) {
      return fetch(`${url}/rpc`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
  };
}
