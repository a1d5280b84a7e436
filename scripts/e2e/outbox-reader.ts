/**
 * Read-only look into the worker's outbox (`<data_dir>/outbox.sqlite`, SQLite WAL): the events it
 * committed and Odoo has not acknowledged yet. WAL lets a reader open it while the worker writes;
 * each read opens and closes its own connection so no lock outlives it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface PendingRow {
  event_uid: string;
  device_id: string;
  seq: number;
  type: string;
}

export function readOutbox(dataDir: string): PendingRow[] {
  const file = path.join(dataDir, 'outbox.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db
      .prepare('SELECT event_uid, device_id, seq, type FROM outbox ORDER BY id')
      .all() as PendingRow[];
  } finally {
    db.close();
  }
}

export function deadLetters(dataDir: string): number {
  const file = path.join(dataDir, 'outbox.sqlite');
  if (!fs.existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM dead_letter').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
