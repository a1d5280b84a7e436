/**
 * Outbox database schema. `outbox.id` is AUTOINCREMENT so ids are never reused: id order is commit
 * order, which is what keeps the per-device order when the sender reads the oldest rows first.
 * Times are epoch milliseconds (`_ms` would be noise in SQL; the column names say `_at`).
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event_uid TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_uid TEXT NOT NULL,
  device_id TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
  device_id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}');
`;

/** Every write of the outbox, run by the writer thread (writer-thread.mjs) by name. */
export const WRITE_SQL = {
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
