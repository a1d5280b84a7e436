/**
 * Outbox benchmark (a script, not a timed test): `npx tsx scripts/bench/outbox.ts [--quick]`.
 *
 * 1. Commit throughput: events/s committed to the SQLite outbox with their device snapshot, for
 *    synchronous=FULL and NORMAL, with group commit (one transaction per event-loop turn, as the worker
 *    runs) and with one transaction per event.
 * 2. Latency from MQTT publish to outbox commit (p50/p99) at 5,000 messages/s through the real
 *    pipeline: mosquitto (or aedes when missing) -> MqttConnection -> Ingest -> DeviceRegistry -> Outbox,
 *    100 devices, zero debounce (a reading across a threshold is a state change, one event). Three
 *    scenarios (SCENARIOS): devices that change state independently (the target), the same event
 *    rate with all devices switching in the same 20 ms (worst case), and every message a state
 *    change (overload check: 5,000 machine steps/s).
 * Targets: >= 20,000 events/s with durability on (FULL), p99 < 20 ms (steady state: after a warm-up
 * of 2 s, whose own figures are printed as "cold start"). `--latency-only` skips part 1, to profile
 * part 2 alone.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkshopEvent } from '@workshop-iot/shared';
import mqtt from 'mqtt';
import { DeviceRegistry } from '../../worker/src/devices/registry.ts';
import { silentLogger } from '../../worker/src/log.ts';
import { MqttConnection } from '../../worker/src/mqtt/client.ts';
import { Ingest } from '../../worker/src/mqtt/ingest.ts';
import { Outbox } from '../../worker/src/outbox/outbox.ts';
import { startBenchBroker } from './broker.ts';
import { heartbeatEvent } from './events.ts';
import { type BenchMetric, printResult } from './result.ts';

const quick = process.argv.includes('--quick');
/** Only the publish -> commit latency runs (for profiling them). */
const latencyOnly = process.argv.includes('--latency-only');
const rows: string[][] = [];

const snapshot = {
  value: 'working',
  context: { session_id: 'x', since: 1, power_w: 1234.5, seq: 1 },
};

async function throughput(sync: 'FULL' | 'NORMAL', groupCommit: boolean, perTurn: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-outbox-'));
  let committed = 0;
  const outbox = new Outbox({
    dir,
    log: silentLogger(),
    synchronous: sync,
    groupCommit,
    maxEvents: 100_000_000,
    onCommitted: (e) => {
      committed += e.length;
    },
  });
  const seconds = quick ? 1 : 3;
  const seqs = new Map<string, number>();
  const started = performance.now();
  let i = 0;
  while (performance.now() - started < seconds * 1000) {
    for (let k = 0; k < perTurn; k++, i++) {
      const d = `dev-${i % 100}`;
      const seq = (seqs.get(d) ?? 0) + 1;
      seqs.set(d, seq);
      outbox.commit(d, [heartbeatEvent(d, seq)], snapshot);
    }
    await new Promise((r) => setImmediate(r));
  }
  outbox.flush();
  const elapsed = (performance.now() - started) / 1000;
  outbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const rate = Math.round(committed / elapsed);
  metrics.push({
    name: `commit ${sync}, ${groupCommit ? `group of ${perTurn}` : '1 tx/event'}`,
    value: rate,
    unit: 'events/s',
    ...(sync === 'FULL' && groupCommit && perTurn === 100 ? { target: '>= 20000' } : {}),
    better: 'higher',
  });
  rows.push([
    `commit ${sync}${groupCommit ? `, group (${perTurn}/turn)` : ', 1 tx/event'}`,
    `${rate.toLocaleString('en-US')} events/s`,
    sync === 'FULL' ? (rate >= 20_000 ? 'meets >= 20,000' : 'below 20,000') : '',
  ]);
}

/** Figures for the BENCH_RESULT line (scripts/bench/result.ts), filled as the runs finish. */
const metrics: BenchMetric[] = [];
let brokerKind = 'none';

async function main() {
  console.log(`Outbox benchmark on ${os.cpus().length} CPU(s), node ${process.version}\n`);
  if (!latencyOnly) {
    await throughput('FULL', true, 100);
    await throughput('FULL', true, 10);
    await throughput('FULL', false, 100);
    await throughput('NORMAL', true, 100);
    await throughput('NORMAL', false, 100);
  }
  for (const scenario of SCENARIOS) rows.push(...(await pipelineLatency(5000, scenario)));
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows)
    console.log(r.map((cell, c) => (cell ?? '').padEnd(widths[c] ?? 0)).join('  '));
  printResult({
    bench: 'outbox',
    metrics,
    notes: ['durability: synchronous=FULL unless named NORMAL', `pipeline broker: ${brokerKind}`],
  });
}

/** How the bench's devices change state; the publisher derives each reading from it. */
interface Scenario {
  /** Metric and row label. */
  name: string;
  label: string;
  /** Each device switches on or off every `flipEvery` of its own messages. */
  flipEvery: number;
  /**
   * true: device d's switches are shifted by d rounds, so at 100 devices and flipEvery 50 two devices
   * switch per 20 ms round (machines that run independently). false: all switch in the same round.
   */
  staggered: boolean;
  target: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'independent devices, event every 50',
    label: 'devices switch independently, an event every 50 msgs/device (100 events/s)',
    flipEvery: 50,
    staggered: true,
    target: true,
  },
  {
    name: 'worst case: 100 devices switch at once, event every 50',
    label: 'worst case: all 100 devices switch in the same 20 ms, once a second',
    flipEvery: 50,
    staggered: false,
    target: false,
  },
  {
    name: 'overload: every message an event',
    label: 'overload: every message is a state change (5,000 events/s)',
    flipEvery: 1,
    staggered: false,
    target: false,
  },
];

/** Epoch milliseconds with sub-millisecond precision, comparable between processes. */
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Publish -> outbox commit latency through the real pipeline at `rate` msg/s. The publisher is a
 * child process (a device is not in the worker's event loop) and stamps each payload with its publish
 * time (`ts`, ignored by the parser). Each event the registry commits for a message is matched to
 * that time, and its latency is taken when the outbox reports it durable (`onCommitted`).
 */
async function pipelineLatency(rate: number, scenario: Scenario): Promise<string[][]> {
  const { flipEvery } = scenario;
  const DEVICES = 100;
  const seconds = quick ? 3 : 10;
  // Warm-up: the first seconds after start are spent compiling (V8's JIT, first actor transitions
  // of each kind). A worker runs for months; the target is about its steady state. The warm-up's own
  // p99 is still printed, as "cold start".
  const warmupS = quick ? 1 : 2;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
  const log = silentLogger();
  // The production stack's broker (mosquitto, its own process) unless it is missing; the embedded
  // aedes would share the worker's event loop and charge the broker's work to the pipeline.
  const broker = await startBenchBroker();
  const { url } = broker;
  brokerKind = broker.kind;
  /** Publish time of each event's message, until the event is durable. */
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const coldLatencies: number[] = [];
  let firstPublish: number | null = null;
  let firstArrival: number | null = null;
  const outbox = new Outbox({
    dir,
    log,
    maxEvents: 100_000_000,
    // An event counts as produced when its group is durable (the writer thread's commit returned).
    onCommitted: (events) => {
      const at = nowMs();
      for (const e of events) {
        const t = publishedAt.get(e.event_uid);
        if (t === undefined) continue;
        publishedAt.delete(e.event_uid);
        firstPublish ??= t;
        (t - firstPublish < warmupS * 1000 ? coldLatencies : latencies).push(at - t);
      }
    },
  });
  let current: number | null = null;
  /** publish -> arrival in the worker (every 10th message): the share of MQTT transport. */
  const arrivals: number[] = [];
  let received = 0;
  const store = {
    commit(deviceId: string, events: WorkshopEvent[], snap: unknown) {
      const t = current;
      if (t !== null) for (const e of events) publishedAt.set(e.event_uid, t);
      outbox.commit(deviceId, events, snap);
    },
    loadSnapshot: (id: string) => outbox.loadSnapshot(id),
    deleteSnapshot: (id: string) => outbox.deleteSnapshot(id),
  };
  const registry = new DeviceRegistry({
    workerUid: 'bench',
    store,
    log,
    xstateClock: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id),
    },
  });
  const ingest = new Ingest({ onInput: (id, input, meta) => registry.input(id, input, meta) });
  const devices = Array.from({ length: DEVICES }, (_, i) => ({
    device_id: `d${i}`,
    name: `Machine ${i}`,
    parser_type: 'shelly_gen2' as const,
    topic: `bench-d${i}`,
    session_config: {
      standby_threshold_w: 5,
      working_threshold_w: 100,
      start_debounce_s: 0,
      stop_debounce_s: 0,
      message_timeout_s: 3600,
      heartbeat_interval_s: 3600,
    },
  }));
  registry.apply(devices);
  registry.setBrokerConnected(true);
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  const conn = new MqttConnection({
    broker: { url },
    onMessage: (topic, payload, retained) => {
      received++;
      current = (JSON.parse(payload.toString()) as { ts: number }).ts;
      firstArrival ??= current;
      if (received % 10 === 0 && current - firstArrival >= warmupS * 1000)
        arrivals.push(nowMs() - current);
      ingest.handle(topic, payload, retained);
      current = null;
    },
    onEvent: (e) => {
      if (e.type === 'subscribed') subscribed();
    },
  });
  conn.setSubscriptions(ingest.setDevices(devices));
  conn.start();
  await ready;
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--publisher',
      url,
      String(rate),
      String(seconds + warmupS),
      String(flipEvery),
      String(DEVICES),
      String(scenario.staggered),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let sent = 0;
  child.stdout.on('data', (d: Buffer) => {
    sent = Number(d.toString().trim()) || sent;
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 5000;
  while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await conn.stop();
  registry.stop({ closeSessions: false });
  outbox.close();
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  coldLatencies.sort((a, b) => a - b);
  arrivals.sort((a, b) => a - b);
  const at = (list: number[], p: number) =>
    list[Math.min(list.length - 1, Math.floor(p * list.length))] ?? 0;
  const pct = (p: number) => at(latencies, p);
  const p99 = pct(0.99);
  metrics.push(
    {
      name: `publish->arrival p99 @${rate}/s, ${scenario.name}`,
      value: Number(at(arrivals, 0.99).toFixed(2)),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `publish->commit p50 @${rate}/s, ${scenario.name}`,
      value: Number(pct(0.5).toFixed(2)),
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `publish->commit p99 @${rate}/s, ${scenario.name}`,
      value: Number(p99.toFixed(2)),
      unit: 'ms',
      ...(scenario.target ? { target: '< 20' } : {}),
      better: 'lower',
    },
    {
      name: `publish->commit p99 cold start (first ${warmupS} s) @${rate}/s, ${scenario.name}`,
      value: Number(at(coldLatencies, 0.99).toFixed(2)),
      unit: 'ms',
      better: 'lower',
    },
  );
  return [
    [
      `pipeline ${rate.toLocaleString('en-US')} msg/s, ${scenario.label}`,
      `${received.toLocaleString('en-US')} received / ${sent.toLocaleString('en-US')} sent`,
      `${latencies.length} events measured after a ${warmupS} s warm-up`,
    ],
    [
      '  publish -> arrival p50 / p99',
      `${at(arrivals, 0.5).toFixed(2)} / ${at(arrivals, 0.99).toFixed(2)} ms`,
      'MQTT transport alone',
    ],
    [
      '  publish -> commit p50 / p99',
      `${pct(0.5).toFixed(2)} / ${p99.toFixed(2)} ms`,
      scenario.target ? (p99 < 20 ? 'meets p99 < 20 ms' : 'p99 above 20 ms') : 'no target',
    ],
    [
      `  cold start (first ${warmupS} s) p50 / p99`,
      `${at(coldLatencies, 0.5).toFixed(2)} / ${at(coldLatencies, 0.99).toFixed(2)} ms`,
      `${coldLatencies.length} events, JIT warming up`,
    ],
  ];
}

/** Child-process mode: publish Shelly Gen2 readings at a fixed rate; print the count at the end. */
async function publisher(
  url: string,
  rate: number,
  seconds: number,
  flipEvery: number,
  devices: number,
  staggered: boolean,
) {
  const pub = await mqtt.connectAsync(url);
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const d = sent % devices;
      // Every `flipEvery` rounds a device switches on/off (one event); staggered, device d does it
      // d rounds later than device 0. Between switches the readings vary within the working state,
      // like a machine that runs.
      const round = Math.floor(sent / devices) + (staggered ? d : 0);
      const on = Math.floor(round / flipEvery) % 2 === 0;
      const watts = on ? 200 + ((sent * 7919) % 400) : 0;
      pub.publish(
        `bench-d${d}/status/switch:0`,
        JSON.stringify({ id: 0, apower: watts, ts: nowMs() }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await pub.endAsync();
  process.stdout.write(`${sent}\n`);
}

const publisherArg = process.argv.indexOf('--publisher');
if (publisherArg > 0) {
  const [url, rate, seconds, flipEvery, devices, staggered] = process.argv.slice(publisherArg + 1);
  void publisher(
    url as string,
    Number(rate),
    Number(seconds),
    Number(flipEvery),
    Number(devices),
    staggered === 'true',
  );
} else {
  void main();
}
