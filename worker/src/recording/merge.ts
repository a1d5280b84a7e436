/**
 * Reads a machine's blocks back in time order. Blocks the worker writes never overlap (one open
 * block per machine, times never go backwards), so each block comes out as decoded. An import may
 * add blocks that overlap recorded ones: such a group is decoded together and sorted (stable: at
 * equal times the older block first), which costs memory for that group only.
 */
import { BlockCorrupt, decodeBlock } from './codec.ts';
import type { RecordedInput } from './types.ts';

export interface BlockRef {
  id: number;
  first_at: number;
  last_at: number;
  count: number;
  /** The block's bytes, fetched only when it is decoded; null when it is gone (trimmed meanwhile). */
  data: () => Uint8Array | null;
}

export interface BlobRow {
  id: number;
  data: Buffer;
}

/** Blocks whose blobs are fetched in one query (~256 inputs each). */
const BLOB_CHUNK = 64;

/**
 * Block references whose blobs are read BLOB_CHUNK blocks at a time, when the iteration reaches
 * them (`fetch` returns the rows of those ids it still finds).
 */
export function lazyBlobs(
  rows: readonly Omit<BlockRef, 'data'>[],
  fetch: (ids: number[]) => BlobRow[],
): BlockRef[] {
  let chunk = new Map<number, Buffer>();
  const data = (index: number): Buffer | null => {
    const id = (rows[index] as Omit<BlockRef, 'data'>).id;
    if (!chunk.has(id)) {
      const ids = rows.slice(index, index + BLOB_CHUNK).map((r) => r.id);
      chunk = new Map(fetch(ids).map((r) => [r.id, r.data]));
    }
    return chunk.get(id) ?? null;
  };
  return rows.map((row, index) => ({ ...row, data: () => data(index) }));
}

/** Inputs with `from <= at < to` of blocks sorted by (first_at, id), oldest first, lazily. */
export function* mergeBlocks(
  blocks: readonly BlockRef[],
  from: number,
  to: number,
  onCorrupt: (block: BlockRef, err: BlockCorrupt) => void,
): Generator<RecordedInput> {
  let i = 0;
  const out: RecordedInput[] = [];
  while (i < blocks.length) {
    let j = i;
    let last = (blocks[i] as BlockRef).last_at;
    while (j + 1 < blocks.length && (blocks[j + 1] as BlockRef).first_at < last) {
      j++;
      last = Math.max(last, (blocks[j] as BlockRef).last_at);
    }
    out.length = 0;
    for (let k = i; k <= j; k++) decodeSafely(blocks[k] as BlockRef, from, to, out, onCorrupt);
    if (j > i) out.sort((a, b) => a.at - b.at);
    // An indexed loop, not yield*: one generator level per input is the whole read cost.
    for (let k = 0; k < out.length; k++) yield out[k] as RecordedInput;
    i = j + 1;
  }
}

function decodeSafely(
  block: BlockRef,
  from: number,
  to: number,
  out: RecordedInput[],
  onCorrupt: (block: BlockRef, err: BlockCorrupt) => void,
): void {
  const data = block.data();
  if (!data) return;
  try {
    decodeBlock(data, block.first_at, block.count, from, to, out);
  } catch (err) {
    if (!(err instanceof BlockCorrupt)) throw err;
    // What decoded before the damage stays; the rest of the block is skipped.
    onCorrupt(block, err);
  }
}
