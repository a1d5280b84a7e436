/**
 * The durable outbox (SQLite in WAL mode through better-sqlite3) and the device snapshot store.
 *
 * Guarantee: an event and the device snapshot produced with it are committed in ONE transaction, and
 * the sender only ever reads committed rows, so an event is durable before anything depends on it, and
 * after a kill -9 the restored actor state always matches the events already in the outbox.
 *
 * Group commit: `commit()` stages the write; at the end of the current event-loop turn the staged
 * writes of every device go to the writer thread (writer.ts) as ONE transaction. One fsync then covers
 * a whole burst of MQTT messages, and it happens off the event loop. One group is in flight at a time:
 * what is staged meanwhile becomes the next group as soon as the first is durable (every `commit()`
 * checks for the thread's reply itself, so a loop busy with a burst does not hold it), so commit order
 * (the outbox id order the sender reads) is staging order even when a commit has to be retried. An
 * event counts as produced when its group is durable (`onCommitted`). A crash before that loses the
 * group's writes *and* their snapshots together, which is the same as those MQTT messages never
 * arriving: state and events stay consistent. Until then the device reads its own snapshot from the
 * staged or in-flight group. `flush()` waits synchronously until everything staged is durable
 * (shutdown, tests); `groupCommit: false` makes every `commit()` its own synchronous transaction.
 * Reads (peek, snapshots, counts) use the main thread's own connection: WAL readers never wait for
 * the writer.
 *
 * Durability: `synchronous=FULL` (default) fsyncs the WAL on every commit, so a committed event also
 * survives a power cut; NORMAL only survives a process crash. Measured in scripts/bench/README.md.
 *
 * Cap: `max_events` is an alarm, not a drop. Above it the outbox keeps accepting (losing an event is
 * worse than using disk) while logging a warning, flagging health `degraded` and raising a metric.
 * Only the disk itself bounds it; a failed commit (disk full) keeps the group staged and retries.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkshopEvent } from '@workshop-iot/shared';
import Database from 'better-sqlite3';
import type { DeviceStore } from '../devices/stores.ts';
import { WorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { SCHEMA_SQL } from './schema.ts';
import { OutboxWriter, type WriteBatch, type WriteReply } from './writer.ts';

export interface PendingEvent {
  id: number;
  device_id: string;
  event_uid: string;
  type: string;
  created_at_ms: number;
  event: WorkshopEvent;
}

export interface DeadLetter {
  id: number;
  event_uid: string;
  device_id: string;
  type: string;
  code: string;
  message: string;
  at: string;
  event: WorkshopEvent;
}

export interface OutboxOptions {
  dir: string;
  log: Logger;
  maxEvents?: number;
  synchronous?: 'FULL' | 'NORMAL';
  groupCommit?: boolean;
  /** How long a write waits for a lock held by another process before it counts as failed. */
  busyTimeoutMs?: number;
  now?: () => number;
  /** Called after each successful commit with the events it made durable (sender wake-up, metrics). */
  onCommitted?: (events: WorkshopEvent[]) => void;
}

type Staged =
  | { kind: 'commit'; deviceId: string; events: WorkshopEvent[]; snapshot: string | null }
  | { kind: 'delete'; deviceId: string };

/** A group handed to the writer thread and not yet durable. */
interface InFlight {
  group: Staged[];
  batch: WriteBatch;
  snapshots: Map<string, string | null>;
  /** Submitted and unanswered (false after a failure, until the retry). */
  awaiting: boolean;
}

const RETRY_FAILED_COMMIT_MS = 1000;
/** Staged writes per transaction at most (a burst after a stall commits in several). */
const MAX_GROUP_ITEMS = 1000;
const CAP_WARNING_EVERY_MS = 60_000;

export class Outbox implements DeviceStore {
  readonly file: string;
  /** The main thread's connection: reads only (writes go through the writer thread). */
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepareReads>;
  private writer: OutboxWriter;
  private staged: Staged[] = [];
  /** Latest staged snapshot per device, so reads in the same turn see their own writes. */
  private stagedSnapshots = new Map<string, string | null>();
  private inFlight: InFlight | null = null;
  /** The one pending send or retry, with its kind: each kind is cleared by its own function. */
  private scheduled:
    | { kind: 'immediate'; handle: NodeJS.Immediate }
    | { kind: 'timer'; handle: NodeJS.Timeout }
    | null = null;
  /** Set while no writer thread runs (a replacement failed to start): writes wait staged. */
  private writerDown: Error | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private depthCount: number;
  private deadCount: number;
  private lastCapWarning = 0;
  private failing: Error | null = null;
  /** Set by a reply that failed on the medium; thrown by the synchronous `flush()` waiting for it. */
  private lastFailure: Error | null = null;
  private closed = false;
  private readonly now: () => number;
  readonly maxEvents: number;

  constructor(private readonly options: OutboxOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    this.file = path.join(options.dir, 'outbox.sqlite');
    this.now = options.now ?? Date.now;
    this.maxEvents = options.maxEvents ?? 1_000_000;
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    // A concurrent writer (our thread, the crash test, sqlite3 CLI) must not make a read fail at once.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    this.stmt = prepareReads(this.db);
    this.depthCount = (this.stmt.depth.get() as { n: number }).n;
    this.deadCount = (this.stmt.deadCount.get() as { n: number }).n;
    try {
      this.writer = this.startWriter();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private startWriter(): OutboxWriter {
    return new OutboxWriter(this.file, {
      synchronous: this.options.synchronous ?? 'FULL',
      busyTimeoutMs: this.options.busyTimeoutMs ?? 5000,
      statements: WRITE_SQL,
      onExit: (err) => {
        this.options.log.error(
          { err },
          'Outbox writer thread ended unexpectedly; starting a new one',
        );
        this.restartWriter();
      },
    });
  }

  /**
   * Replaces the writer thread (it died, or a test simulates that) and sends the in-flight group
   * again. Safe to repeat: inserts are OR IGNORE on event_uid and snapshots are upserts, so a group
   * the old thread may have committed before dying commits nothing twice.
   */
  restartWriter(): void {
    if (this.closed) return;
    this.writer.terminate();
    try {
      this.writer = this.startWriter();
    } catch (err) {
      this.failing = this.writerDown = err as Error;
      this.options.log.error({ err }, 'Outbox writer thread cannot start; retrying');
      this.restartTimer ??= setTimeout(() => {
        this.restartTimer = null;
        this.restartWriter();
      }, RETRY_FAILED_COMMIT_MS);
      return;
    }
    if (this.writerDown && this.failing === this.writerDown) this.failing = null;
    this.writerDown = null;
    if (this.inFlight) {
      this.inFlight.awaiting = false;
      this.submitInFlight();
    } else {
      this.send();
    }
  }

  // --- DeviceStore ----------------------------------------------------------------------------------

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    this.assertOpen();
    const json = snapshot === undefined || snapshot === null ? null : JSON.stringify(snapshot);
    this.staged.push({ kind: 'commit', deviceId, events, snapshot: json });
    if (json !== null) this.stagedSnapshots.set(deviceId, json);
    if (this.options.groupCommit === false) this.flush();
    else {
      this.schedule(0);
      // The group in flight may be durable already: then this write goes in the next group now.
      this.writer.poll();
    }
  }

  loadSnapshot(deviceId: string): unknown | null {
    // Newest first: staged, then in flight, then committed. null: deleted there.
    for (const layer of [this.stagedSnapshots, this.inFlight?.snapshots]) {
      if (!layer?.has(deviceId)) continue;
      const own = layer.get(deviceId);
      return own === null || own === undefined ? null : JSON.parse(own);
    }
    const row = this.stmt.getSnapshot.get(deviceId) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : null;
  }

  deleteSnapshot(deviceId: string): void {
    this.assertOpen();
    this.staged.push({ kind: 'delete', deviceId });
    this.stagedSnapshots.set(deviceId, null);
    if (this.options.groupCommit === false) this.flush();
    else this.schedule(0);
  }

  // --- group commit ---------------------------------------------------------------------------------

  /**
   * Waits (synchronously) until everything staged is durable. Throws when a commit fails on the
   * medium (the writes stay staged and are retried) or when a single write was refused.
   */
  flush(): void {
    this.cancelSchedule();
    this.lastFailure = null;
    if (this.writerDown) throw writeFailed(this.writerDown);
    while (this.inFlight || this.staged.length > 0) {
      if (this.inFlight) this.submitInFlight();
      else this.send();
      this.writer.waitFor(() => this.inFlight === null || this.lastFailure !== null);
      if (this.lastFailure) throw this.lastFailure;
    }
  }

  /**
   * Hands the staged group to the writer thread: at most MAX_GROUP_ITEMS writes, the rest go next
   * (bounds the copy to the thread and the thread's memory after a long stall).
   */
  private send(): void {
    if (this.inFlight || this.staged.length === 0 || this.closed || this.writerDown) return;
    const at = this.now();
    let group = this.staged;
    let snapshots = this.stagedSnapshots;
    if (group.length > MAX_GROUP_ITEMS) {
      this.staged = group.slice(MAX_GROUP_ITEMS);
      group = group.slice(0, MAX_GROUP_ITEMS);
      snapshots = snapshotsOf(group);
      this.stagedSnapshots = snapshotsOf(this.staged);
    } else {
      this.staged = [];
      this.stagedSnapshots = new Map();
    }
    const batch = this.writer.batch();
    for (const item of group) addItem(batch, item, at);
    this.inFlight = { group, batch, snapshots, awaiting: false };
    this.submitInFlight();
  }

  private submitInFlight(): void {
    const flight = this.inFlight;
    if (!flight || flight.awaiting || this.writerDown) return;
    flight.awaiting = true;
    this.writer.submit(flight.batch, (reply) => this.settleGroup(flight, reply));
  }

  private settleGroup(flight: InFlight, reply: WriteReply): void {
    flight.awaiting = false;
    if (!reply.ok) {
      // Disk full, I/O error, locked: the data is fine, the disk is not. Keep it and retry.
      const err = Object.assign(new Error(reply.message), { code: reply.code });
      this.failing = err;
      this.lastFailure = writeFailed(err);
      this.options.log.error(
        { err, staged: flight.group.length },
        'Outbox commit failed; keeping the writes staged and retrying',
      );
      if (!this.closed) {
        // The retry takes the one timer slot. A pending end-of-turn send (commit() noticed this
        // reply itself) would have nothing to send while the group is in flight, and when it ran it
        // would clear the slot: close() could then no longer cancel the retry.
        this.cancelSchedule();
        const handle = setTimeout(() => {
          this.scheduled = null;
          this.submitInFlight();
        }, RETRY_FAILED_COMMIT_MS);
        this.scheduled = { kind: 'timer', handle };
      }
      return;
    }
    this.inFlight = null;
    const refused = new Map(reply.failed.map((f) => [f.item, f]));
    for (const f of reply.failed) {
      // A write that can never commit (a bug upstream); the others of the group committed.
      this.options.log.error(
        { err: { code: f.code, message: f.message }, device_id: flight.group[f.item]?.deviceId },
        'Outbox write refused by the database (not committed, nor its snapshot)',
      );
    }
    // Every event of a committed item is durable now. An insert that changed nothing (OR IGNORE)
    // found its row already there: a thread that died after committing this group, unanswered.
    const inserted: WorkshopEvent[] = [];
    flight.group.forEach((item, i) => {
      if (item.kind === 'commit' && !refused.has(i)) inserted.push(...item.events);
    });
    const only = reply.failed[0];
    if (only && flight.group.length === 1) {
      this.lastFailure = writeFailed(Object.assign(new Error(only.message), { code: only.code }));
    }
    if (this.failing) this.options.log.info('Outbox commits work again');
    this.failing = null;
    this.depthCount += inserted.length;
    if (inserted.length > 0) {
      this.checkCap();
      this.options.onCommitted?.(inserted);
    }
    // What was staged while this group was on disk goes next, at once.
    this.send();
  }

  private schedule(delayMs: number): void {
    if (this.scheduled || this.closed) return;
    const run = () => {
      this.scheduled = null;
      this.send();
    };
    this.scheduled =
      delayMs === 0
        ? { kind: 'immediate', handle: setImmediate(run) }
        : { kind: 'timer', handle: setTimeout(run, delayMs) };
  }

  private cancelSchedule(): void {
    const scheduled = this.scheduled;
    if (!scheduled) return;
    if (scheduled.kind === 'immediate') clearImmediate(scheduled.handle);
    else clearTimeout(scheduled.handle);
    this.scheduled = null;
  }

  private checkCap(): void {
    if (this.depthCount <= this.maxEvents) return;
    const now = this.now();
    if (now - this.lastCapWarning < CAP_WARNING_EVERY_MS) return;
    this.lastCapWarning = now;
    this.options.log.warn(
      { depth: this.depthCount, max_events: this.maxEvents },
      'Outbox above max_events: Odoo is not taking events; still accepting (nothing is dropped), disk use grows',
    );
  }

  // --- sender side ----------------------------------------------------------------------------------

  /** The oldest committed events, in commit order (hence in order per device). */
  peek(limit: number): PendingEvent[] {
    const rows = this.stmt.peek.all(limit) as {
      id: number;
      device_id: string;
      event_uid: string;
      type: string;
      body: string;
      created_at: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      device_id: r.device_id,
      event_uid: r.event_uid,
      type: r.type,
      created_at_ms: r.created_at,
      event: JSON.parse(r.body) as WorkshopEvent,
    }));
  }

  /**
   * Settles a sent batch in one transaction: acknowledged rows leave the outbox, rejected rows move to
   * the dead-letter table with Odoo's code and message.
   */
  settle(acked: number[], rejected: { item: PendingEvent; code: string; message: string }[]): void {
    this.assertOpen();
    const at = new Date(this.now()).toISOString();
    const batch = this.writer.batch().item();
    for (const id of acked) batch.op('remove', [id]);
    for (const r of rejected) {
      batch.op('deadLetter', [
        r.item.event_uid,
        r.item.device_id,
        r.item.type,
        JSON.stringify(r.item.event),
        r.code.slice(0, 64),
        r.message.slice(0, 1024),
        at,
      ]);
      batch.op('remove', [r.item.id]);
    }
    // Synchronous: the sender peeks again right after, and must not see these rows again.
    const changes = this.writeNow(batch);
    // Ops: one remove per acked id, then (dead letter, remove) per rejected item.
    let removed = 0;
    changes.forEach((n, i) => {
      if (i < acked.length || (i - acked.length) % 2 === 1) removed += n;
    });
    this.depthCount -= removed;
    this.deadCount += rejected.length;
  }

  depth(): number {
    return this.depthCount;
  }

  overCap(): boolean {
    return this.depthCount > this.maxEvents;
  }

  /** Commits are failing (disk full, I/O error): health reports degraded. */
  commitError(): Error | null {
    return this.failing;
  }

  oldestPendingMs(): number | null {
    const row = this.stmt.oldest.get() as { created_at: number } | undefined;
    return row ? Math.max(0, this.now() - row.created_at) : null;
  }

  deadLetterCount(): number {
    return this.deadCount;
  }

  deadLetters(limit = 100): DeadLetter[] {
    const rows = this.stmt.deadLetters.all(limit) as (Omit<DeadLetter, 'event'> & {
      body: string;
    })[];
    return rows.map(({ body, ...r }) => ({ ...r, event: JSON.parse(body) as WorkshopEvent }));
  }

  /** One page of dead letters, newest first, starting below `beforeId`; `total` counts them all. */
  deadLetterPage(limit: number, beforeId: number | null): { rows: DeadLetter[]; total: number } {
    const rows = this.stmt.deadLetterPage.all(beforeId ?? Number.MAX_SAFE_INTEGER, limit) as (Omit<
      DeadLetter,
      'event'
    > & { body: string })[];
    return {
      rows: rows.map(({ body, ...r }) => ({ ...r, event: JSON.parse(body) as WorkshopEvent })),
      total: this.deadCount,
    };
  }

  /** Of `ids`, those that are not in the dead-letter table. */
  unknownDeadLetters(ids: readonly number[]): number[] {
    return ids.filter((id) => this.stmt.deadLetterExists.get(id) === undefined);
  }

  /**
   * Moves dead letters (the listed ones, or all: null) back to the outbox as pending events, in one
   * transaction; the sender then offers them to Odoo again (appended: Odoo folds in any order).
   * Returns how many became pending.
   */
  requeueDeadLetters(ids: readonly number[] | null): number {
    this.assertOpen();
    const at = this.now();
    const batch = this.writer.batch().item();
    if (ids === null) batch.op('requeueAllDead', [at]).op('purgeAllDead', []);
    else for (const id of ids) batch.op('requeueDead', [at, id]).op('purgeDead', [id]);
    const changes = this.writeNow(batch);
    const requeued = changes.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0);
    const removed = changes.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    this.depthCount += requeued;
    this.deadCount -= removed;
    return requeued;
  }

  /** Deletes dead letters (the listed ones, or all: null). Returns how many were deleted. */
  purgeDeadLetters(ids: readonly number[] | null): number {
    this.assertOpen();
    const batch = this.writer.batch().item();
    if (ids === null) batch.op('purgeAllDead', []);
    else for (const id of ids) batch.op('purgeDead', [id]);
    const removed = this.writeNow(batch).reduce((a, b) => a + b, 0);
    this.deadCount -= removed;
    return removed;
  }

  getMeta(key: string): string | null {
    const row = this.stmt.getMeta.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.assertOpen();
    this.writeNow(this.writer.batch().item().op('setMeta', [key, value]));
  }

  /** One transaction in the writer thread, waited for: rare writes that callers expect done. */
  private writeNow(batch: WriteBatch): number[] {
    if (this.writerDown) throw writeFailed(this.writerDown);
    const reply = this.writer.run(batch);
    const failure = reply.ok ? reply.failed[0] : reply;
    if (failure) {
      throw writeFailed(Object.assign(new Error(failure.message), { code: failure.code }));
    }
    return reply.ok ? reply.changes : [];
  }

  /** Commits what is staged, checkpoints the WAL and closes the database. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.cancelSchedule();
      if (this.restartTimer) clearTimeout(this.restartTimer);
      try {
        this.writer.close();
      } finally {
        this.db.close();
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('Outbox is closed');
  }
}

const writeFailed = (err: unknown) =>
  new WorkerError('OUTBOX_WRITE_FAILED', { reason: (err as Error).message }, undefined, {
    cause: err,
  });

/** Every write of the outbox, run by the writer thread (writer-thread.mjs) by name. */
const WRITE_SQL = {
  insert:
    'INSERT OR IGNORE INTO outbox (device_id, seq, event_uid, type, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  putSnapshot:
    'INSERT INTO snapshots (device_id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
  deleteSnapshot: 'DELETE FROM snapshots WHERE device_id = ?',
  remove: 'DELETE FROM outbox WHERE id = ?',
  deadLetter:
    'INSERT INTO dead_letter (event_uid, device_id, type, body, code, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  // Back to pending with a new id (the end of the queue); seq is the event's own, from its body.
  requeueDead:
    "INSERT OR IGNORE INTO outbox (device_id, seq, event_uid, type, body, created_at) SELECT device_id, coalesce(json_extract(body, '$.seq'), 0), event_uid, type, body, ? FROM dead_letter WHERE id = ?",
  requeueAllDead:
    "INSERT OR IGNORE INTO outbox (device_id, seq, event_uid, type, body, created_at) SELECT device_id, coalesce(json_extract(body, '$.seq'), 0), event_uid, type, body, ? FROM dead_letter ORDER BY id",
  purgeDead: 'DELETE FROM dead_letter WHERE id = ?',
  purgeAllDead: 'DELETE FROM dead_letter',
  setMeta:
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
} as const;

/** The latest snapshot (or deletion: null) per device among `items`. */
function snapshotsOf(items: Staged[]): Map<string, string | null> {
  const snapshots = new Map<string, string | null>();
  for (const item of items) {
    if (item.kind === 'delete') snapshots.set(item.deviceId, null);
    else if (item.snapshot !== null) snapshots.set(item.deviceId, item.snapshot);
  }
  return snapshots;
}

/** Adds one staged write as one item: its events, then its snapshot (settleGroup reads that order). */
function addItem(batch: WriteBatch, item: Staged, at: number): void {
  batch.item();
  if (item.kind === 'delete') {
    batch.op('deleteSnapshot', [item.deviceId]);
    return;
  }
  for (const e of item.events) {
    batch.op('insert', [item.deviceId, e.seq, e.event_uid, e.type, JSON.stringify(e), at]);
  }
  if (item.snapshot !== null) batch.op('putSnapshot', [item.deviceId, item.snapshot, at]);
}

function prepareReads(db: Database.Database) {
  return {
    getSnapshot: db.prepare('SELECT body FROM snapshots WHERE device_id = ?'),
    peek: db.prepare(
      'SELECT id, device_id, event_uid, type, body, created_at FROM outbox ORDER BY id LIMIT ?',
    ),
    depth: db.prepare('SELECT count(*) AS n FROM outbox'),
    deadCount: db.prepare('SELECT count(*) AS n FROM dead_letter'),
    oldest: db.prepare('SELECT created_at FROM outbox ORDER BY id LIMIT 1'),
    deadLetters: db.prepare(
      'SELECT id, event_uid, device_id, type, body, code, message, at FROM dead_letter ORDER BY id DESC LIMIT ?',
    ),
    deadLetterPage: db.prepare(
      'SELECT id, event_uid, device_id, type, body, code, message, at FROM dead_letter WHERE id < ? ORDER BY id DESC LIMIT ?',
    ),
    deadLetterExists: db.prepare('SELECT 1 FROM dead_letter WHERE id = ?'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
  };
}
