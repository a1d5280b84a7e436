/**
 * The two subscribers the worker-pipeline benches compare, against any source of the bench stream
 * (a broker fed by the publisher process, or the replay broker):
 *   bare      mqtt.js, `JSON.parse` of each payload, nothing else;
 *   pipeline  the worker's intake as `worker/src/app.ts` wires it: MqttConnection (mqtt.js client,
 *             Subscriber) -> Ingest (parsers) -> DeviceRegistry (XState actors) -> store (the SQLite
 *             outbox and its writer thread), built by pipeline.ts.
 * Both subscribe the same filters (5 per device, QoS 1). Each rate is measured at the subscriber,
 * from its first message to its last one (pipeline: the last one processed and committed), so the
 * sender's speed and the connection setup do not count.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { MqttConnection } from '../../worker/src/mqtt/client.ts';
import { buildPipeline } from './pipeline.ts';
import { benchDevices } from './stream.ts';

/** A run ends when every message arrived, or after this long without one once the burst is out. */
const IDLE_MS = 3_000;
const SUBSCRIBE_CHUNK = 500;

/** Where the stream comes from: `burst()` sends it, resolving once it is all out. */
export interface StreamSource {
  url: string;
  /** The sender's own time for the burst, in seconds. */
  burst(): Promise<{ seconds: number }>;
}

export interface Run {
  received: number;
  seconds: number;
  rate: number;
  senderSeconds: number;
  /**
   * CPU time of this process per message received, from the first message to the end of the run:
   * `process.cpuUsage()` is per process, so it counts every thread (main, V8's GC helpers, libuv,
   * and for the pipeline the outbox's writer thread, which does the SQLite work the pipeline owes
   * for each event). Less sensitive than the rate to what else the machine runs, since it does not
   * count time spent waiting for a core.
   */
  cpuUsPerMsg: number;
  /**
   * CPU time of the main thread alone per message (Linux: the thread's schedstat; null elsewhere):
   * the thread both sides run their per-message work on, unaffected by helper threads and by
   * waiting for a core, so the steadiest figure on a shared VM.
   */
  mainCpuUsPerMsg: number | null;
}

export interface PipelineRun {
  run: Run;
  storeKind: string;
  events: number;
}

/** Counts messages and times first-to-last; `done` resolves at the `expected`-th. */
class Meter {
  received = 0;
  first = 0;
  last = 0;
  cpuAtFirst: NodeJS.CpuUsage | undefined;
  mainCpuAtFirst: number | null = null;
  #resolve!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.#resolve = resolve;
  });

  constructor(readonly expected: number) {}

  tick(): boolean {
    const now = performance.now();
    if (this.received++ === 0) {
      this.first = now;
      this.cpuAtFirst = process.cpuUsage();
      this.mainCpuAtFirst = mainThreadCpuNs();
    }
    this.last = now;
    if (this.received !== this.expected) return false;
    this.#resolve();
    return true;
  }
}

async function measure(source: StreamSource, meter: Meter): Promise<Run> {
  const sent = await source.burst();
  const sentAt = performance.now();
  await new Promise<void>((resolve) => {
    let tick = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      // A late tick means this thread was blocked or starved (a loaded machine, a long GC), not
      // idle: timers run before the socket's pending data is read, so judge at the next tick.
      const late = now - tick > 1_000;
      tick = now;
      if (late || now - Math.max(meter.last, sentAt) < IDLE_MS) return;
      clearInterval(timer);
      resolve();
    }, 100);
    void meter.done.then(() => {
      clearInterval(timer);
      resolve();
    });
  });
  const cpu = process.cpuUsage(meter.cpuAtFirst);
  const mainCpu = mainThreadCpuNs();
  const seconds = (meter.last - meter.first) / 1000;
  return {
    received: meter.received,
    seconds,
    rate: seconds > 0 ? meter.received / seconds : 0,
    senderSeconds: sent.seconds,
    cpuUsPerMsg: meter.received > 0 ? (cpu.user + cpu.system) / meter.received : 0,
    mainCpuUsPerMsg:
      mainCpu !== null && meter.mainCpuAtFirst !== null && meter.received > 0
        ? (mainCpu - meter.mainCpuAtFirst) / 1000 / meter.received
        : null,
  };
}

/** Nanoseconds the main thread has run on a CPU (Linux), else null. */
function mainThreadCpuNs(): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

export async function bare(
  source: StreamSource,
  filters: string[],
  messages: number,
): Promise<Run> {
  const meter = new Meter(messages);
  const client = await mqtt.connectAsync(source.url, {
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
  const run = await measure(source, meter);
  await client.endAsync();
  return run;
}

export async function pipeline(
  source: StreamSource,
  deviceCount: number,
  messages: number,
): Promise<PipelineRun> {
  const devices = benchDevices(deviceCount);
  const p = await buildPipeline(devices);
  const meter = new Meter(messages);
  const filters = p.ingest.setDevices(devices);
  let subscribed = 0;
  let onSubscribed = () => {};
  const ready = new Promise<void>((resolve) => {
    onSubscribed = resolve;
  });
  const conn = new MqttConnection({
    broker: { url: source.url },
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
  const run = await measure(source, meter);
  const inbound = conn.inboundCounts();
  await conn.stop();
  const stats = p.ingest.stats();
  const events = p.events();
  printRun('pipeline', run, messages);
  console.log(
    `          ${stats.inputs} inputs, ${events} events committed, ${stats.parse_errors} parse errors, ` +
      `${stats.unknown_topic} unknown topics; store: ${p.storeKind}; PUBLISHes decoded by the ` +
      `worker ${inbound.decoded}, packets left to mqtt.js ${inbound.forwarded}`,
  );
  p.stop();
  return { run, storeKind: p.storeKind, events };
}

export function printRun(name: string, run: Run, messages: number): void {
  const lost = messages - run.received;
  console.log(
    `${name.padEnd(9)} ${run.received.toLocaleString('en-US')}/${messages.toLocaleString('en-US')} msgs` +
      `${lost > 0 ? ` (LOST ${lost})` : ''} in ${run.seconds.toFixed(2)} s = ` +
      `${Math.round(run.rate).toLocaleString('en-US')} msg/s, CPU ${run.cpuUsPerMsg.toFixed(1)} µs/msg ` +
      `${run.mainCpuUsPerMsg === null ? '' : `(main thread ${run.mainCpuUsPerMsg.toFixed(1)}) `}` +
      `(sender burst ${run.senderSeconds.toFixed(2)} s)`,
  );
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
