/**
 * The durable outbox (SQLite in WAL mode through better-sqlite3) and the device snapshot store: the
 * one object the rest of the worker uses. It wires the parts (docs/architecture.md, "Outbox"):
 *
 * - group-commit.ts + commit-state.ts: staged writes go to the writer thread (writer.ts) in groups,
 *   one transaction and one fsync each; its state is one tagged union with one transition function.
 * - snapshot-store.ts: an event and its device snapshot commit in ONE transaction, so after a kill -9
 *   the restored actor state matches the events in the outbox (`DeviceStore`).
 * - queries.ts: what the sender reads and settles; dead-letters.ts: events Odoo rejected.
 * - reclaim.ts: gives the file's free pages back to the disk after a large drain.
 *
 * An event counts as produced when its group is durable (`onCommitted`). `flush()` waits until
 * everything staged is durable (shutdown, tests); `groupCommit: false` makes every `commit()` its own
 * synchronous transaction. Reads use the main thread's own connection: WAL readers never wait for
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
import type { Logger } from '../log.ts';
import { pageCachePragma } from '../util/sqlite-cache.ts';
import { type DeadLetter, DeadLetters } from './dead-letters.ts';
import { GroupCommit } from './group-commit.ts';
import { type PendingEvent, PendingEvents, type Rejected } from './queries.ts';
import { enableIncrementalVacuum, Reclaim, type ReclaimRun } from './reclaim.ts';
import { SCHEMA_SQL } from './schema.ts';
import { SnapshotStore } from './snapshot-store.ts';

export type { DeadLetter } from './dead-letters.ts';
export type { PendingEvent } from './queries.ts';

export interface OutboxOptions {
  dir: string;
  log: Logger;
  maxEvents?: number;
  synchronous?: 'FULL' | 'NORMAL';
  groupCommit?: boolean;
  /**
   * Under load, a group leaves at least this long after the previous one (default
   * GROUP_INTERVAL_MS; 0: as soon as the previous one is durable). See group-commit.ts, "Pacing".
   */
  groupIntervalMs?: number;
  /** How long a write waits for a lock held by another process before it counts as failed. */
  busyTimeoutMs?: number;
  now?: () => number;
  /** Called after each successful commit with the events it made durable (sender wake-up, metrics). */
  onCommitted?: (events: WorkshopEvent[]) => void;
  /** Called when a space reclaim after a drain has finished (metrics, bench). */
  onReclaimed?: (run: ReclaimRun) => void;
}

const CAP_WARNING_EVERY_MS = 60_000;

/**
 * Default pacing of the group commit: at most ~200 transactions a second under load, each event
 * durable at most this much later than without pacing (scripts/bench/README.md, round 6).
 */
export const GROUP_INTERVAL_MS = 5;

export class Outbox implements DeviceStore {
  readonly file: string;
  readonly maxEvents: number;
  readonly #options: OutboxOptions;
  readonly #now: () => number;
  /** The main thread's connection: reads only (writes go through the writer thread). */
  readonly #db: Database.Database;
  readonly #commits: GroupCommit;
  readonly #snapshots: SnapshotStore;
  readonly #pending: PendingEvents;
  readonly #dead: DeadLetters;
  readonly #reclaim: Reclaim;
  readonly #getMeta: Database.Statement;
  #depth: number;
  #lastCapWarning = 0;

  constructor(options: OutboxOptions) {
    this.#options = options;
    fs.mkdirSync(options.dir, { recursive: true });
    this.file = path.join(options.dir, 'outbox.sqlite');
    this.#now = options.now ?? Date.now;
    this.maxEvents = options.maxEvents ?? 1_000_000;
    this.#db = new Database(this.file);
    try {
      enableIncrementalVacuum(this.#db, options.log);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(pageCachePragma());
      // A concurrent writer (our thread, the crash test, sqlite3 CLI) must not make a read fail at once.
      this.#db.pragma('busy_timeout = 5000');
      this.#db.exec(SCHEMA_SQL);
      this.#commits = new GroupCommit({
        file: this.file,
        log: options.log,
        synchronous: options.synchronous ?? 'FULL',
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        groupCommit: options.groupCommit !== false,
        groupIntervalMs: options.groupIntervalMs ?? GROUP_INTERVAL_MS,
        now: this.#now,
        onDurable: (events) => this.#durable(events),
        onWriterReplaced: () => this.#reclaim?.writerReplaced(),
      });
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#snapshots = new SnapshotStore(this.#db, this.#commits);
    this.#pending = new PendingEvents(this.#db, this.#commits, this.#now);
    this.#dead = new DeadLetters(this.#db, this.#commits, this.#now);
    this.#reclaim = new Reclaim(this.#db, this.#commits, options.log, options.onReclaimed);
    this.#getMeta = this.#db.prepare('SELECT value FROM meta WHERE key = ?');
    this.#depth = this.#pending.count();
  }

  /** Replaces the writer thread (it died, or a test simulates that); see GroupCommit. */
  restartWriter(): void {
    this.#commits.restartWriter();
  }

  // --- DeviceStore ----------------------------------------------------------------------------------

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    this.#snapshots.commit(deviceId, events, snapshot);
  }

  loadSnapshot(deviceId: string): unknown | null {
    return this.#snapshots.loadSnapshot(deviceId);
  }

  deleteSnapshot(deviceId: string): void {
    this.#snapshots.deleteSnapshot(deviceId);
  }

  /**
   * Waits (synchronously) until everything staged is durable. Throws when a commit fails on the
   * medium (the writes stay staged and are retried) or when a single write was refused.
   */
  flush(): void {
    this.#commits.flush();
  }

  // --- sender side ----------------------------------------------------------------------------------

  /** The oldest committed events, in commit order (hence in order per device). */
  peek(limit: number): PendingEvent[] {
    return this.#pending.peek(limit);
  }

  /**
   * Settles a sent batch in one transaction: acknowledged rows leave the outbox, rejected rows move to
   * the dead-letter table with Odoo's code and message. A large drain then reclaims disk space.
   */
  settle(acked: number[], rejected: Rejected[]): void {
    const removed = this.#pending.settle(acked, rejected);
    this.#depth -= removed;
    this.#dead.added(rejected.length);
    this.#reclaim.removed(removed, this.#depth);
  }

  depth(): number {
    return this.#depth;
  }

  overCap(): boolean {
    return this.#depth > this.maxEvents;
  }

  /** Commits are failing (disk full, I/O error): health reports degraded. */
  commitError(): Error | null {
    return this.#commits.commitError();
  }

  oldestPendingMs(): number | null {
    return this.#pending.oldestPendingMs();
  }

  /** A space reclaim after a drain is under way. */
  reclaiming(): boolean {
    return this.#reclaim.running();
  }

  // --- dead letters ---------------------------------------------------------------------------------

  deadLetterCount(): number {
    return this.#dead.count();
  }

  deadLetters(limit = 100): DeadLetter[] {
    return this.#dead.list(limit);
  }

  /** One page of dead letters, newest first, starting below `beforeId`; `total` counts them all. */
  deadLetterPage(limit: number, beforeId: number | null): { rows: DeadLetter[]; total: number } {
    return this.#dead.page(limit, beforeId);
  }

  /** Of `ids`, those that are not in the dead-letter table. */
  unknownDeadLetters(ids: readonly number[]): number[] {
    return this.#dead.unknown(ids);
  }

  /** Moves dead letters (listed, or all: null) back to pending; returns how many became pending. */
  requeueDeadLetters(ids: readonly number[] | null): number {
    const requeued = this.#dead.requeue(ids);
    this.#depth += requeued;
    return requeued;
  }

  /** Deletes dead letters (the listed ones, or all: null). Returns how many were deleted. */
  purgeDeadLetters(ids: readonly number[] | null): number {
    return this.#dead.purge(ids);
  }

  // --- meta -----------------------------------------------------------------------------------------

  getMeta(key: string): string | null {
    const row = this.#getMeta.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#commits.writeNow(this.#commits.batch().item().op('setMeta', [key, value]));
  }

  /** Commits what is staged, checkpoints the WAL and closes the database. */
  close(): void {
    if (this.#commits.state === 'closed') return;
    this.#reclaim.close();
    try {
      this.#commits.close();
    } finally {
      this.#db.close();
    }
  }

  #durable(events: WorkshopEvent[]): void {
    this.#depth += events.length;
    this.#checkCap();
    this.#options.onCommitted?.(events);
  }

  #checkCap(): void {
    if (this.#depth <= this.maxEvents) return;
    const now = this.#now();
    if (now - this.#lastCapWarning < CAP_WARNING_EVERY_MS) return;
    this.#lastCapWarning = now;
    this.#options.log.warn(
      { depth: this.#depth, max_events: this.maxEvents },
      'Outbox above max_events: Odoo is not taking events; still accepting (nothing is dropped), disk use grows',
    );
  }
}
