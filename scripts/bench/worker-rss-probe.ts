/**
 * One worker-rss measurement in this process (run by worker-rss.ts, under tsx or bundled like the
 * shipped worker): `node --expose-gc --import tsx scripts/bench/worker-rss-probe.ts [--devices N]`.
 *
 * Baseline = RSS once the worker's whole start-up module graph is loaded (`worker/src/app.ts`, what
 * main.ts imports), before any device. Then Ingest + DeviceRegistry + the SQLite outbox
 * (pipeline.ts, the wiring app.ts does minus HTTP and Odoo) get the devices, and each device is fed
 * its first ~3 ticks of the bench stream through `Ingest.handle` (online, status, NotifyStatus,
 * energy), which leaves about 80 % of them in a session. RSS is read after a forced full GC, twice:
 *   right after the feed  100,000 messages in a few seconds leave V8 with committed but unused heap;
 *   settled               SETTLE_S later, once V8's memory reducer has given that back, which is
 *                         the resting state of a worker whose devices report every few seconds.
 * Prints one `RSS_PROBE {json}` line (ProbeFigures) for the parent, and on stderr the RSS of each
 * settle second. Options: --settle-s N (default 6); --smaps (stderr: settled RSS by kind of mapping);
 * --snapshot <file> (a heap snapshot of the settled state: heap-by-constructor.ts sums it).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { App } from '../../worker/src/app.ts';
import { buildPipeline } from './pipeline.ts';
import { benchDevices, benchMessages, FEED_MESSAGES_PER_DEVICE } from './stream.ts';

export const PROBE_PREFIX = 'RSS_PROBE ';

/** What one probe run measured; sizes in bytes. */
export interface ProbeFigures {
  devices: number;
  messages: number;
  baseline: number;
  fed: number;
  settled: number;
  heapUsed: number;
  heapTotal: number;
  /** V8 heap spaces over 1 MB: "name committed/used". */
  spaces: string;
  /** Everything outside the JS heap that V8 and node account for: buffers, SQLite is not in it. */
  external: number;
  /**
   * Settled RSS split (Linux, /proc/self/status; 0 elsewhere): anonymous = the process's own memory;
   * file = mapped file pages, mostly node's own binary (~35 MB for any node process), which the
   * kernel shares and can drop under pressure.
   */
  rssAnon: number;
  rssFile: number;
  feedS: number;
  inSession: number;
  parked: number;
  events: number;
  storeKind: string;
  gcForced: boolean;
}

/** V8's memory reducer shrinks the heap a few seconds after allocation calms down. */
const SETTLE_S = 6;
const MB = 1024 * 1024;

/** A full GC, enabled at run time when node did not get --expose-gc. */
function gcFunction(): (() => void) | null {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

async function rssAfterGc(gc: (() => void) | null): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc?.();
    await turn();
  }
  return process.memoryUsage().rss;
}

function rssSplit(): { rssAnon: number; rssFile: number } {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: the split is unknown.
  }
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssAnon: kb('RssAnon') * 1024, rssFile: kb('RssFile') * 1024 };
}

/**
 * Linux: resident memory by kind of mapping (/proc/self/smaps), to tell V8's heap and malloc apart:
 * `[heap]` is the main malloc arena, `anon` V8's pages, thread arenas and large mallocs, `file` the
 * node binary and the native addons' code.
 */
function rssByMapping(): string {
  const kb: Record<string, number> = {};
  let kind = 'anon';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      kind = name === '' ? 'anon' : name.startsWith('[') ? name : `file ${name.split('/').pop()}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[kind] = (kb[kind] ?? 0) + Number(rss[1]);
  }
  return Object.entries(kb)
    .filter(([, v]) => v >= 512)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`)
    .join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '10000' },
      snapshot: { type: 'string' },
      smaps: { type: 'boolean', default: false },
      'settle-s': { type: 'string', default: String(SETTLE_S) },
    },
  });
  const devicesCount = Number(values.devices);
  const settleS = Number(values['settle-s']);
  // The worker's module graph is loaded by the static import above; naming App keeps a bundler
  // from shaking it out, so both columns load what the shipped worker loads at start.
  if (typeof App.start !== 'function') throw new Error('worker App not loaded');
  const gc = gcFunction();
  const baseline = await rssAfterGc(gc);
  const started = performance.now();
  const p = await buildPipeline(benchDevices(devicesCount));
  let sent = 0;
  for (const msg of benchMessages(devicesCount, devicesCount * FEED_MESSAGES_PER_DEVICE)) {
    p.ingest.handle(msg.topic, Buffer.from(msg.payload), false);
    // Let the outbox group-commit now and then, as it does between socket reads.
    if (++sent % 1000 === 0) await turn();
  }
  p.flush();
  const fed = await rssAfterGc(gc);
  const feedS = (performance.now() - started) / 1000;
  const trace: number[] = [];
  for (let s = 0; s < settleS; s++) {
    await sleep(1000);
    gc?.();
    trace.push(Math.round(process.memoryUsage().rss / MB));
  }
  console.error(`settle trace MB: ${trace.join(' ')}`);
  const settled = await rssAfterGc(gc);
  const memory = process.memoryUsage();
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)}`;
  const figures: ProbeFigures = {
    devices: devicesCount,
    messages: sent,
    baseline,
    fed,
    settled,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    spaces: v8
      .getHeapSpaceStatistics()
      .filter((s) => s.space_size > MB)
      .map((s) => `${s.space_name} ${mb(s.space_size)}/${mb(s.space_used_size)}`)
      .join(', '),
    external: memory.external,
    ...rssSplit(),
    feedS,
    inSession: p.registry.liveStates().filter((s) => s.session_id !== null).length,
    parked: p.registry.parking().parked,
    events: p.events(),
    storeKind: p.storeKind,
    gcForced: gc !== null,
  };
  if (values.smaps) console.error(`settled RSS by mapping MB: ${rssByMapping()}`);
  if (values.snapshot) v8.writeHeapSnapshot(values.snapshot);
  p.stop();
  console.log(`${PROBE_PREFIX}${JSON.stringify(figures)}`);
}

// Run when started as a script (source or bundle), not when worker-rss.ts imports the types.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
