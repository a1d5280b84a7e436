/**
 * The sender's side of the outbox: the oldest committed events, and settling a sent batch. Reads use
 * the main thread's own connection (WAL readers never wait for the writer); writes go through the
 * writer thread, waited for, because the sender peeks again right after.
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.ts';

export interface PendingEvent {
  id: number;
  device_id: string;
  event_uid: string;
  type: string;
  created_at_ms: number;
  event: WorkshopEvent;
}

export interface Rejected {
  item: PendingEvent;
  code: string;
  message: string;
}

export class PendingEvents {
  readonly #commits: GroupCommit;
  readonly #now: () => number;
  readonly #peek: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #count: Database.Statement;

  constructor(db: Database.Database, commits: GroupCommit, now: () => number) {
    this.#commits = commits;
    this.#now = now;
    this.#peek = db.prepare(
      'SELECT id, device_id, event_uid, type, body, created_at FROM outbox ORDER BY id LIMIT ?',
    );
    this.#oldest = db.prepare('SELECT created_at FROM outbox ORDER BY id LIMIT 1');
    this.#count = db.prepare('SELECT count(*) AS n FROM outbox');
  }

  count(): number {
    return (this.#count.get() as { n: number }).n;
  }

  /** The oldest committed events, in commit order (hence in order per device). */
  peek(limit: number): PendingEvent[] {
    const rows = this.#peek.all(limit) as {
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

  oldestPendingMs(): number | null {
    const row = this.#oldest.get() as { created_at: number } | undefined;
    return row ? Math.max(0, this.#now() - row.created_at) : null;
  }

  /**
   * Settles a sent batch in one transaction: acknowledged rows leave the outbox, rejected rows move
   * to the dead-letter table with Odoo's code and message. Returns how many rows left the outbox.
   */
  settle(acked: number[], rejected: Rejected[]): number {
    const at = new Date(this.#now()).toISOString();
    const batch = this.#commits.batch().item();
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
    const changes = this.#commits.writeNow(batch);
    // Ops: one remove per acked id, then (dead letter, remove) per rejected item.
    let removed = 0;
    changes.forEach((n, i) => {
      if (i < acked.length || (i - acked.length) % 2 === 1) removed += n;
    });
    return removed;
  }
}
