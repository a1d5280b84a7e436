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
import { Ingest } from '../../worker/src/mqtt/ingest.ts';
import { type BenchBroker, startBenchBroker } from './broker.ts';
import { printResult } from './result.ts';
import { bare, type PipelineRun, pipeline, printRun, type Run, round } from './sides.ts';
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

async function main(): Promise<void> {
  let broker: BenchBroker | null = null;
  try {
    broker = await startBenchBroker();
    console.log(`broker: ${broker.kind}`);
    // The bare side subscribes exactly the filters the worker subscribes.
    const filters = [...new Ingest({ onInput: () => {} }).setDevices(benchDevices(DEVICES))];
    const url = broker.url;
    const source = { url, burst: () => publish(url) };
    const bares: Run[] = [];
    const pipes: PipelineRun[] = [];
    // Rounds alternate the order (bare first, then pipeline first): drift in the load of a shared
    // machine then hits both sides alike, and each side is judged by its best round.
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 1) pipes.push(await pipeline(source, DEVICES, MESSAGES));
      const b = await bare(source, filters, MESSAGES);
      printRun('bare', b, MESSAGES);
      bares.push(b);
      if (r % 2 === 0) pipes.push(await pipeline(source, DEVICES, MESSAGES));
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

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
