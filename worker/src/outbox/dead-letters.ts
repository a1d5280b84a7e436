/**
 * The dead-letter table: events Odoo rejected (moved there by `PendingEvents.settle`), listed for
 * the worker page and the dead-letter RPC (http/rpc-deadletters.ts), requeued or purged.
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.ts';

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

type Row = Omit<DeadLetter, 'event'> & { body: string };
const COLUMNS = 'id, event_uid, device_id, type, body, code, message, at';

export class DeadLetters {
  readonly #commits: GroupCommit;
  readonly #now: () => number;
  readonly #list: Database.Statement;
  readonly #page: Database.Statement;
  readonly #exists: Database.Statement;
  #count: number;

  constructor(db: Database.Database, commits: GroupCommit, now: () => number) {
    this.#commits = commits;
    this.#now = now;
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM dead_letter ORDER BY id DESC LIMIT ?`);
    this.#page = db.prepare(
      `SELECT ${COLUMNS} FROM dead_letter WHERE id < ? ORDER BY id DESC LIMIT ?`,
    );
    this.#exists = db.prepare('SELECT 1 FROM dead_letter WHERE id = ?');
    this.#count = (db.prepare('SELECT count(*) AS n FROM dead_letter').get() as { n: number }).n;
  }

  count(): number {
    return this.#count;
  }

  /** `n` rejected events were moved here (by the sender's settle). */
  added(n: number): void {
    this.#count += n;
  }

  list(limit = 100): DeadLetter[] {
    return (this.#list.all(limit) as Row[]).map(toDeadLetter);
  }

  /** One page, newest first, starting below `beforeId`; `total` counts them all. */
  page(limit: number, beforeId: number | null): { rows: DeadLetter[]; total: number } {
    const rows = this.#page.all(beforeId ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return { rows: rows.map(toDeadLetter), total: this.#count };
  }

  /** Of `ids`, those that are not in the dead-letter table. */
  unknown(ids: readonly number[]): number[] {
    return ids.filter((id) => this.#exists.get(id) === undefined);
  }

  /**
   * Moves dead letters (the listed ones, or all: null) back to the outbox as pending events, in one
   * transaction; the sender then offers them to Odoo again (appended: Odoo folds in any order).
   * Returns how many became pending.
   */
  requeue(ids: readonly number[] | null): number {
    const at = this.#now();
    const batch = this.#commits.batch().item();
    if (ids === null) batch.op('requeueAllDead', [at]).op('purgeAllDead', []);
    else for (const id of ids) batch.op('requeueDead', [at, id]).op('purgeDead', [id]);
    const changes = this.#commits.writeNow(batch);
    const requeued = changes.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0);
    this.#count -= changes.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    return requeued;
  }

  /** Deletes dead letters (the listed ones, or all: null). Returns how many were deleted. */
  purge(ids: readonly number[] | null): number {
    const batch = this.#commits.batch().item();
    if (ids === null) batch.op('purgeAllDead', []);
    else for (const id of ids) batch.op('purgeDead', [id]);
    const removed = this.#commits.writeNow(batch).reduce((a, b) => a + b, 0);
    this.#count -= removed;
    return removed;
  }
}

function toDeadLetter({ body, ...r }: Row): DeadLetter {
  return { ...r, event: JSON.parse(body) as WorkshopEvent };
}
