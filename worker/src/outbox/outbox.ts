/**
 * The durable outbox (SQLite in WAL mode through better-sqlite3) and the device snapshot store.
 *
 * Guarantee: an event and the device snapshot produced with it are committed in ONE transaction, and
 * the sender only ever reads committed rows, so an event is durable before anything depends on it, and
 * after a kill -9 the restored actor state always matches the events already in the outbox.
 *
 * Group commit: `commit()` stages the write and the transaction runs at the end of the current
 * event-loop turn (setImmediate), together with every other device's writes of that turn. One fsync
 * then covers a whole burst of MQTT messages. A crash before the group commits loses the staged writes
 * *and* their snapshots together, which is the same as those MQTT messages never arriving: state and
 * events stay consistent. `flush()` commits immediately (shutdown, tests); `groupCommit: false` makes
 * every `commit()` its own transaction.
 *
 * Durability: `synchronous=FULL` (default) fsyncs the WAL on every commit, so a committed event also
 * survives a power cut; NORMAL only survives a process crash. Measured in worker/README.md.
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
  now?: () => number;
  /** Called after each successful commit with the events it made durable (sender wake-up, metrics). */
  onCommitted?: (events: WorkshopEvent[]) => void;
}

type Staged =
  | { kind: 'commit'; deviceId: string; events: WorkshopEvent[]; snapshot: unknown }
  | { kind: 'delete'; deviceId: string };

const RETRY_FAILED_COMMIT_MS = 1000;
const CAP_WARNING_EVERY_MS = 60_000;

export class Outbox implements DeviceStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepare>;
  private staged: Staged[] = [];
  /** Latest staged snapshot per device, so reads in the same turn see their own writes. */
  private stagedSnapshots = new Map<string, string | null>();
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private depthCount: number;
  private deadCount: number;
  private lastCapWarning = 0;
  private failing: Error | null = null;
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
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    // A concurrent reader (the crash test, sqlite3 CLI) must not make a commit fail at once.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    this.stmt = prepare(this.db);
    this.depthCount = (this.stmt.depth.get() as { n: number }).n;
    this.deadCount = (this.stmt.deadCount.get() as { n: number }).n;
  }

  // --- DeviceStore ----------------------------------------------------------------------------------

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    this.assertOpen();
    const json = snapshot === undefined || snapshot === null ? null : JSON.stringify(snapshot);
    this.staged.push({ kind: 'commit', deviceId, events, snapshot: json });
    if (json !== null) this.stagedSnapshots.set(deviceId, json);
    if (this.options.groupCommit === false) this.flush();
    else this.schedule(0);
  }

  loadSnapshot(deviceId: string): unknown | null {
    const staged = this.stagedSnapshots.get(deviceId);
    if (staged !== undefined) return staged === null ? null : JSON.parse(staged);
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

  /** Commits everything staged now, in one transaction. Throws when the commit fails. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled as NodeJS.Immediate);
      clearTimeout(this.scheduled as NodeJS.Timeout);
      this.scheduled = null;
    }
    if (this.staged.length === 0) return;
    const group = this.staged;
    let inserted: WorkshopEvent[];
    try {
      inserted = this.runGroup(group);
    } catch (err) {
      if (isTransient(err)) {
        // Disk full, I/O error, locked: the data is fine, the disk is not. Keep it and retry.
        this.failing = err as Error;
        this.options.log.error(
          { err, staged: group.length },
          'Outbox commit failed; keeping the writes staged and retrying',
        );
        this.schedule(RETRY_FAILED_COMMIT_MS);
        throw writeFailed(err);
      }
      // A write that can never commit (a bug upstream): commit the others one by one, log the bad.
      this.staged = [];
      this.stagedSnapshots.clear();
      inserted = this.isolate(group, err);
      if (group.length === 1) throw writeFailed(err);
    }
    this.staged = [];
    this.stagedSnapshots.clear();
    if (this.failing) this.options.log.info('Outbox commits work again');
    this.failing = null;
    this.depthCount += inserted.length;
    if (inserted.length > 0) {
      this.checkCap();
      this.options.onCommitted?.(inserted);
    }
  }

  private runGroup(group: Staged[]): WorkshopEvent[] {
    const at = this.now();
    const inserted: WorkshopEvent[] = [];
    this.db.transaction(() => {
      for (const item of group) {
        if (item.kind === 'delete') {
          this.stmt.deleteSnapshot.run(item.deviceId);
          continue;
        }
        for (const e of item.events) {
          // OR IGNORE: a re-staged group (after a failed commit) must not fail on its own rows.
          const r = this.stmt.insert.run(
            item.deviceId,
            e.seq,
            e.event_uid,
            e.type,
            JSON.stringify(e),
            at,
          );
          if (r.changes > 0) inserted.push(e);
        }
        if (item.snapshot !== null)
          this.stmt.putSnapshot.run(item.deviceId, item.snapshot as string, at);
      }
    })();
    return inserted;
  }

  private isolate(group: Staged[], err: unknown): WorkshopEvent[] {
    const inserted: WorkshopEvent[] = [];
    for (const item of group) {
      try {
        inserted.push(...this.runGroup([item]));
      } catch (itemErr) {
        this.options.log.error(
          { err: itemErr, device_id: item.deviceId, group_error: String(err) },
          'Outbox write refused by the database (not committed, nor its snapshot)',
        );
      }
    }
    return inserted;
  }

  private schedule(delayMs: number): void {
    if (this.scheduled || this.closed) return;
    const run = () => {
      this.scheduled = null;
      try {
        this.flush();
      } catch {
        // Logged and rescheduled by flush(); nothing to add here.
      }
    };
    this.scheduled = delayMs === 0 ? setImmediate(run) : setTimeout(run, delayMs);
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
    const at = new Date(this.now()).toISOString();
    let removed = 0;
    this.db.transaction(() => {
      for (const id of acked) removed += this.stmt.remove.run(id).changes;
      for (const r of rejected) {
        this.stmt.deadLetter.run(
          r.item.event_uid,
          r.item.device_id,
          r.item.type,
          JSON.stringify(r.item.event),
          r.code.slice(0, 64),
          r.message.slice(0, 1024),
          at,
        );
        removed += this.stmt.remove.run(r.item.id).changes;
      }
    })();
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

  getMeta(key: string): string | null {
    const row = this.stmt.getMeta.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  /** Commits what is staged, checkpoints the WAL and closes the database. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.scheduled) {
        clearImmediate(this.scheduled as NodeJS.Immediate);
        clearTimeout(this.scheduled as NodeJS.Timeout);
        this.scheduled = null;
      }
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
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

/** SQLite failures of the medium, not of the data: worth retrying the same write later. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|PROTOCOL|NOMEM)/.test(code)
  );
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      'INSERT OR IGNORE INTO outbox (device_id, seq, event_uid, type, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    putSnapshot: db.prepare(
      'INSERT INTO snapshots (device_id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
    ),
    getSnapshot: db.prepare('SELECT body FROM snapshots WHERE device_id = ?'),
    deleteSnapshot: db.prepare('DELETE FROM snapshots WHERE device_id = ?'),
    peek: db.prepare(
      'SELECT id, device_id, event_uid, type, body, created_at FROM outbox ORDER BY id LIMIT ?',
    ),
    remove: db.prepare('DELETE FROM outbox WHERE id = ?'),
    deadLetter: db.prepare(
      'INSERT INTO dead_letter (event_uid, device_id, type, body, code, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    depth: db.prepare('SELECT count(*) AS n FROM outbox'),
    deadCount: db.prepare('SELECT count(*) AS n FROM dead_letter'),
    oldest: db.prepare('SELECT created_at FROM outbox ORDER BY id LIMIT 1'),
    deadLetters: db.prepare(
      'SELECT id, event_uid, device_id, type, body, code, message, at FROM dead_letter ORDER BY id DESC LIMIT ?',
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
  };
}
