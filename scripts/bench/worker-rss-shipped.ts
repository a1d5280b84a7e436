/**
 * The shipped worker itself (worker/dist/worker.mjs, main.ts, plain node) with N configured devices
 * and nothing fed: its RSS some seconds after "Workshop IoT worker started", read from
 * /proc/<pid>/status (Linux only). Used by worker-rss.ts beside the probe's figures: this one has
 * everything the probe leaves out (HTTP server, metrics, MQTT client with its subscription list,
 * Odoo link) but no traffic and no forced GC.
 *
 * The broker is the benches' private mosquitto (broker.ts), so the worker subscribes every device's
 * topics and polls every meter, which stays silent; Odoo is not configured; the data dir is a temp
 * dir. (With an unreachable broker mqtt.js would hold its queue of unsent SUBSCRIBEs instead.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchDevices } from './stream.ts';

/** Long enough for start-up garbage to be collected by the worker's own GCs. */
const AFTER_START_MS = 8000;
const START_TIMEOUT_MS = 60_000;

export interface ShippedFigures {
  rss: number;
  rssAnon: number;
  rssFile: number;
  /** ms from spawn to the "started" log line. */
  startMs: number;
}

export async function measureShippedWorker(
  bundle: string,
  brokerUrl: string,
  devices: number,
  nodeFlags: string[],
): Promise<ShippedFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-worker-'));
  const settings = join(dir, 'settings.json');
  writeFileSync(
    settings,
    JSON.stringify({
      log_level: 'info',
      data_dir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      config: { version: 1, broker: { url: brokerUrl }, devices: benchDevices(devices) },
    }),
  );
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, bundle, '--config', settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start')), START_TIMEOUT_MS);
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Workshop IoT worker started')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) =>
        reject(new Error(`worker exited ${code} before starting\n${out}`)),
      );
    });
    const startMs = performance.now() - started;
    await sleep(AFTER_START_MS);
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), startMs };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) =>
      child.exitCode !== null ? resolve(null) : child.on('exit', resolve),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
