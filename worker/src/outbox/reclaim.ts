/**
 * Gives the disk space of drained events back (docs/architecture.md, "Outbox: reclaiming space").
 * SQLite keeps deleted pages in the file as free pages; after a large backlog the file would stay
 * at its peak size. The outbox file uses `auto_vacuum = INCREMENTAL` (`enableIncrementalVacuum`),
 * so after a drain that freed much, `PRAGMA incremental_vacuum` returns the free pages to the file
 * system, a slice at a time in the writer thread: each slice is one short transaction queued
 * between group commits, so intake never waits for more than one slice. A WAL checkpoint at the end
 * truncates the file.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../log.ts';
import type { GroupCommit } from './group-commit.ts';

/** Pages freed per slice (4 KiB pages: 4 MiB), a few milliseconds of the writer thread. */
export const SLICE_PAGES = 1024;
/** Start after this many rows left the outbox since the last reclaim ... */
const REMOVED_ROWS = 10_000;
/** ... or when a quarter of the file is free; either way only once at least this much is free. */
const FREE_RATIO = 0.25;
const MIN_FREE_BYTES = 4 * 1024 * 1024;
/** "After a drain": no more pending events than this. */
const DRAINED_DEPTH = 1000;
/** Live data up to this size is rewritten at startup to switch an old file to incremental mode. */
const CONVERT_LIVE_BYTES = 64 * 1024 * 1024;

export interface ReclaimRun {
  slices: number;
  sliceMs: number[];
  freedPages: number;
}

/**
 * Makes the file able to give pages back. Must run before the tables exist (a new file), or as a
 * whole-file VACUUM (an older file). That VACUUM rewrites the live data, so it runs only while
 * little is pending (at startup, before the writer thread); otherwise at a later start.
 */
export function enableIncrementalVacuum(db: Database.Database, log: Logger): void {
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma('auto_vacuum = INCREMENTAL');
  if (pages === 0) return;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const liveBytes = (pages - free) * pageSize;
  if (liveBytes > CONVERT_LIVE_BYTES) {
    log.info(
      { live_mb: Math.round(liveBytes / 1e6) },
      'Outbox file not switched to incremental vacuum yet: too much pending; at a later start',
    );
    return;
  }
  const started = performance.now();
  db.exec('VACUUM');
  log.info(
    {
      mb_before: Math.round((pages * pageSize) / 1e6),
      ms: Math.round(performance.now() - started),
    },
    'Outbox file switched to incremental vacuum (one-off VACUUM)',
  );
}

export class Reclaim {
  readonly #db: Database.Database;
  readonly #commits: GroupCommit;
  readonly #log: Logger;
  readonly #onRun: ((run: ReclaimRun) => void) | undefined;
  #removed = 0;
  #run: (ReclaimRun & { startFree: number }) | null = null;
  #next: NodeJS.Immediate | null = null;

  constructor(
    db: Database.Database,
    commits: GroupCommit,
    log: Logger,
    onRun?: (run: ReclaimRun) => void,
  ) {
    this.#db = db;
    this.#commits = commits;
    this.#log = log;
    this.#onRun = onRun;
  }

  /** A reclaim is under way. */
  running(): boolean {
    return this.#run !== null;
  }

  /** `n` rows left the outbox; `depth` are still pending. Starts a reclaim when worth it. */
  removed(n: number, depth: number): void {
    this.#removed += n;
    if (this.#run || depth > DRAINED_DEPTH) return;
    if (this.#db.pragma('auto_vacuum', { simple: true }) !== 2) return;
    const free = this.#db.pragma('freelist_count', { simple: true }) as number;
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    if (free * pageSize < MIN_FREE_BYTES) return;
    if (this.#removed < REMOVED_ROWS && free < pages * FREE_RATIO) return;
    this.#removed = 0;
    this.#run = { slices: 0, sliceMs: [], freedPages: 0, startFree: free };
    this.#slice();
  }

  /** The writer thread was replaced: the slice it had is never answered. */
  writerReplaced(): void {
    this.#stop();
  }

  close(): void {
    this.#stop();
  }

  #stop(): void {
    if (this.#next) clearImmediate(this.#next);
    this.#next = null;
    this.#run = null;
  }

  #slice(): void {
    const run = this.#run;
    if (!run) return;
    const started = performance.now();
    const sent = this.#commits.maintain({ vacuumPages: SLICE_PAGES }, (reply) => {
      if (this.#run !== run) return;
      if (!reply.ok) {
        this.#log.warn(
          { err: reply },
          'Outbox space reclaim stopped; tried again after the next drain',
        );
        this.#stop();
        return;
      }
      run.slices++;
      run.sliceMs.push(performance.now() - started);
      const progress = run.startFree - run.freedPages - reply.freePages;
      run.freedPages = run.startFree - reply.freePages;
      // Next slice after a turn, so group commits queued meanwhile go first.
      if (reply.freePages > 0 && progress > 0) this.#next = setImmediate(() => this.#slice());
      else this.#finish(run);
    });
    if (!sent) this.#stop();
  }

  #finish(run: ReclaimRun): void {
    const sent = this.#commits.maintain({ checkpoint: true }, () => {
      if (this.#run !== run) return;
      this.#run = null;
      const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
      this.#log.info(
        {
          freed_mb: Math.round((run.freedPages * pageSize) / 1e5) / 10,
          slices: run.slices,
          slowest_slice_ms: Math.round(Math.max(...run.sliceMs)),
        },
        'Outbox space reclaimed after a drain',
      );
      this.#onRun?.({ slices: run.slices, sliceMs: run.sliceMs, freedPages: run.freedPages });
    });
    if (!sent) this.#stop();
  }
}
