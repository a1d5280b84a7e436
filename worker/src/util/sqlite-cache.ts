/**
 * How much page cache each of the worker's SQLite connections may keep.
 *
 * better-sqlite3 builds SQLite with `SQLITE_DEFAULT_CACHE_SIZE=-16000`: up to 16 MB of page cache
 * per connection, kept for the connection's life (SQLite's own default is 2 MB). The worker has
 * three (the outbox's reader and its writer thread, the recording), and the writer thread's alone
 * grew to 16 MB once 10,000 machines had reported: 173 -> 149 MB RSS on a 1 GiB board with it
 * bounded (issue 20, worker-rss). The files stay in the OS page cache, so a page the cache no
 * longer holds costs a read() of memory, not of the disk. Applied as `PRAGMA cache_size` (negative:
 * KiB) right after each connection opens.
 */
export const SQLITE_PAGE_CACHE_KIB = 1024;

/** The pragma that bounds a connection's page cache to `kib`. */
export const pageCachePragma = (kib: number = SQLITE_PAGE_CACHE_KIB) =>
  `cache_size = -${Math.max(64, Math.floor(kib))}`;
