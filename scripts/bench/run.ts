/**
 * `npm run bench [-- --only <name>] [-- --runs N]`: runs every bench script present, each as its own
 * process, reads its `BENCH_RESULT {json}` line (result.ts) and prints one table, as text and as
 * Markdown for the README, with the machine it ran on. The benches' own output goes to stderr, so
 * stdout is only the tables. With --runs N each bench runs N times; the table shows the better run
 * per metric and the spread (min-max), since a shared machine makes single runs noisy.
 * Exit code 1 when a bench failed to run; a missed target is a row in the table, not an error.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchMetric,
  type BenchResult,
  betterDirection,
  meetsTarget,
  parseResult,
} from './result.ts';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ODOO_SRC = process.env.ODOO_SRC ?? '/opt/odoo18';
/** Debian's python3 has Odoo's dependencies; a pyenv/venv python3 first on PATH usually has not. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
/** Each bench is meant to finish well under 2 minutes; this only stops a hung one. */
const TIMEOUT_MS = 180_000;
const hasOdoo = () =>
  existsSync(path.join(ODOO_SRC, 'odoo-bin')) ? null : `no Odoo tree at ${ODOO_SRC}`;

interface Bench {
  name: string;
  file: string;
  /** Why it is skipped on this machine, or null to run it. */
  skip?: () => string | null;
  /** Longer than TIMEOUT_MS for a bench whose workload is slow by nature. */
  timeoutMs?: number;
}

const BENCHES: Bench[] = [
  { name: 'worker-pipeline', file: 'worker-pipeline.ts' },
  // Two QoS variants of 3 rounds: well under a minute on a quiet 2-core VM, minutes on a busy one.
  { name: 'worker-replay', file: 'worker-replay.ts', timeoutMs: 600_000 },
  // Six child processes one after the other (three probes, three started workers): ~2 min when quiet.
  { name: 'worker-rss', file: 'worker-rss.ts', timeoutMs: 600_000 },
  { name: 'state-change', file: 'state-change.ts' },
  { name: 'outbox', file: 'outbox.ts' },
  { name: 'sender-batching', file: 'sender-batching.ts' },
  { name: 'recording', file: 'recording.ts' },
  {
    name: 'odoo-ingest',
    file: 'odoo-ingest.py',
    skip: hasOdoo,
  },
  // Odoo creates ~100-150 invoice lines/s on a 2-core VM: 10,000 lines, twice per round, two rounds.
  { name: 'odoo-invoicing', file: 'invoicing.py', skip: hasOdoo, timeoutMs: 1_200_000 },
  {
    name: 'odoo-maintenance-fold',
    file: 'maintenance-fold.py',
    skip: hasOdoo,
    timeoutMs: 1_200_000,
  },
  { name: 'e2e-latency', file: 'e2e-latency.ts' },
  { name: 'analysis', file: 'analysis.ts' },
  // A real Chromium on the Odoo dashboard (CHROMIUM_PATH, default /usr/bin/chromium).
  { name: 'dashboard-latency', file: 'dashboard-latency.ts', skip: hasOdoo },
];

interface Row {
  bench: string;
  metric: string;
  value: string;
  spread: string;
  target: string;
  result: string;
}

/** Runs a bench once; `failure` is set when it did not exit 0 (crash, timeout). */
function runOnce(bench: Bench): Promise<{ result: BenchResult | null; failure: string | null }> {
  const file = path.join(HERE, bench.file);
  const [cmd, args] = file.endsWith('.py')
    ? [PYTHON, [file]]
    : [process.execPath, ['--expose-gc', '--import', 'tsx', file]];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ODOO_SRC },
    timeout: bench.timeoutMs ?? TIMEOUT_MS,
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  prefixLines(child.stdout, bench.name);
  prefixLines(child.stderr, bench.name);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      const failure = signal ? `killed (${signal})` : code !== 0 ? `exit code ${code}` : null;
      resolve({ result: parseResult(stdout), failure });
    });
  });
}

/** Echoes a child's output to our stderr, each line prefixed with the bench name. */
function prefixLines(stream: NodeJS.ReadableStream, name: string): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) process.stderr.write(`[${name}] ${line}\n`);
  });
  stream.on('end', () => {
    if (partial) process.stderr.write(`[${name}] ${partial}\n`);
  });
}

/** One row per metric: the better of the runs, the spread over them, pass/fail of the better. */
function rowsOf(bench: string, runs: BenchResult[]): Row[] {
  const first = runs[0];
  if (!first) return [];
  return first.metrics.map((m) => {
    const all = runs
      .map((r) => r.metrics.find((x) => x.name === m.name))
      .filter((x): x is BenchMetric => x !== undefined);
    const values = all.map((x) => x.value);
    const direction = betterDirection(m);
    const best =
      direction === 'higher'
        ? Math.max(...values)
        : direction === 'lower'
          ? Math.min(...values)
          : m.value;
    const pass = meetsTarget({ ...m, value: best });
    const spread =
      values.length > 1
        ? `${fmt(Math.min(...values))}-${fmt(Math.max(...values))} (${values.length} runs)`
        : '';
    return {
      bench,
      metric: m.name,
      value: `${fmt(best)} ${m.unit}`,
      spread,
      target: m.target ? `${m.target} ${m.unit}` : '',
      result: pass === null ? '' : pass ? 'pass' : 'FAIL',
    };
  });
}

const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 3 });

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const ram = (os.totalmem() / 1024 ** 3).toFixed(1);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${cpu}, ${os.cpus().length} cores, ${ram} GiB RAM, node ${process.version}, ${os.platform()} ${os.release()} (load average at start: ${load})`;
}

function printTables(rows: Row[], notes: string[], header: string): void {
  const cols: (keyof Row)[] = ['bench', 'metric', 'value', 'spread', 'target', 'result'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const text = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${header}\n`);
  console.log(text(cols));
  for (const r of rows) console.log(text(cols.map((c) => r[c])));
  console.log('\nMarkdown:\n');
  console.log(`Machine: ${header}\n`);
  console.log(`| ${cols.join(' | ')} |`);
  console.log(`| ${cols.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
  if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, runs: { type: 'string', default: '1' } },
  });
  const runs = Math.max(1, Number(values.runs));
  const header = machine();
  const selected = BENCHES.filter((b) => !values.only || b.name === values.only);
  if (selected.length === 0) {
    console.error(
      `Unknown bench '${values.only}'; known: ${BENCHES.map((b) => b.name).join(', ')}`,
    );
    process.exit(2);
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  let crashed = false;
  for (const bench of selected) {
    const skipped = !existsSync(path.join(HERE, bench.file))
      ? 'script not present'
      : bench.skip?.();
    if (skipped) {
      rows.push({
        bench: bench.name,
        metric: `skipped: ${skipped}`,
        value: '',
        spread: '',
        target: '',
        result: '',
      });
      continue;
    }
    const results: BenchResult[] = [];
    for (let i = 0; i < runs; i++) {
      const { result, failure } = await runOnce(bench);
      if (result) results.push(result);
      crashed ||= failure !== null;
      const error = failure ?? (result ? null : 'no BENCH_RESULT line (see its output above)');
      if (error) {
        rows.push({
          bench: bench.name,
          metric: `run ${i + 1}: ${error}`,
          value: '',
          spread: '',
          target: '',
          result: 'ERROR',
        });
      }
    }
    rows.push(...rowsOf(bench.name, results));
    for (const note of new Set(results.flatMap((r) => r.notes ?? [])))
      notes.push(`${bench.name}: ${note}`);
  }
  printTables(rows, notes, header);
  process.exit(crashed ? 1 : 0);
}

void main();
