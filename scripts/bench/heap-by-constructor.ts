/**
 * What a heap snapshot holds, by constructor: `npx tsx scripts/bench/heap-by-constructor.ts <file>
 * [--per N] [--top 40]`. Prints count, self size in total, and per N (e.g. per device: the snapshot
 * of `worker-rss-probe.ts --snapshot <file>` at 10,000 devices with --per 10000), biggest first.
 * Objects are named by constructor; strings, arrays, closures and V8's internal objects by kind
 * (`(string)`, `(array) <name>`, `(closure) <name>`, `(system) <name>`). Self size only: what each
 * object takes itself, not what it keeps alive.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** The label a node is counted under. */
function label(type: string, name: string): string {
  if (type === 'object') return name;
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string')
    return '(string)';
  if (type === 'closure') return `(closure) ${name || 'anonymous'}`;
  if (type === 'array') return `(array) ${name}`;
  if (type === 'number' || type === 'bigint') return `(${type})`;
  return `(${type}) ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '40' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: heap-by-constructor.ts <file.heapsnapshot> [--per N]');
  const per = Number(values.per);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const totals = new Map<string, { count: number; bytes: number }>();
  let all = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const key = label(
      types[snap.nodes[i + typeAt]!] ?? '?',
      snap.strings[snap.nodes[i + nameAt]!] ?? '',
    );
    const size = snap.nodes[i + sizeAt]!;
    const t = totals.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += size;
    totals.set(key, t);
    all += size;
  }
  const rows = [...totals].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top));
  console.log(
    `${(all / 1024 / 1024).toFixed(1)} MB in ${snap.nodes.length / fields.length} objects`,
  );
  console.log(['count', 'MB', `count/${per}`, `bytes/${per}`, 'constructor'].join('\t'));
  for (const [key, t] of rows)
    console.log(
      [
        t.count,
        (t.bytes / 1024 / 1024).toFixed(2),
        (t.count / per).toFixed(1),
        Math.round(t.bytes / per),
        key,
      ].join('\t'),
    );
}

main();
