/**
 * MQTT publish -> state change visible on the Odoo dashboard, in a real browser:
 * `npx tsx scripts/bench/dashboard-latency.ts [--samples 100] [--devices 10] [--interval-ms 100] [--keep]
 * [--reuse-db <db>]` (--reuse-db: a database with workshop_iot already, updated instead of installed,
 * never dropped; on a loaded machine Odoo's install alone can take minutes). The copy must come with
 * its filestore (the web client's asset bundles are attachments): a copy made with createdb -T alone
 * serves no web client.
 *
 * Brings up the real stack (scripts/dev/stack.ts: database with workshop_iot, mosquitto, Odoo
 * threaded with one cron thread as deployed, the worker child process) with N Shelly Gen2 machines
 * whose debounces are 0, logs in as the administrator in Debian's Chromium (playwright-core,
 * scripts/e2e/chromium.ts), opens Workshop > Dashboard and waits for every tile. A MutationObserver
 * in the page reports each tile's `data-state` change with the page's clock
 * (`performance.timeOrigin + performance.now()`, ms since the epoch, same machine as the bench).
 *
 * Per sample: the bench publishes a Shelly `status/pm1:0` reading that changes the machine's state
 * (0 W -> 500 W: the tile must turn `working`; 500 W -> 0 W: it must leave `working`) and stops the
 * clock when the observer reports that change. Whichever path brings it first counts: the worker's
 * prompt `worker.status` push (debounced ~300 ms) or the event's ingest and the fold cron; both end
 * in a bus notification over the dashboard's websocket. One sample every `interval-ms`, machines
 * round-robin (a machine waits until its previous change was seen); the first `devices` samples are
 * warm-up. Target: p99 < 1 s. The phase split (phases.ts) follows each sample's event to Odoo's
 * commit; the last phase is then Odoo's commit -> DOM (fold, bus, websocket, render).
 */
import os from 'node:os';
import type { DeviceConfig } from '@workshop-iot/shared';
import mqtt from 'mqtt';
import { PsqlSession } from '../dev/psql-session.ts';
import type { Stack } from '../dev/stack.ts';
import { percentile } from '../dev/util.ts';
import { launchChromium } from '../e2e/chromium.ts';
import { delay, waitFor } from '../lib/wait.ts';
import { benchMachines, latencyArgs, latencyStack } from './latency-stack.ts';
import { type EventTimes, phaseTable, readTraces, splitPhases } from './phases.ts';
import { printResult } from './result.ts';

const args = latencyArgs({ samples: 100, devices: 10, intervalMs: 100 });
const SAMPLES = args.samples;
const DEVICES = args.devices;
const INTERVAL_MS = args.intervalMs;
/** A change not on the dashboard within this long counts as lost (reported, never hidden). */
const SAMPLE_TIMEOUT_MS = 15_000;
const TAG = '[dashboard-latency]';

const epochMs = () => performance.timeOrigin + performance.now();

function devices(): DeviceConfig[] {
  return benchMachines(DEVICES, 'bench-dash', 'Dashboard bench');
}

interface Pending {
  /** true: the tile must turn `working`; false: it must leave `working`. */
  on: boolean;
  t0: number;
  warmup: boolean;
  /** How many publishes this machine had before this one (its n-th session event). */
  nth: number;
}

interface Seen {
  device: string;
  nth: number;
  publishMs: number;
  seenMs: number;
}

/** The page side: report every tile's data-state change to the bench, stamped in the page. */
const OBSERVER = `(() => {
  const last = {};
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    for (const el of document.querySelectorAll('.o_workshop_iot_tile[data-device-id]')) {
      const id = el.getAttribute('data-device-id');
      const state = el.getAttribute('data-state');
      if (last[id] !== state) {
        last[id] = state;
        window.wiotTileState(id, state, now);
      }
    }
  };
  new MutationObserver(scan).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
  scan();
})()`;

// Over 50 lines on purpose: the measuring loop and its bookkeeping read best together.
async function measure(
  stack: Stack,
  configs: DeviceConfig[],
): Promise<{ seen: Seen[]; lost: number }> {
  const info = stack.info!;
  const browser = await launchChromium();
  const client = await mqtt.connectAsync(info.brokerUrl, {
    ...(info.brokerUsername ? { username: info.brokerUsername } : {}),
    ...(info.brokerPassword ? { password: info.brokerPassword } : {}),
  });
  const pending = new Map<string, Pending>();
  const states = new Map<string, string>();
  const seen: Seen[] = [];
  let lost = 0;
  try {
    const page = await browser.newPage();
    // The first page load may build the web client's asset bundles (minutes on a loaded VM).
    page.setDefaultTimeout(300_000);
    await page.exposeFunction('wiotTileState', (device: string, state: string, at: number) => {
      states.set(device, state);
      const p = pending.get(device);
      if (!p || at < p.t0 || (state === 'working') !== p.on) return;
      pending.delete(device);
      if (!p.warmup) seen.push({ device, nth: p.nth, publishMs: p.t0, seenMs: at });
    });
    await page.goto(`${info.odooUrl}/web/login`);
    await page.fill('input[name=login]', info.adminLogin);
    await page.fill('input[name=password]', info.adminPassword);
    await page.click('button[type=submit]');
    await page.waitForSelector('.o_main_navbar');
    await page.goto(`${info.odooUrl}/odoo/action-workshop_iot.dashboard_action`);
    for (const d of configs)
      await page.waitForSelector(`.o_workshop_iot_tile[data-device-id="${d.device_id}"]`);
    await page.evaluate(OBSERVER);
    await waitFor(
      () => configs.every((d) => states.has(d.device_id)),
      'every tile reported',
      30_000,
      50,
    );
    console.error(`${TAG} dashboard open, ${configs.length} tiles; measuring`);

    const count = new Map<string, number>();
    const total = SAMPLES + configs.length;
    let energy = 0;
    for (let i = 0, cursor = 0; i < total; cursor++) {
      const device = configs[cursor % configs.length]!;
      const p = pending.get(device.device_id);
      if (p && epochMs() - p.t0 > SAMPLE_TIMEOUT_MS) {
        pending.delete(device.device_id);
        if (!p.warmup) lost++;
      }
      if (pending.has(device.device_id)) {
        await delay(INTERVAL_MS); // its previous change is not on the dashboard yet: skip the slot
        continue;
      }
      const nth = count.get(device.device_id) ?? 0;
      count.set(device.device_id, nth + 1);
      const on = nth % 2 === 0;
      energy += 1;
      const payload = JSON.stringify({
        id: 0,
        apower: on ? 500 : 0,
        voltage: 230.1,
        aenergy: { total: energy },
      });
      pending.set(device.device_id, { on, t0: epochMs(), warmup: i < configs.length, nth });
      await client.publishAsync(`${device.topic}/status/pm1:0`, payload);
      i++;
      await delay(INTERVAL_MS);
    }
    await waitFor(
      () => pending.size === 0,
      'the last changes on the dashboard',
      SAMPLE_TIMEOUT_MS,
      50,
    ).catch(() => {
      lost += [...pending.values()].filter((p) => !p.warmup).length;
    });
  } finally {
    await client.endAsync();
    await browser.close();
  }
  return { seen, lost };
}

/** Each sample's event uid: the machine's n-th session event (one per state-changing publish). */
async function eventTimes(db: string, seen: Seen[]): Promise<EventTimes[]> {
  const psql = new PsqlSession(db);
  const rows = await psql.query(
    `SELECT device_key, event_uid FROM workshop_event
      WHERE event_type IN ('session_started', 'session_stopped') ORDER BY device_key, seq`,
  );
  psql.close();
  const byDevice = new Map<string, string[]>();
  for (const [device, uid] of rows) {
    if (!byDevice.has(device!)) byDevice.set(device!, []);
    byDevice.get(device!)!.push(uid!);
  }
  return seen.flatMap((s) => {
    const uid = byDevice.get(s.device)?.[s.nth];
    return uid ? [{ uid, publishMs: s.publishMs, seenMs: s.seenMs }] : [];
  });
}

async function main(): Promise<void> {
  const configs = devices();
  const bench = latencyStack({
    bench: 'dashboard-latency',
    workerUid: 'bench-dash-worker',
    devices: configs,
    reuse: args.reuseDb,
  });
  if (!bench) return;
  const { stack, db } = bench;
  let result: { seen: Seen[]; lost: number };
  let phases: string[] = [];
  try {
    await stack.up();
    console.error(
      `${TAG} ${SAMPLES} samples over ${DEVICES} machines, one every ${INTERVAL_MS} ms`,
    );
    result = await measure(stack, configs);
    const split = splitPhases(
      await eventTimes(db, result.seen),
      readTraces(stack.info!.logs.worker, stack.info!.logs.odoo),
    );
    phases = phaseTable(
      new Map(
        [...split].map(([k, v]) => [
          k
            .replace(
              'row seen by the poll (10 ms)',
              'tile in the DOM (fold or status, bus, render)',
            )
            .replace('publish -> row seen', 'publish -> tile in the DOM'),
          v,
        ]),
      ),
    );
  } finally {
    await bench.down(args.keep);
  }
  const sorted = result.seen.map((s) => s.seenMs - s.publishMs).sort((a, b) => a - b);
  const [p50, p90, p99] = [50, 90, 99].map((p) => percentile(sorted, p)) as [
    number,
    number,
    number,
  ];
  const max = sorted.at(-1) ?? Number.NaN;
  console.log(
    `\nMQTT publish -> dashboard tile (DOM), ${os.cpus().length} CPU(s), load ${os.loadavg()[0]!.toFixed(2)}`,
  );
  console.log(`samples ${sorted.length}, lost ${result.lost}`);
  console.log(
    `p50 ${p50.toFixed(0)} ms, p90 ${p90.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target < 1000), max ${max.toFixed(0)} ms`,
  );
  console.log(
    `\nWhere the time goes, per sample (ms; the event's path, the tile may come by worker.status first):\n`,
  );
  for (const line of phases) console.log(line);
  const round = (x: number) => Math.round(x * 10) / 10;
  printResult({
    bench: 'dashboard-latency',
    metrics: [
      { name: 'publish -> dashboard DOM p50', value: round(p50), unit: 'ms', better: 'lower' },
      { name: 'publish -> dashboard DOM p90', value: round(p90), unit: 'ms', better: 'lower' },
      { name: 'publish -> dashboard DOM p99', value: round(p99), unit: 'ms', target: '< 1000' },
      { name: 'changes lost', value: result.lost, unit: 'changes', target: '<= 0' },
    ],
    notes: [
      `${sorted.length} samples, ${DEVICES} Shelly Gen2 machines (debounce 0), one state change every ${INTERVAL_MS} ms; ` +
        "Chromium on Workshop > Dashboard as the administrator, MutationObserver on the tiles' data-state",
    ],
  });
  if (sorted.length === 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(`${TAG} failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
