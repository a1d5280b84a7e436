/**
 * The recording's per-machine bounds (README "Recording"): whole blocks are dropped, too old ones
 * first, then the oldest while the machine is over its size. `Tally` is the store's running count
 * of a machine's written blocks and bytes, kept in step with every delete.
 */
import type { RecordingStatements } from './schema.ts';

/** What SQLite spends on a block beside its blob (record header, rowid, device id, times, index). */
export const BLOCK_OVERHEAD_BYTES = 80;
/**
 * Page slack: blocks of ~1.3 kB rewritten in place as they grow leave 4 kB pages about a third
 * empty (measured: 1.05 MB of blobs took a 1.65 MB file), so a blob counts half again its size.
 */
const SLACK = 1.5;

/** What a block of `size` blob bytes takes of the file, as the size bound counts it (0 for none). */
export function blockBytes(size: number): number {
  return size === 0 ? 0 : size * SLACK + BLOCK_OVERHEAD_BYTES;
}

/** The same for `blocks` blocks of `size` blob bytes in all. */
export function blocksBytes(size: number, blocks: number): number {
  return size * SLACK + blocks * BLOCK_OVERHEAD_BYTES;
}

export interface Tally {
  blocks: number;
  bytes: number;
}

/** Drops the machine's blocks whose newest input is before `cutoff`, except block `keep` (open). */
export function ageOut(
  stmt: RecordingStatements,
  deviceId: string,
  tally: Tally,
  cutoff: number,
  keep: number,
): void {
  for (const size of stmt.ageOut.pluck().all(deviceId, cutoff, cutoff, keep) as number[])
    forget(tally, size);
}

/** Drops the machine's oldest blocks (never `keep`) until it takes at most `maxBytes`. */
export function trimToSize(
  stmt: RecordingStatements,
  deviceId: string,
  tally: Tally,
  maxBytes: number,
  keep: number,
): void {
  while (tally.bytes > maxBytes) {
    const oldest = stmt.oldest.all(deviceId, keep) as { id: number; size: number }[];
    if (oldest.length === 0) return;
    for (const { id, size } of oldest) {
      if (tally.bytes <= maxBytes) return;
      stmt.delete.run(id);
      forget(tally, size);
    }
  }
}

function forget(tally: Tally, size: number): void {
  tally.blocks--;
  tally.bytes -= blockBytes(size);
}
