/**
 * Worker memory with 10,000 devices, measured the way the worker ships and the way it is developed:
 *   node --expose-gc --import tsx scripts/bench/worker-rss.ts [--devices N] [--runs 2]
 *     [--only tsx,bundle] [--try="--some-v8-flag NAME=value"]... [--skip-shipped] [--skip-feed]
 *
 * Each variant runs worker-rss-probe.ts (what one measurement does: see its header) in a child
 * process of its own, and the figures are printed side by side:
 *   tsx      `node --import tsx` on the TypeScript sources (npm start, the tests, the other benches):
 *            tsx adds a module-hooks thread (one more V8 isolate) and esbuild's transform work;
 *   bundle   the probe bundled by worker/build.mjs's own options (`bundleWorkerEntry`) and run with
 *            plain `node`, as worker/Dockerfile runs worker/dist/worker.mjs;
 *   bundle <SMALL_BOARD_FLAGS>  the same bundle with the flags docs/small-boards.md recommends;
 *   --try    more bundle variants: node flags, and NAME=value environment (e.g. MALLOC_ARENA_MAX=2).
 * Baseline = the worker's start-up modules loaded, no device; then right after feeding 100,000
 * messages, and settled 6 s later (the target: < 150 MB for the shipped worker, issue 20). With
 * --runs N the variants alternate run by run and each keeps its lowest settled figure (spread shown).
 * The probe has no MQTT client, HTTP server or Odoo link; so the shipped worker.mjs itself is also
 * started with the devices configured and none fed (worker-rss-shipped.ts; Linux, private mosquitto):
 * as the Dockerfile starts it, the same in a 1 GiB memory cgroup (a small board: Node sizes V8's
 * heap from the memory it may use; needs root, else skipped with the reason), and with the
 * small-board flags; RSS 8 s and 30 s after start, and when every meter was subscribed and polled;
 * then every meter reports through the broker (paced) and RSS is read 30 s after the worker's last
 * event (--skip-feed: not).
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkerEntry } from '../../worker/build.mjs';
import { startBenchBroker } from './broker.ts';
import { memoryCgroup, spawnInCgroup } from './memory-cgroup.ts';
import { printResult } from './result.ts';
import { PROBE_PREFIX, type ProbeFigures } from './worker-rss-probe.ts';
import {
  EARLY_MS,
  FED_SETTLED_MS,
  FEED_RATE,
  measureShippedWorker,
  SETTLED_MS,
  type ShippedFigures,
} from './worker-rss-shipped.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PROBE = join(here, 'worker-rss-probe.ts');
/** Beside worker.mjs (gitignored): better-sqlite3 and ../package.json resolve as for the worker. */
const BUNDLE = join(here, '../../worker/dist/worker-rss-probe.mjs');
const WORKER = join(here, '../../worker/dist/worker.mjs');
const MB = 1024 * 1024;

interface Variant {
  name: string;
  /** node's arguments before the script. */
  node: string[];
  /** Extra environment (e.g. glibc's MALLOC_ARENA_MAX). */
  env?: Record<string, string>;
  script: 'tsx' | 'bundle';
  /** Run in a memory cgroup of this size, as on a board with that much RAM (memory-cgroup.ts). */
  board?: { memoryBytes: number };
}

/**
 * `--try="<tokens>"`: one more bundle variant. NAME=value tokens are environment variables, the
 * others node flags: `--try="--max-semi-space-size=1 MALLOC_ARENA_MAX=2"`.
 */
function triedVariant(spec: string): Variant {
  const tokens = spec.split(/\s+/).filter(Boolean);
  const isEnv = (t: string) => /^[A-Z_][A-Z0-9_]*=/.test(t);
  return {
    name: `bundle ${spec}`,
    node: tokens.filter((t) => !isEnv(t)),
    env: Object.fromEntries(tokens.filter(isEnv).map((t) => t.split('=', 2) as [string, string])),
    script: 'bundle',
  };
}

/** The flags docs/small-boards.md recommends for the shipped worker. */
export const SMALL_BOARD_FLAGS = ['--optimize-for-size'];

const GIB = 1024 * 1024 * 1024;

/**
 * How the shipped worker is started: the Dockerfile's flags on this machine, the same in a 1 GiB
 * memory cgroup (a small board: Node sizes V8's heap from it), then with the small-board flags.
 */
const SHIPPED: { name: string; flags: string[]; board?: { memoryBytes: number } }[] = [
  { name: 'node --enable-source-maps', flags: ['--enable-source-maps'] },
  {
    name: 'node --enable-source-maps, 1 GiB board (memory cgroup)',
    flags: ['--enable-source-maps'],
    board: { memoryBytes: GIB },
  },
  {
    name: `node --enable-source-maps ${SMALL_BOARD_FLAGS.join(' ')}`,
    flags: ['--enable-source-maps', ...SMALL_BOARD_FLAGS],
  },
];

const VARIANTS: Variant[] = [
  { name: 'tsx', node: ['--import', 'tsx'], script: 'tsx' },
  { name: 'bundle', node: [], script: 'bundle' },
  { name: `bundle ${SMALL_BOARD_FLAGS.join(' ')}`, node: SMALL_BOARD_FLAGS, script: 'bundle' },
  { name: 'bundle, 1 GiB board', node: [], script: 'bundle', board: { memoryBytes: GIB } },
];

function runProbe(variant: Variant, devices: number): Promise<ProbeFigures> {
  const script = variant.script === 'tsx' ? PROBE : BUNDLE;
  const args = ['--expose-gc', ...variant.node, script, '--devices', String(devices)];
  const options: SpawnOptions = {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...variant.env },
  };
  const cgroup = variant.board ? memoryCgroup(variant.board.memoryBytes) : null;
  return new Promise<ProbeFigures>((resolve, reject) => {
    const child = cgroup
      ? spawnInCgroup(cgroup, process.execPath, args, options)
      : spawn(process.execPath, args, options);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(PROBE_PREFIX));
      if (code !== 0 || !line) reject(new Error(`${variant.name}: exit ${code}\n${out}`));
      else resolve(JSON.parse(line.slice(PROBE_PREFIX.length)) as ProbeFigures);
    });
  }).finally(() => cgroup?.remove());
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const round1 = (x: number) => Math.round(x * 10) / 10;

/** The probe's figures, one row per variant (each its best run), and V8's heap spaces. */
function printProbeTable(
  results: [Variant, ProbeFigures][],
  runs: ProbeFigures[][],
  devices: number,
  loadBefore: string,
): void {
  const first = results[0]![1];
  const spread = (i: number) => {
    const settled = runs[i]!.map((f) => f.settled);
    return `${mb(Math.min(...settled))}-${mb(Math.max(...settled))}`;
  };
  console.log(
    `${devices.toLocaleString('en-US')} devices, ${first.messages.toLocaleString('en-US')} messages, ` +
      `${first.inSession.toLocaleString('en-US')} in a session, ${first.events} events, ` +
      `${first.parked.toLocaleString('en-US')} parked; store: ${first.storeKind}; ` +
      `GC ${first.gcForced ? 'forced' : 'NOT forced'}; load average ${loadBefore} -> ${load()}`,
  );
  const rows = [
    [
      'variant',
      'baseline MB',
      'after feed MB',
      'settled MB',
      'settled spread',
      'settled anon/file MB',
      'heap live/committed MB',
      'bytes/device',
      'feed s',
    ],
    ...results.map(([v, f], i) => [
      v.name,
      mb(f.baseline),
      mb(f.fed),
      mb(f.settled),
      spread(i),
      `${mb(f.rssAnon)}/${mb(f.rssFile)}`,
      `${mb(f.heapUsed)}/${mb(f.heapTotal)}`,
      Math.round((f.settled - f.baseline) / devices).toLocaleString('en-US'),
      f.feedS.toFixed(1),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(widths[i]!)).join('  '));
  for (const [v, f] of results) console.log(`${v.name}: V8 spaces committed/used MB: ${f.spaces}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '10000' },
      only: { type: 'string' },
      try: { type: 'string', multiple: true, default: [] },
      runs: { type: 'string', default: '1' },
      // The shipped worker.mjs started with the devices configured (worker-rss-shipped.ts).
      'skip-shipped': { type: 'boolean', default: false },
      // ... and then fed through the broker until every meter reported (worker-rss-shipped.ts).
      'skip-feed': { type: 'boolean', default: false },
    },
  });
  const devices = Number(values.devices);
  const only = values.only?.split(',').map((s) => s.trim());
  const variants = [
    ...VARIANTS.filter((v) => !only || only.includes(v.name)),
    ...(values.try ?? []).map(triedVariant),
  ].filter((v) => {
    if (!v.board) return true;
    try {
      memoryCgroup(v.board.memoryBytes).remove();
      return true;
    } catch (err) {
      console.log(`${v.name}: skipped, ${(err as Error).message}`);
      return false;
    }
  });
  mkdirSync(dirname(BUNDLE), { recursive: true });
  await bundleWorkerEntry(PROBE, BUNDLE, { logLevel: 'warning' });
  await bundleWorkerEntry(join(here, '../../worker/src/main.ts'), WORKER, { logLevel: 'warning' });
  const loadBefore = load();
  const results: [Variant, ProbeFigures][] = [];
  // Variants interleaved run by run, so a change in the machine's load hits them all alike; each
  // keeps its run with the lowest settled RSS (the spread is printed).
  const runs: ProbeFigures[][] = variants.map(() => []);
  for (let r = 0; r < Number(values.runs); r++)
    for (const [i, variant] of variants.entries()) runs[i]!.push(await runProbe(variant, devices));
  for (const [i, variant] of variants.entries()) {
    const best = runs[i]!.reduce((a, b) => (b.settled < a.settled ? b : a));
    results.push([variant, best]);
  }
  if (results.length > 0) printProbeTable(results, runs, devices, loadBefore);
  const shipped: [string, ShippedFigures][] = [];
  let brokerKind = '';
  if (!values['skip-shipped'] && process.platform === 'linux') {
    const broker = await startBenchBroker();
    brokerKind = broker.kind;
    try {
      for (const variant of SHIPPED) {
        try {
          shipped.push([
            variant.name,
            await measureShippedWorker(
              WORKER,
              broker.url,
              devices,
              variant.flags,
              variant.board,
              !values['skip-feed'],
            ),
          ]);
        } catch (err) {
          if (!variant.board) throw err;
          console.log(`  ${variant.name}: skipped, ${(err as Error).message}`);
        }
      }
    } finally {
      await broker.stop();
    }
  }
  if (shipped.length > 0) {
    console.log(
      `worker/dist/worker.mjs (main.ts, plain node), ${devices.toLocaleString('en-US')} devices configured, ` +
        `none fed, broker ${brokerKind}, RSS ${EARLY_MS / 1000} s / ${SETTLED_MS / 1000} s after start (no forced GC):`,
    );
    for (const [name, f] of shipped)
      console.log(
        `  ${name}: RSS ${mb(f.rssEarly)} / ${mb(f.rss)} MB (settled: anon ${mb(f.rssAnon)}, file ${mb(f.rssFile)}), ` +
          `started in ${(f.startMs / 1000).toFixed(1)} s, every meter polled after ` +
          `${f.readyMs === null ? 'never' : `${(f.readyMs / 1000).toFixed(1)} s`}`,
      );
    for (const [name, f] of shipped) {
      if (!f.fed) continue;
      const machines = Object.entries(f.fed.machines)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ');
      console.log(
        `  ${name}, then fed ${f.fed.messages.toLocaleString('en-US')} messages through the broker at ` +
          `${FEED_RATE.toLocaleString('en-US')}/s (${f.fed.feedS.toFixed(1)} s; ${f.fed.events.toLocaleString('en-US')} ` +
          `events committed; machines: ${machines}): RSS ${mb(f.fed.rss)} MB ${FED_SETTLED_MS / 1000} s ` +
          `after the last event (anon ${mb(f.fed.rssAnon)})`,
      );
    }
  }
  const label = devices.toLocaleString('en-US');
  const first = results[0]?.[1];
  printResult({
    bench: 'worker-rss',
    metrics: results
      .flatMap(([v, f]) => [
        {
          name: `RSS, ${label} devices, settled (${v.name})`,
          value: round1(f.settled / MB),
          unit: 'MB',
          ...(v.name === 'bundle' ? { target: '< 150' } : { better: 'lower' as const }),
        },
        {
          name: `RSS anonymous (not file pages), settled (${v.name})`,
          value: round1(f.rssAnon / MB),
          unit: 'MB',
          better: 'lower' as const,
        },
        {
          name: `RSS, ${label} devices, after the feed (${v.name})`,
          value: round1(f.fed / MB),
          unit: 'MB',
          better: 'lower' as const,
        },
        {
          name: `RSS baseline, modules loaded (${v.name})`,
          value: round1(f.baseline / MB),
          unit: 'MB',
          better: 'lower' as const,
        },
        {
          name: `JS heap used, settled (${v.name})`,
          value: round1(f.heapUsed / MB),
          unit: 'MB',
          better: 'lower' as const,
        },
      ])
      .concat(
        shipped.flatMap(([name, f]) => [
          {
            name: `RSS, worker.mjs with ${label} devices configured, not fed, settled (${name})`,
            value: round1(f.rss / MB),
            unit: 'MB',
            ...(name.includes('board') ? { target: '< 150' } : { better: 'lower' as const }),
          },
          {
            name: `RSS ${EARLY_MS / 1000} s after start (${name})`,
            value: round1(f.rssEarly / MB),
            unit: 'MB',
            better: 'lower' as const,
          },
          ...(f.fed === null
            ? []
            : [
                {
                  name: `RSS, worker.mjs with ${label} devices, every meter reported, settled (${name})`,
                  value: round1(f.fed.rss / MB),
                  unit: 'MB',
                  ...(name.includes('board') ? { target: '< 150' } : { better: 'lower' as const }),
                },
              ]),
          ...(f.readyMs === null
            ? []
            : [
                {
                  name: `every meter subscribed and polled, after start (${name})`,
                  value: round1(f.readyMs / 1000),
                  unit: 's',
                  better: 'lower' as const,
                },
              ]),
        ]),
      ),
    notes: [
      ...(first
        ? [
            `store: ${first.storeKind}`,
            `${first.inSession} of ${devices} devices in a session, ${first.parked} parked`,
          ]
        : []),
      `load average ${loadBefore} -> ${load()}`,
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
