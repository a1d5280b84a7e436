/**
 * Splits publish -> Odoo commit into phases from the timing lines the worker (log level debug:
 * worker/src/odoo/trace.ts, the outbox commit line in worker/src/app.ts) and Odoo
 * (WORKSHOP_IOT_RPC_TIMINGS=1: addon tools/rpc_timings.py) write. Used by e2e-latency.ts and
 * dashboard-latency.ts. Every time is ms since the epoch on one machine's clock.
 */
import fs from 'node:fs';
import { percentile } from '../dev/util.ts';

/** One measured sample: its event, when the bench published it and when it saw the result. */
export interface EventTimes {
  uid: string;
  publishMs: number;
  seenMs: number;
}

interface Call {
  start: number;
  end: number;
}

interface OdooRequest {
  start: number;
  serverMs: number;
  phases: Record<string, number>;
}

export interface Traces {
  committed: Map<string, { at: number; occurred: number }>;
  requested: Map<string, Call>;
  sent: Map<string, Call>;
  odoo: Map<string, OdooRequest>;
}

const COMMIT_PHASES = new Set(['flush', 'commit', 'postcommit']);

/** Reads the timing lines of both logs (a missing log or line leaves its phases out). */
export function readTraces(workerLog: string, odooLog: string): Traces {
  const t: Traces = {
    committed: new Map(),
    requested: new Map(),
    sent: new Map(),
    odoo: new Map(),
  };
  for (const line of readLines(workerLog)) {
    if (!line.includes('"trace"')) continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (doc.trace === 'outbox_committed') {
      for (const [uid, occurred] of doc.events as [string, string][])
        t.committed.set(uid, { at: doc.at_ms as number, occurred: Date.parse(occurred) });
    } else if (doc.trace === 'odoo_call' && doc.method === 'events.ingest' && doc.ok) {
      const map = doc.stage === 'requested' ? t.requested : t.sent;
      for (const uid of (doc.event_uids as string[]) ?? [])
        map.set(uid, { start: doc.start_ms as number, end: doc.end_ms as number });
    }
  }
  for (const line of readLines(odooLog)) {
    const at = line.indexOf('rpc timings {');
    if (at < 0) continue;
    const doc = JSON.parse(line.slice(at + 'rpc timings '.length)) as {
      start_ms: number;
      server_ms: number;
      phases: Record<string, number>;
      event_uids: string[];
    };
    for (const uid of doc.event_uids)
      t.odoo.set(uid, { start: doc.start_ms, serverMs: doc.server_ms, phases: doc.phases });
  }
  return t;
}

function readLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
}

/** Phase name -> one value (ms) per sample that has the lines for it; in path order. */
export function splitPhases(samples: EventTimes[], t: Traces): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (name: string, value: number | null) => {
    if (value === null || !Number.isFinite(value)) return;
    if (!out.has(name)) out.set(name, []);
    out.get(name)!.push(value);
  };
  for (const s of samples) {
    const c = t.committed.get(s.uid);
    const r = t.requested.get(s.uid);
    const h = t.sent.get(s.uid);
    const o = t.odoo.get(s.uid);
    const handler = o
      ? Object.entries(o.phases)
          .filter(([k]) => !COMMIT_PHASES.has(k))
          .reduce((sum, [, v]) => sum + v, 0)
      : null;
    const commitMs = o
      ? Object.entries(o.phases)
          .filter(([k]) => COMMIT_PHASES.has(k))
          .reduce((sum, [, v]) => sum + v, 0)
      : null;
    // The row is visible once COMMIT returned, before the postcommit hooks.
    const committedAt = o ? o.start + o.serverMs - (o.phases.postcommit ?? 0) : null;
    add('MQTT -> worker event (occurred_at, ms resolution)', c ? c.occurred - s.publishMs : null);
    add('event -> outbox commit (fsync)', c ? c.at - c.occurred : null);
    add('sender wait (batching, previous call in flight)', c && r ? r.start - c.at : null);
    add('Odoo lane wait (behind worker.status & co)', r && h ? h.start - r.start : null);
    add('HTTP -> Odoo route (accept, registry, cursor)', h && o ? o.start - h.start : null);
    add('Odoo auth .. answer built', handler);
    add('Odoo flush + COMMIT + postcommit', commitMs);
    add('Odoo COMMIT -> row seen by the poll (10 ms)', committedAt ? s.seenMs - committedAt : null);
    add('total: publish -> row seen', s.seenMs - s.publishMs);
    if (o) for (const [k, v] of Object.entries(o.phases)) add(`  odoo ${k}`, v);
  }
  return out;
}

/** Markdown lines: one row per phase, p50/p90/p99 and the sample count. */
export function phaseTable(phases: Map<string, number[]>): string[] {
  const lines = ['| phase | n | p50 | p90 | p99 |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const [name, values] of phases) {
    const sorted = [...values].sort((a, b) => a - b);
    const f = (p: number) => percentile(sorted, p).toFixed(1);
    lines.push(`| ${name} | ${sorted.length} | ${f(50)} | ${f(90)} | ${f(99)} |`);
  }
  return lines;
}
