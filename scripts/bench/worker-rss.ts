/**
 * Worker memory with 10,000 devices: `npx tsx scripts/bench/worker-rss.ts [--devices N]`.
 *
 * Baseline = RSS after loading the worker modules; then Ingest + DeviceRegistry + store (the SQLite
 * outbox when present, as in production) get 10,000 devices, and each device is fed its first
 * ~3 ticks of the bench stream through `Ingest.handle` (online, status, NotifyStatus, energy), which
 * leaves about 80 % of them in a session. RSS is read after a forced full GC, twice:
 *   right after the feed  100,000 messages in a few seconds leave V8 with committed but unused heap;
 *   settled               SETTLE_S later, once V8's memory reducer has given that back, which is
 *                         the resting state of a worker whose devices report every few seconds.
 * Target (settled): < 300 MB in total. Both figures are printed; the live JS heap too.
 * The MQTT client's subscription list (5 topics per device) is not included: no broker here.
 */
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { buildPipeline } from './pipeline.ts';
import { printResult } from './result.ts';
import { benchDevices, benchMessages } from './stream.ts';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '10000' } } });
const DEVICES = Number(values.devices);
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
  const gc = gcFunction();
  const baseline = await rssAfterGc(gc);
  const started = performance.now();
  const devices = benchDevices(DEVICES);
  const p = await buildPipeline(devices);
  let sent = 0;
  for (const msg of benchMessages(DEVICES, DEVICES * MESSAGES_PER_DEVICE)) {
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
  const heapMb = process.memoryUsage().heapUsed / MB;
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
  const heap = process.memoryUsage();
  // Committed vs live: what the heap holds beyond live objects after the feed's garbage.
  console.log(
    `V8 heap committed ${mb(heap.heapTotal)}, live ${mb(heap.heapUsed)}; ` +
      v8
        .getHeapSpaceStatistics()
        .filter((s) => s.space_size > MB)
        .map((s) => `${s.space_name} ${mb(s.space_size)}/${mb(s.space_used_size)}`)
        .join(', '),
  );
  const inSession = p.registry.liveStates().filter((s) => s.session_id !== null).length;
  const parking = p.registry.parking();
  const perDevice = (settled - baseline) / DEVICES;
  console.log(`store: ${p.storeKind}; GC ${gc ? 'forced' : 'NOT forced (no gc available)'}`);
  console.log(
    `${DEVICES.toLocaleString('en-US')} devices, ${sent.toLocaleString('en-US')} messages in ` +
      `${feedS.toFixed(1)} s, ${inSession.toLocaleString('en-US')} in a session, ${p.events()} events, ` +
      `${parking.parked.toLocaleString('en-US')} parked (device-actor.ts)`,
  );
  console.log(
    `RSS baseline ${mb(baseline)}, right after the feed ${mb(fed)}, settled ${mb(settled)} ` +
      `(JS heap used ${heapMb.toFixed(1)} MB), ${Math.round(perDevice).toLocaleString('en-US')} bytes/device`,
  );
  p.stop();
  const devicesLabel = DEVICES.toLocaleString('en-US');
  printResult({
    bench: 'worker-rss',
    metrics: [
      {
        name: `RSS, ${devicesLabel} devices (settled)`,
        value: round1(settled / MB),
        unit: 'MB',
        target: '< 300',
      },
      {
        name: `RSS, ${devicesLabel} devices (right after the feed)`,
        value: round1(fed / MB),
        unit: 'MB',
        better: 'lower',
      },
      {
        name: 'RSS baseline (modules loaded)',
        value: round1(baseline / MB),
        unit: 'MB',
        better: 'lower',
      },
      {
        name: 'RSS per device (settled - baseline)',
        value: Math.round(perDevice),
        unit: 'bytes',
        better: 'lower',
      },
      { name: 'JS heap used (settled)', value: round1(heapMb), unit: 'MB', better: 'lower' },
    ],
    notes: [
      `store: ${p.storeKind}`,
      `GC ${gc ? 'forced' : 'not forced'}; ${inSession} of ${DEVICES} devices in a session, ${parking.parked} parked`,
    ],
  });
}

const round1 = (x: number) => Math.round(x * 10) / 10;

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
