/**
 * Worker pipeline vs bare mqtt.js, each bound only by its own CPU:
 *   npx tsx scripts/bench/worker-replay.ts [--messages 200000] [--devices 1000] [--rounds 3] [--qos 0|1|both]
 *
 * The same two subscribers as worker-pipeline.ts (sides.ts), but the stream comes from the replay
 * broker (replay-broker.ts): a fake broker in its own process that writes one pre-encoded stream of
 * PUBLISH packets (stream.ts, encoded once before anything is measured) as fast as the subscriber
 * reads it. No broker routes, no publisher encodes, both sides get the same bytes in one run. So
 * unlike worker-pipeline.ts (the end-to-end figure through mosquitto) the ratio does not depend on
 * how much CPU the machine leaves a broker and a publisher.
 *
 * Per QoS (0: as the Shelly/Tasmota meters publish; 1: the subscriber also writes a PUBACK per
 * message), `--rounds` rounds, each running both sides once, the order alternating; each side keeps
 * its best round. Reports messages/s (first to last message; pipeline: last one committed) and CPU
 * per message (`process.cpuUsage()`, the whole process: for the pipeline that includes the outbox's
 * writer thread, which does the SQLite work the pipeline owes per event; see sides.ts), and on Linux
 * the main thread's own CPU per message, the figure least moved by a shared machine.
 * Target: pipeline >= 0.5 x the bare subscriber's messages/s. Every message must arrive.
 */
import { parseArgs } from 'node:util';
import { Ingest } from '../../worker/src/mqtt/ingest.ts';
import { type ReplayBroker, startReplayBroker } from './replay-broker.ts';
import { type BenchMetric, printResult } from './result.ts';
import { bare, type PipelineRun, pipeline, printRun, type Run, round } from './sides.ts';
import { benchDevices } from './stream.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    devices: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    qos: { type: 'string', default: 'both' },
    // For profiling one side (`node --cpu-prof --import tsx ... --side pipeline`): no ratio then.
    side: { type: 'string', default: 'both' },
  },
});
const MESSAGES = Number(values.messages);
const DEVICES = Number(values.devices);
const ROUNDS = Math.max(1, Number(values.rounds));
const QOS: (0 | 1)[] = values.qos === '0' ? [0] : values.qos === '1' ? [1] : [0, 1];
const TARGET = 0.5;
const SIDES = { bare: values.side !== 'pipeline', pipeline: values.side !== 'bare' };

interface Variant {
  qos: 0 | 1;
  kind: string;
  bares: Run[];
  pipes: PipelineRun[];
  unexpectedPubacks: number;
}

async function variant(qos: 0 | 1, filters: string[]): Promise<Variant> {
  let broker: ReplayBroker | null = null;
  try {
    broker = await startReplayBroker({ devices: DEVICES, messages: MESSAGES, qos });
    console.log(`QoS ${qos}: ${broker.kind}`);
    const result: Variant = { qos, kind: broker.kind, bares: [], pipes: [], unexpectedPubacks: 0 };
    const replay = broker.replay;
    const source = {
      url: broker.url,
      burst: async () => {
        const replayed = await replay();
        result.unexpectedPubacks += replayed.unexpectedPubacks;
        return replayed;
      },
    };
    // Alternating order: drift in the load of a shared machine hits both sides alike.
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 1 && SIDES.pipeline)
        result.pipes.push(await pipeline(source, DEVICES, MESSAGES));
      if (SIDES.bare) {
        const b = await bare(source, filters, MESSAGES);
        printRun('bare', b, MESSAGES);
        result.bares.push(b);
      }
      if (r % 2 === 0 && SIDES.pipeline)
        result.pipes.push(await pipeline(source, DEVICES, MESSAGES));
    }
    return result;
  } finally {
    await broker?.stop();
  }
}

function metricsOf(v: Variant): BenchMetric[] {
  const bestBare = Math.max(...v.bares.map((b) => b.rate));
  const bestPipe = Math.max(...v.pipes.map((p) => p.run.rate));
  const cpuBare = Math.min(...v.bares.map((b) => b.cpuUsPerMsg));
  const cpuPipe = Math.min(...v.pipes.map((p) => p.run.cpuUsPerMsg));
  const mainBare = bestOf(v.bares.map((b) => b.mainCpuUsPerMsg));
  const mainPipe = bestOf(v.pipes.map((p) => p.run.mainCpuUsPerMsg));
  const lost =
    ROUNDS * 2 * MESSAGES -
    [...v.bares, ...v.pipes.map((p) => p.run)].reduce((n, x) => n + x.received, 0);
  const q = `QoS ${v.qos}`;
  console.log(
    `${q}: pipeline / bare ${(bestPipe / bestBare).toFixed(3)} msg/s (target >= ${TARGET}), ` +
      `bare / pipeline CPU per message ${(cpuBare / cpuPipe).toFixed(3)}` +
      (mainBare !== null && mainPipe !== null
        ? `, main thread only ${(mainBare / mainPipe).toFixed(3)} (${mainBare.toFixed(1)} / ${mainPipe.toFixed(1)} µs)`
        : '') +
      `; lost ${lost}`,
  );
  const mainThread: BenchMetric[] =
    mainBare !== null && mainPipe !== null
      ? [
          {
            name: `${q} bare / pipeline main-thread CPU per message`,
            value: round(mainBare / mainPipe, 3),
            unit: 'x',
            better: 'higher',
          },
          {
            name: `${q} pipeline main-thread CPU per message`,
            value: round(mainPipe, 2),
            unit: 'µs',
            better: 'lower',
          },
        ]
      : [];
  return [
    ...mainThread,
    {
      name: `${q} pipeline / bare mqtt.js msg/s`,
      value: round(bestPipe / bestBare, 3),
      unit: 'x',
      target: `>= ${TARGET}`,
    },
    {
      name: `${q} bare / pipeline CPU per message`,
      value: round(cpuBare / cpuPipe, 3),
      unit: 'x',
      better: 'higher',
    },
    {
      name: `${q} pipeline throughput`,
      value: Math.round(bestPipe),
      unit: 'msg/s',
      better: 'higher',
    },
    {
      name: `${q} bare mqtt.js throughput`,
      value: Math.round(bestBare),
      unit: 'msg/s',
      better: 'higher',
    },
    {
      name: `${q} pipeline CPU per message (all threads)`,
      value: round(cpuPipe, 2),
      unit: 'µs',
      better: 'lower',
    },
    {
      name: `${q} bare mqtt.js CPU per message`,
      value: round(cpuBare, 2),
      unit: 'µs',
      better: 'lower',
    },
    { name: `${q} messages lost (all rounds)`, value: lost, unit: 'msgs', target: '<= 0' },
  ];
}

/** The lowest of the figures a platform gave (null: none, e.g. not Linux). */
function bestOf(values: (number | null)[]): number | null {
  const known = values.filter((x): x is number => x !== null);
  return known.length > 0 ? Math.min(...known) : null;
}

async function main(): Promise<void> {
  // The bare side subscribes exactly the filters the worker subscribes.
  const filters = [...new Ingest({ onInput: () => {} }).setDevices(benchDevices(DEVICES))];
  const variants: Variant[] = [];
  for (const qos of QOS) variants.push(await variant(qos, filters));
  if (!SIDES.bare || !SIDES.pipeline) return;
  printResult({
    bench: 'worker-replay',
    metrics: [
      ...variants.flatMap(metricsOf),
      {
        name: 'pipeline events committed (per run)',
        value: variants[0]?.pipes[0]?.events ?? 0,
        unit: 'events',
      },
      {
        name: 'unexpected PUBACKs (QoS 1)',
        value: variants.reduce((n, v) => n + v.unexpectedPubacks, 0),
        unit: 'packets',
        target: '<= 0',
      },
    ],
    notes: [
      ...variants.map((v) => `QoS ${v.qos}: ${v.kind}`),
      `store: ${variants[0]?.pipes[0]?.storeKind}`,
      `${DEVICES} devices, ${MESSAGES} messages per side and round, best of ${ROUNDS} rounds per side`,
    ],
  });
}

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
