/**
 * Worker pipeline vs bare mqtt.js:
 *   npx tsx scripts/bench/worker-pipeline.ts [--messages 200000] [--devices 1000] [--rounds 2]
 *
 * One broker (bench/broker.ts), one stream (bench/stream.ts: Shelly Gen2 status + NotifyStatus of
 * 1,000 devices whose sessions start and stop), one publisher process that dumps it at max rate.
 * Two subscribers, one after the other, with the same topic filters (5 per device, QoS 1):
 *   bare      mqtt.js, JSON.parse of each payload, nothing else;
 *   pipeline  MqttConnection -> Ingest -> DeviceRegistry (XState actors) -> store (the SQLite outbox).
 * Each rate is measured at the subscriber, from its first message to its last one (for the pipeline:
 * to the last one processed and committed), so publisher speed and connection setup do not count.
 * Each side runs `--rounds` times (order alternating); the ratio is best pipeline / best bare.
 * Target: pipeline >= 0.7 x bare. Every message must arrive; losses are reported, not hidden.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { MqttConnection } from '../../worker/src/mqtt/client.ts';
import { Ingest } from '../../worker/src/mqtt/ingest.ts';
import { type BenchBroker, startBenchBroker } from './broker.ts';
import { buildPipeline } from './pipeline.ts';
import { printResult } from './result.ts';
import { benchDevices } from './stream.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    devices: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
  },
});
const MESSAGES = Number(values.messages);
const DEVICES = Number(values.devices);
const ROUNDS = Math.max(1, Number(values.rounds));
/** A run ends when every message arrived, or after this long without one once the publisher is done. */
const IDLE_MS = 3_000;
const SUBSCRIBE_CHUNK = 500;

interface Run {
  received: number;
  seconds: number;
  rate: number;
  publisherSeconds: number;
  /**
   * CPU time of this process (all its threads: main, GC helpers, the outbox writer) per message
   * received, from the first message to the end of the run. Less sensitive than the rate to what
   * else the machine runs, since it does not count time spent waiting for a core.
   */
  cpuUsPerMsg: number;
}

/** Counts messages and times first-to-last; `done` resolves at the MESSAGES-th. */
class Meter {
  received = 0;
  first = 0;
  last = 0;
  cpuAtFirst: NodeJS.CpuUsage | undefined;
  #resolve!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.#resolve = resolve;
  });

  tick(): boolean {
    const now = performance.now();
    if (this.received++ === 0) {
      this.first = now;
      this.cpuAtFirst = process.cpuUsage();
    }
    this.last = now;
    if (this.received !== MESSAGES) return false;
    this.#resolve();
    return true;
  }
}

/** Runs the publisher process; resolves with its own timing once the broker has routed everything. */
function publish(url: string): Promise<{ sent: number; seconds: number }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./publisher.ts', import.meta.url).pathname,
      url,
      `${DEVICES}`,
      `${MESSAGES}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`publisher exited with ${code}`)),
    );
  });
}

async function measure(url: string, meter: Meter): Promise<Run> {
  const pub = await publish(url);
  const pubEnd = performance.now();
  const idle = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() - Math.max(meter.last, pubEnd) < IDLE_MS) return;
      clearInterval(timer);
      resolve();
    }, 100);
    void meter.done.then(() => {
      clearInterval(timer);
      resolve();
    });
  });
  await idle;
  const cpu = process.cpuUsage(meter.cpuAtFirst);
  const seconds = (meter.last - meter.first) / 1000;
  return {
    received: meter.received,
    seconds,
    rate: seconds > 0 ? meter.received / seconds : 0,
    publisherSeconds: pub.seconds,
    cpuUsPerMsg: meter.received > 0 ? (cpu.user + cpu.system) / meter.received : 0,
  };
}

async function bare(url: string, filters: string[]): Promise<Run> {
  const meter = new Meter();
  const client = await mqtt.connectAsync(url, {
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  client.on('message', (_topic, payload) => {
    JSON.parse(payload.toString());
    meter.tick();
  });
  for (let i = 0; i < filters.length; i += SUBSCRIBE_CHUNK)
    await client.subscribeAsync(filters.slice(i, i + SUBSCRIBE_CHUNK), { qos: 1 });
  const run = await measure(url, meter);
  await client.endAsync();
  return run;
}

async function pipeline(url: string) {
  const devices = benchDevices(DEVICES);
  const p = await buildPipeline(devices);
  const meter = new Meter();
  const filters = p.ingest.setDevices(devices);
  let subscribed = 0;
  let onSubscribed = () => {};
  const ready = new Promise<void>((resolve) => {
    onSubscribed = resolve;
  });
  const conn = new MqttConnection({
    broker: { url },
    onMessage: (topic, payload, retained) => {
      p.ingest.handle(topic, payload, retained);
      // The last message counts once its events are committed (the outbox commits per turn).
      if (meter.tick()) {
        p.flush();
        meter.last = performance.now();
      }
    },
    onEvent: (e) => {
      if (e.type !== 'subscribed') return;
      subscribed += e.filters.length;
      if (subscribed === filters.size) onSubscribed();
    },
  });
  conn.setSubscriptions(filters);
  conn.start();
  await ready;
  const run = await measure(url, meter);
  await conn.stop();
  const stats = p.ingest.stats();
  const events = p.events();
  line('pipeline', run);
  console.log(
    `          ${stats.inputs} inputs, ${events} events committed, ${stats.parse_errors} parse errors, ` +
      `${stats.unknown_topic} unknown topics; store: ${p.storeKind}`,
  );
  p.stop();
  return { run, storeKind: p.storeKind, events };
}

function line(name: string, run: Run): void {
  const lost = MESSAGES - run.received;
  console.log(
    `${name.padEnd(9)} ${run.received.toLocaleString('en-US')}/${MESSAGES.toLocaleString('en-US')} msgs` +
      `${lost > 0 ? ` (LOST ${lost})` : ''} in ${run.seconds.toFixed(2)} s = ` +
      `${Math.round(run.rate).toLocaleString('en-US')} msg/s, CPU ${run.cpuUsPerMsg.toFixed(1)} µs/msg ` +
      `(publisher burst ${run.publisherSeconds.toFixed(2)} s)`,
  );
}

async function main(): Promise<void> {
  let broker: BenchBroker | null = null;
  try {
    broker = await startBenchBroker();
    console.log(`broker: ${broker.kind}`);
    // The bare side subscribes exactly the filters the worker subscribes.
    const filters = [...new Ingest({ onInput: () => {} }).setDevices(benchDevices(DEVICES))];
    const bares: Run[] = [];
    const pipes: Awaited<ReturnType<typeof pipeline>>[] = [];
    // Rounds alternate the order (bare first, then pipeline first): drift in the load of a shared
    // machine then hits both sides alike, and each side is judged by its best round.
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 1) pipes.push(await pipeline(broker.url));
      const b = await bare(broker.url, filters);
      line('bare', b);
      bares.push(b);
      if (r % 2 === 0) pipes.push(await pipeline(broker.url));
    }
    const bestBare = Math.max(...bares.map((b) => b.rate));
    const bestPipe = Math.max(...pipes.map((p) => p.run.rate));
    const cpuBare = Math.min(...bares.map((b) => b.cpuUsPerMsg));
    const cpuPipe = Math.min(...pipes.map((p) => p.run.cpuUsPerMsg));
    const ratio = bestPipe / bestBare;
    const lost =
      ROUNDS * 2 * MESSAGES -
      [...bares, ...pipes.map((p) => p.run)].reduce((n, x) => n + x.received, 0);
    console.log(
      `ratio best pipeline / best bare: ${ratio.toFixed(2)} (target >= 0.7); lost: ${lost}`,
    );
    printResult({
      bench: 'worker-pipeline',
      metrics: [
        {
          name: 'pipeline / bare mqtt.js ratio',
          value: round(ratio, 3),
          unit: 'x',
          target: '>= 0.7',
        },
        {
          name: 'pipeline throughput',
          value: Math.round(bestPipe),
          unit: 'msg/s',
          better: 'higher',
        },
        {
          name: 'bare mqtt.js throughput',
          value: Math.round(bestBare),
          unit: 'msg/s',
          better: 'higher',
        },
        {
          name: 'pipeline CPU per message (all threads)',
          value: round(cpuPipe, 2),
          unit: 'µs',
          better: 'lower',
        },
        {
          name: 'bare mqtt.js CPU per message',
          value: round(cpuBare, 2),
          unit: 'µs',
          better: 'lower',
        },
        { name: 'messages lost (all rounds)', value: lost, unit: 'msgs', target: '<= 0' },
        { name: 'pipeline events committed', value: pipes[0]?.events ?? 0, unit: 'events' },
      ],
      notes: [
        `broker: ${broker.kind}`,
        `store: ${pipes[0]?.storeKind}`,
        `${DEVICES} devices, ${MESSAGES} messages per side and round, best of ${ROUNDS} rounds per side`,
      ],
    });
  } finally {
    await broker?.stop();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
