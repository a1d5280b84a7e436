/**
 * An import into the recording (the `npm run recording -- import` CLI): inputs are added per machine,
 * oldest first, into blocks of their own, all in one transaction, so a refused import leaves nothing
 * behind. Imported blocks may overlap recorded ones; the reader merges them (merge.ts).
 */
import type Database from 'better-sqlite3';
import { BlockEncoder } from './codec.ts';
import { MAX_BLOCK_INPUTS, MAX_BLOCK_SPAN_MS } from './limits.ts';
import type { RecordedInput } from './types.ts';

/** One import's blocks, written in one transaction (see `RecordingStore.beginImport`). */
export class RecordingImport {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #done: () => void;
  readonly #open = new Map<string, BlockEncoder>();
  #inputs = 0;
  #finished = false;

  constructor(db: Database.Database, insert: Database.Statement, done: () => void) {
    this.#db = db;
    this.#insert = insert;
    this.#done = done;
    db.exec('BEGIN IMMEDIATE');
  }

  /** Adds one input; a machine's inputs must come oldest first (throws otherwise). */
  add(deviceId: string, input: RecordedInput): void {
    if (this.#finished) throw new Error('import already finished');
    let enc = this.#open.get(deviceId);
    if (enc && input.at < enc.lastAt)
      throw new Error(
        `${deviceId}: ${new Date(input.at).toISOString()} is older than the input before it`,
      );
    if (enc && (enc.count >= MAX_BLOCK_INPUTS || input.at - enc.firstAt > MAX_BLOCK_SPAN_MS)) {
      this.#writeBlock(deviceId, enc);
      enc = undefined;
    }
    if (!enc) {
      enc = new BlockEncoder(input.at);
      this.#open.set(deviceId, enc);
    }
    enc.append(input);
    this.#inputs++;
  }

  /** Writes the last blocks and commits; returns the number of inputs imported. */
  commit(): number {
    for (const [deviceId, enc] of this.#open) this.#writeBlock(deviceId, enc);
    this.#open.clear();
    this.#db.exec('COMMIT');
    this.#finished = true;
    this.#done();
    return this.#inputs;
  }

  rollback(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#db.exec('ROLLBACK');
  }

  #writeBlock(deviceId: string, enc: BlockEncoder): void {
    const data = enc.bytes();
    this.#insert.run(deviceId, enc.firstAt, enc.lastAt, enc.count, data.length, data);
  }
}
