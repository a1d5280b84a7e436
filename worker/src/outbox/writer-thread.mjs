/**
 * The outbox's writer thread: runs every SQLite write of the outbox in its own thread, so the fsync
 * of `synchronous=FULL` never blocks the event loop that receives MQTT messages.
 *
 * Plain JavaScript on purpose: a worker thread is a fresh isolate without the TypeScript loader of
 * tsx or vitest, and the same file must run from the sources and next to the production bundle.
 * It knows no outbox logic: it receives named statements (SQL from outbox.ts) once, then requests
 * of "items" (lists of [statement name, params]) and runs each request in ONE transaction.
 *
 * Protocol, over the MessagePort `workerData.port`. Requests are flat arrays of primitives, because
 * the structured clone of one flat array costs a fraction of nested per-op arrays:
 *   in:  { id, ops: [opCount, statement index, ...its params, statement index, ...] per item }
 *   out: { id, ok: true, changes: number[] (per op, in order; -1 for the ops of a failed item),
 *          failed: [{ item, code, message }] }      the transaction committed, or failed on the data
 *          and the items were then run one transaction each (the failed ones are listed)
 *   out: { id, ok: false, code, message }           it failed on the medium: nothing done
 *   in:  { id, maintain: { vacuumPages } | { checkpoint: true } }  outside any transaction:
 *        PRAGMA incremental_vacuum(vacuumPages) | wal_checkpoint(TRUNCATE)
 *                                                  -> out: { id, ok: true, freePages, pages }
 *   in:  { id, close: true }                       -> checkpoint, close -> out: { id, ok: true }
 * After each reply the thread bumps `workerData.signal[0]` and notifies it, so the main thread can
 * also wait for a reply synchronously (shutdown, tests) with Atomics.wait + receiveMessageOnPort.
 */
import { createRequire } from 'node:module';
import { workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

/** @type {{ file: string, synchronous: string, busyTimeoutMs: number, cachePragma: string, statements: string[], port: import('node:worker_threads').MessagePort, signal: Int32Array }} */
const { file, synchronous, busyTimeoutMs, cachePragma, statements, port, signal } = workerData;

/** Same rule as outbox.ts: failures of the medium, worth retrying the same write later. */
const TRANSIENT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

function reply(message) {
  port.postMessage(message);
  // Posted first, signalled second: a synchronous waiter that sees the bump finds the message.
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function describe(err) {
  const code = typeof err?.code === 'string' ? err.code : 'ERROR';
  return { code, message: String(err?.message ?? err) };
}

let db;
let prepared;
try {
  db = new Database(file);
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma(`busy_timeout = ${Number(busyTimeoutMs)}`);
  // util/sqlite-cache.ts: better-sqlite3's default would let this cache grow to 16 MB.
  db.pragma(cachePragma);
  // Our SQL has no '?' inside literals, so the count of '?' is the number of parameters.
  prepared = statements.map((sql) => ({
    statement: db.prepare(sql),
    arity: (sql.match(/\?/g) ?? []).length,
  }));
} catch (err) {
  reply({ id: 0, ok: false, ...describe(err) });
  process.exit(1);
}

/** Runs the ops of one item starting at `ops[at]` (its op count); returns where the next item starts. */
function runItem(ops, at, changes) {
  const count = ops[at];
  let i = at + 1;
  for (let k = 0; k < count; k++) {
    const { statement, arity } = prepared[ops[i]];
    changes.push(statement.run(...ops.slice(i + 1, i + 1 + arity)).changes);
    i += 1 + arity;
  }
  return i;
}

/** Where each item starts, and how many ops it has. */
function itemsOf(ops) {
  const starts = [];
  for (let i = 0; i < ops.length; ) {
    starts.push(i);
    const count = ops[i];
    i += 1;
    for (let k = 0; k < count; k++) i += 1 + prepared[ops[i]].arity;
  }
  return starts;
}

const runAll = db.transaction((ops) => {
  const changes = [];
  for (let at = 0; at < ops.length; ) at = runItem(ops, at, changes);
  return changes;
});
const runOne = db.transaction((ops, at) => {
  const changes = [];
  runItem(ops, at, changes);
  return changes;
});

/** Frees pages (the file shrinks at the next checkpoint) or checkpoints; one short step each. */
function maintain(id, request) {
  try {
    if (request.checkpoint) db.pragma('wal_checkpoint(TRUNCATE)');
    else db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(Number(request.vacuumPages)))})`);
    const freePages = db.pragma('freelist_count', { simple: true });
    const pages = db.pragma('page_count', { simple: true });
    reply({ id, ok: true, freePages, pages });
  } catch (err) {
    reply({ id, ok: false, ...describe(err) });
  }
}

port.on('message', (request) => {
  if (request.close) {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      reply({ id: request.id, ok: true });
    } catch (err) {
      reply({ id: request.id, ok: false, ...describe(err) });
    }
    port.close();
    return;
  }
  if (request.maintain) {
    maintain(request.id, request.maintain);
    return;
  }
  const { id, ops } = request;
  try {
    reply({ id, ok: true, changes: runAll(ops), failed: [] });
  } catch (err) {
    const failure = describe(err);
    if (TRANSIENT.test(failure.code)) {
      reply({ id, ok: false, ...failure });
      return;
    }
    // A write that can never commit (a bug upstream): commit the others one by one.
    const changes = [];
    const failed = [];
    itemsOf(ops).forEach((at, item) => {
      try {
        changes.push(...runOne(ops, at));
      } catch (itemErr) {
        failed.push({ item, ...describe(itemErr) });
        for (let k = 0; k < ops[at]; k++) changes.push(-1);
      }
    });
    reply({ id, ok: true, changes, failed });
  }
});
reply({ id: 0, ok: true });
