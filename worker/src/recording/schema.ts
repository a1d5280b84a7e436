/**
 * The recording's database (`<data_dir>/recording.sqlite`, WAL), apart from the outbox: losing or
 * deleting it never touches an event. One row per block of one machine's inputs (codec.ts); times
 * are epoch ms. The index covers what the bounds and the reader's range lookup need (times and
 * sizes), so neither reads a blob to decide.
 */
import type Database from 'better-sqlite3';

export const RECORDING_FORMAT_VERSION = 1;

export const RECORDING_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  count INTEGER NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_device_time ON blocks (device_id, first_at, last_at, size);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('format_version', '${RECORDING_FORMAT_VERSION}');
`;

/** A block's row without its blob. */
export interface BlockRow {
  id: number;
  first_at: number;
  last_at: number;
  count: number;
}

/** A machine's written blocks, as the store loads them at open. */
export interface StatsRow {
  device_id: string;
  blocks: number;
  size: number;
  last_at: number;
}

/** Every statement the store runs, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare(
      'INSERT INTO blocks (device_id, first_at, last_at, count, size, data) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    update: db.prepare('UPDATE blocks SET last_at = ?, count = ?, size = ?, data = ? WHERE id = ?'),
    delete: db.prepare('DELETE FROM blocks WHERE id = ?'),
    ageOut: db.prepare(
      'DELETE FROM blocks WHERE device_id = ? AND first_at < ? AND last_at < ? AND id != ? RETURNING size',
    ),
    oldest: db.prepare(
      'SELECT id, size FROM blocks WHERE device_id = ? AND id != ? ORDER BY first_at, id LIMIT 64',
    ),
    range: db.prepare(
      'SELECT id, first_at, last_at, count FROM blocks WHERE device_id = ? AND first_at < ? AND last_at >= ? ORDER BY first_at, id',
    ),
    data: db.prepare('SELECT id, data FROM blocks WHERE id IN (SELECT value FROM json_each(?))'),
    devices: db.prepare('SELECT DISTINCT device_id FROM blocks ORDER BY device_id'),
    stats: db.prepare(
      'SELECT device_id, COUNT(*) AS blocks, SUM(size) AS size, MAX(last_at) AS last_at FROM blocks GROUP BY device_id',
    ),
    usage: db.prepare(
      'SELECT device_id, COUNT(*) AS blocks, SUM(count) AS inputs, SUM(size) AS size, MIN(first_at) AS first_at, MAX(last_at) AS last_at FROM blocks GROUP BY device_id ORDER BY device_id',
    ),
  };
}

export type RecordingStatements = ReturnType<typeof prepareStatements>;
