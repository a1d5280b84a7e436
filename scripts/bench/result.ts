/**
 * The result convention of every bench script: it prints one stdout line (the last one wins)
 *
 *   BENCH_RESULT {"bench":"worker-rss","metrics":[{"name":"RSS at 10,000 devices","value":182.4,"unit":"MB","target":"< 300"}]}
 *
 * `target` is "<op> <number>" in the metric's own unit (op: >=, >, <=, <); `run.ts` derives pass/fail
 * from it, and which of several runs is the better one. A metric without a target is informative;
 * `better` then says which way is better when runs are compared. Any language can print this line
 * (Python: `print("BENCH_RESULT " + json.dumps(result))`); nothing else of a bench's output is parsed.
 */
export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface BenchMetric {
  name: string;
  value: number;
  unit: string;
  target?: string;
  better?: 'higher' | 'lower';
}

export interface BenchResult {
  bench: string;
  metrics: BenchMetric[];
  /** Free-form facts a reader needs to judge the figures (broker used, store used, losses). */
  notes?: string[];
}

export function printResult(result: BenchResult): void {
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
}

/** The last BENCH_RESULT line of a bench's stdout, or null when it printed none. */
export function parseResult(stdout: string): BenchResult | null {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_PREFIX));
  return line ? (JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult) : null;
}

/** The target as a comparison, or null for an informative metric. */
export function parseTarget(target: string | undefined): { op: string; limit: number } | null {
  const match = /^\s*(>=|<=|>|<)\s*([-\d.]+)\s*$/.exec(target ?? '');
  return match ? { op: match[1] as string, limit: Number(match[2]) } : null;
}

export function meetsTarget(metric: BenchMetric): boolean | null {
  const t = parseTarget(metric.target);
  if (!t) return null;
  const v = metric.value;
  if (t.op === '>=') return v >= t.limit;
  if (t.op === '>') return v > t.limit;
  if (t.op === '<=') return v <= t.limit;
  return v < t.limit;
}

/** Which way is better: declared, else implied by the target's operator, else unknown. */
export function betterDirection(metric: BenchMetric): 'higher' | 'lower' | null {
  if (metric.better) return metric.better;
  const t = parseTarget(metric.target);
  if (!t) return null;
  return t.op.startsWith('>') ? 'higher' : 'lower';
}
