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
 * Prints one `RSS_PROBE {json}` line (ProbeFigures) for the parent; with --snapshot <file> it also
 * writes a heap snapshot of the settled state (per-device objects: heap-by-constructor.ts).
 */
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { App } from '../../worker/src/app.ts';
import { buildPipeline } from './pipeline.ts';
import { benchDevices, benchMessages } from './stream.ts';

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
  feedS: number;
  inSession: number;
  parked: number;
  events: number;
  storeKind: string;
  gcForced: boolean;
}

/** Messages per device: about three ticks of a Gen2 meter (see the header). */
const MESSAGES_PER_DEVICE = 10;
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '10000' },
      snapshot: { type: 'string' },
    },
  });
  const devicesCount = Number(values.devices);
  // The worker's module graph is loaded by the static import above; naming App keeps a bundler
  // from shaking it out, so both columns load what the shipped worker loads at start.
  if (typeof App.start !== 'function') throw new Error('worker App not loaded');
  const gc = gcFunction();
  const baseline = await rssAfterGc(gc);
  const started = performance.now();
  const p = await buildPipeline(benchDevices(devicesCount));
  let sent = 0;
  for (const msg of benchMessages(devicesCount, devicesCount * MESSAGES_PER_DEVICE)) {
    p.ingest.handle(msg.topic, Buffer.from(msg.payload), false);
    // Let the outbox group-commit now and then, as it does between socket reads.
    if (++sent % 1000 === 0) await turn();
  }
  p.flush();
  const fed = await rssAfterGc(gc);
  const feedS = (performance.now() - started) / 1000;
  for (let s = 0; s < SETTLE_S; s++) {
    await sleep(1000);
    gc?.();
  }
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
    feedS,
    inSession: p.registry.liveStates().filter((s) => s.session_id !== null).length,
    parked: p.registry.parking().parked,
    events: p.events(),
    storeKind: p.storeKind,
    gcForced: gc !== null,
  };
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
