/**
 * The shipped worker itself (worker/dist/worker.mjs, main.ts, plain node) with N configured devices
 * and nothing fed: when it is ready (every SUBSCRIBE answered: it then polls every meter once), and
 * its RSS at two points after start, read from /proc/<pid>/status (Linux only). With `feed`, then
 * every meter reports through the broker (paced, see FEED_RATE) and RSS is read again once the
 * worker is quiet: a worker whose machines have all reported, as it runs. Used by
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
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { memoryCgroup, spawnInCgroup } from './memory-cgroup.ts';
import { benchDevices, benchMessages, FEED_MESSAGES_PER_DEVICE } from './stream.ts';

/** RSS points after start (ms). */
export const EARLY_MS = 8000;
export const SETTLED_MS = 30_000;
const START_TIMEOUT_MS = 60_000;
/**
 * The feed after the settled reading: every meter reports FEED_MESSAGES_PER_DEVICE messages of the bench
 * stream (about three ticks of a Gen2 meter: status + NotifyStatus each, as in the probe), paced at
 * FEED_RATE messages/s (10,000 meters reporting every 10 s send ~2,000 a second; this is a busier
 * hour), then RSS is read FED_SETTLED_MS after the worker committed its last event.
 */
export const FEED_RATE = 5000;
export const FED_SETTLED_MS = 30_000;
const FEED_QUIET_MS = 2000;

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
  /** After every meter reported (`feed`), from the worker's own /metrics. */
  fed: FedFigures | null;
}

export interface FedFigures {
  /** VmRSS FED_SETTLED_MS after the last event was committed. */
  rss: number;
  rssAnon: number;
  messages: number;
  /** Events the worker committed (workshop_iot_events_total), machines per state. */
  events: number;
  machines: Record<string, number>;
  feedS: number;
}

export async function measureShippedWorker(
  bundle: string,
  brokerUrl: string,
  devices: number,
  nodeFlags: string[],
  board?: { memoryBytes: number },
  feed = false,
): Promise<ShippedFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-worker-'));
  const settings = join(dir, 'settings.json');
  const configured = benchDevices(devices);
  const readToken = randomBytes(24).toString('hex');
  writeFileSync(
    settings,
    JSON.stringify({
      log_level: 'info',
      data_dir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0, read_token: readToken },
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
  let httpUrl = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start')), START_TIMEOUT_MS);
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Workshop IoT worker started')) {
          clearTimeout(timer);
          httpUrl = /"http":"(http:\/\/[^"]+)"/.exec(out)?.[1] ?? '';
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
    let fed: FedFigures | null = null;
    if (feed) {
      if (!httpUrl) throw new Error('the worker did not log its HTTP address');
      const metrics = () => workerMetrics(httpUrl, readToken);
      const fedAt = performance.now();
      const messages = await publishFeed(brokerUrl, devices);
      // Done when the committed-event count stops moving (the worker is far faster than the feed).
      let last = -1;
      let quietSince = performance.now();
      for (;;) {
        const { events } = await metrics();
        if (events !== last) {
          last = events;
          quietSince = performance.now();
        } else if (performance.now() - quietSince >= FEED_QUIET_MS) break;
        await sleep(250);
      }
      // A feed that never reached the worker must not pass for a fed worker's figure.
      if (last <= 0) throw new Error('the worker committed no event from the feed');
      const feedS = (performance.now() - fedAt - FEED_QUIET_MS) / 1000;
      await sleep(FED_SETTLED_MS);
      const after = rssOf();
      const { events, machines } = await metrics();
      fed = { rss: after('VmRSS'), rssAnon: after('RssAnon'), messages, events, machines, feedS };
    }
    return {
      rssEarly,
      rss: kb('VmRSS'),
      rssAnon: kb('RssAnon'),
      rssFile: kb('RssFile'),
      startMs,
      readyMs,
      fed,
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

/** Publishes the bench stream's first FEED_MESSAGES_PER_DEVICE messages of every meter, paced. */
async function publishFeed(brokerUrl: string, devices: number): Promise<number> {
  const meter = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
  const started = performance.now();
  let sent = 0;
  try {
    for (const msg of benchMessages(devices, devices * FEED_MESSAGES_PER_DEVICE)) {
      meter.publish(msg.topic, msg.payload);
      if (++sent % 500 === 0) {
        const ahead = (sent / FEED_RATE) * 1000 - (performance.now() - started);
        if (ahead > 0) await sleep(ahead);
      }
    }
  } finally {
    await meter.endAsync();
  }
  return sent;
}

/** The worker's committed events and machines per state, from its Prometheus endpoint. */
async function workerMetrics(
  httpUrl: string,
  token: string,
): Promise<{ events: number; machines: Record<string, number> }> {
  const res = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const text = await res.text();
  let events = 0;
  const machines: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const event = /^workshop_iot_events_total\{[^}]*\} (\d+)/.exec(line);
    if (event) events += Number(event[1]);
    const machine = /^workshop_iot_machines\{state="([^"]+)"\} (\d+)/.exec(line);
    if (machine) machines[machine[1] as string] = Number(machine[2]);
  }
  return { events, machines };
}
