/**
 * The recording's database (`<data_dir>/recording.sqlite`, WAL), apart from the outbox: losing or
 * deleting it never touches an event. One row per block of one machine's inputs (codec.ts); times
 * are epoch ms. The index covers what the bounds and the reader's range lookup need (times and
 * sizes), so neither reads a blob to decide.
 */
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
