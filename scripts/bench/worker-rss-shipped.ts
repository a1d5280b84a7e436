/**
 * The shipped worker itself (worker/dist/worker.mjs, main.ts, plain node) with N configured devices
 * and nothing fed: when it is ready (every SUBSCRIBE answered: it then polls every meter once), and
 * its RSS at two points after start, read from /proc/<pid>/status (Linux only). Used by
 * worker-rss.ts beside the probe's figures: this one has everything the probe leaves out (HTTP
 * server, metrics, MQTT client with its subscription list, Odoo link) but no traffic and no forced
 * GC.
 *
 * Two points, because V8 gives memory back late: start-up garbage sits in the old space until a
 * mark-compact, and V8's memory reducer shrinks the heap only some seconds after one (EARLY_MS is
 * what earlier rounds reported as "settled"; SETTLED_MS is past the reducer).
 *
 * `board`: the worker runs in a memory cgroup with that limit, as on a board with that much RAM.
 * Node sizes V8's heap from the memory it may use (the cgroup limit, else the machine's RAM): on
 * this 24 GB VM the young generation alone may take 32 MB, under 1 GiB it takes 8 MB. Needs root
 * and a writable cgroup memory controller (v1 or v2); otherwise `board` is refused with the reason.
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
import mqtt from 'mqtt';
import { memoryCgroup, spawnInCgroup } from './memory-cgroup.ts';
import { benchDevices } from './stream.ts';

/** RSS points after start (ms). */
export const EARLY_MS = 8000;
export const SETTLED_MS = 30_000;
const START_TIMEOUT_MS = 60_000;

export interface ShippedFigures {
  /** VmRSS at EARLY_MS and SETTLED_MS after spawn. */
  rssEarly: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  /** ms from spawn to the "started" log line. */
  startMs: number;
  /** ms from spawn until the worker polled every meter (sent once every SUBSCRIBE is answered). */
  readyMs: number | null;
}

export async function measureShippedWorker(
  bundle: string,
  brokerUrl: string,
  devices: number,
  nodeFlags: string[],
  board?: { memoryBytes: number },
): Promise<ShippedFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-worker-'));
  const settings = join(dir, 'settings.json');
  const configured = benchDevices(devices);
  writeFileSync(
    settings,
    JSON.stringify({
      log_level: 'info',
      data_dir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      config: { version: 1, broker: { url: brokerUrl }, devices: configured },
    }),
  );
  // The worker's polls (Shelly.GetStatus on <topic>/rpc) tell when it is ready.
  const watcher = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
  await watcher.subscribeAsync('#');
  const cgroup = board ? memoryCgroup(board.memoryBytes) : null;
  const node = [...nodeFlags, bundle, '--config', settings];
  const started = performance.now();
  const child = cgroup
    ? spawnInCgroup(cgroup, process.execPath, node, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, node, { stdio: ['ignore', 'pipe', 'pipe'] });
  let readyMs: number | null = null;
  let polls = 0;
  watcher.on('message', (_topic, payload) => {
    if (!payload.toString().includes('GetStatus')) return;
    if (++polls === devices) readyMs = performance.now() - started;
  });
  const rssOf = () => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start')), START_TIMEOUT_MS);
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
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
    await sleep(EARLY_MS - (performance.now() - started));
    const rssEarly = rssOf()('VmRSS');
    await sleep(SETTLED_MS - (performance.now() - started));
    const kb = rssOf();
    return {
      rssEarly,
      rss: kb('VmRSS'),
      rssAnon: kb('RssAnon'),
      rssFile: kb('RssFile'),
      startMs,
      readyMs,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) =>
      child.exitCode !== null ? resolve(null) : child.on('exit', resolve),
    );
    await watcher.endAsync();
    cgroup?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}
