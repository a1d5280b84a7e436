/**
 * The recording (issue 18; README "Recording"): every input a machine's actor received, per machine,
 * in `<data_dir>/recording.sqlite` (WAL), bounded by age and size per machine, apart from the outbox.
 *
 * Compact: inputs are packed into blocks (codec.ts) of up to MAX_BLOCK_INPUTS inputs or
 * MAX_BLOCK_SPAN_MS, one row each. Cheap on the hot path: `record()` only appends to the machine's
 * open block in memory; `flush()` (every FLUSH_EVERY_MS, on stop) writes the blocks that grew in one
 * transaction, rewriting an open block's row in place as it grows, so rows stay large.
 *
 * Not durable on purpose: a crash loses what was recorded since the last flush (seconds). The
 * recording is diagnostic (calibration); the outbox remains the durable record of sessions.
 *
 * Bounds, per machine (bounds.ts): blocks whose newest input is older than `maxDays` go (checked
 * every AGE_CHECK_EVERY_MS and at open), then the oldest while the machine is over
 * `maxBytesPerMachine` (after each flush that wrote to it). A machine that stops recording (removed,
 * `recording: false`) keeps its data until it ages out.
 *
 * Example: `store.start(); store.record('laser-1', input); [...store.inputs('laser-1', from, to)];
 * store.stop();`
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.ts';
import { pageCachePragma } from '../util/sqlite-cache.ts';
import { ageOut, blockBytes, blocksBytes, trimToSize } from './bounds.ts';
import { BlockEncoder } from './codec.ts';
import { RecordingImport } from './import.ts';
import { MAX_BLOCK_INPUTS, MAX_BLOCK_SPAN_MS } from './limits.ts';
import { type BlobRow, type BlockRef, lazyBlobs, mergeBlocks } from './merge.ts';
import {
  type BlockRow,
  prepareStatements,
  RECORDING_FORMAT_VERSION,
  RECORDING_SCHEMA_SQL,
  type RecordingStatements,
  type StatsRow,
} from './schema.ts';
import type { InputRecorder, RecordedInput, RecordingReader } from './types.ts';

export const RECORDING_FILE = 'recording.sqlite';
export { MAX_BLOCK_INPUTS, MAX_BLOCK_SPAN_MS } from './limits.ts';

const FLUSH_EVERY_MS = 10_000;
const AGE_CHECK_EVERY_MS = 60_000;
/** An open block with no input for this many flushes is closed (a machine gone quiet or removed). */
const IDLE_FLUSHES = 30;
/** Blocks kept in memory while the disk refuses them (disk full); beyond, the oldest are dropped. */
const MAX_UNWRITTEN_BLOCKS = 4096;
const DAY_MS = 86_400_000;

export interface RecordingStoreOptions {
  dir: string;
  log: Logger;
  maxDays?: number;
  maxBytesPerMachine?: number;
  /** Wall clock for the age bound; default Date.now. */
  now?: () => number;
  flushIntervalMs?: number;
  /** Apply the bounds (default true; the export/import CLI leaves the data as it is). */
  prune?: boolean;
}

/** The machine's block being filled, in memory; `rowid` once a flush wrote it. */
interface OpenBlock {
  deviceId: string;
  enc: BlockEncoder;
  rowid: number | null;
  /** Bytes and inputs as last written. */
  written: number;
  writtenCount: number;
  /** The flush generation of its last input (idle detection). */
  gen: number;
}

/**
 * A machine's recording state. A class, not an object literal: V8 kept the literal's 10,000
 * instances in dictionary mode (a 448-byte property table each, 4.5 MB of a fed worker's heap,
 * heap snapshot of issue 20); a class's instances share their own shape.
 */
class Machine {
  bytes = 0;
  blocks = 0;
  lastAt = Number.NEGATIVE_INFINITY;
  open: OpenBlock | null = null;
}

/** A machine's share of the file as the size bound counts it (bounds.ts `blockBytes`). */
export interface MachineUsage {
  device_id: string;
  blocks: number;
  inputs: number;
  bytes: number;
  first_at: number | null;
  last_at: number | null;
}

export { RecordingImport };

export class RecordingStore implements InputRecorder, RecordingReader {
  readonly file: string;
  readonly maxDays: number;
  readonly maxBytesPerMachine: number;
  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #flushEveryMs: number;
  readonly #prune: boolean;
  readonly #machines = new Map<string, Machine>();
  /** Full blocks not yet written. */
  #closedBlocks: OpenBlock[] = [];
  #gen = 0;
  #lastAgeCheck = 0;
  #lastFailureLog = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | null = null;
  #state: 'new' | 'started' | 'stopped' = 'new';
  readonly #stmt: RecordingStatements;

  constructor(options: RecordingStoreOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    this.file = path.join(options.dir, RECORDING_FILE);
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.maxDays = options.maxDays ?? 14;
    this.maxBytesPerMachine = options.maxBytesPerMachine ?? 16 * 1024 * 1024;
    this.#flushEveryMs = options.flushIntervalMs ?? FLUSH_EVERY_MS;
    this.#db = new Database(this.file);
    try {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(pageCachePragma());
      // Diagnostic data: no fsync per flush (WAL survives a process crash; a power cut may lose
      // the last flushes, never corrupt the file).
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('busy_timeout = 5000');
      this.#db.exec(RECORDING_SCHEMA_SQL);
      const version = this.#db
        .prepare("SELECT value FROM meta WHERE key = 'format_version'")
        .pluck()
        .get();
      if (version !== String(RECORDING_FORMAT_VERSION))
        throw new Error(
          `${this.file} has recording format ${String(version)}, this worker reads ${RECORDING_FORMAT_VERSION}`,
        );
      this.#stmt = prepareStatements(this.#db);
      this.#loadMachines();
      this.#prune = options.prune ?? true;
      if (this.#prune) this.#applyBounds([...this.#machines.keys()], true);
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /** Starts the flush timer. A stopped store cannot be restarted. */
  start(): void {
    if (this.#state === 'stopped')
      throw new Error('recording store stopped: it cannot be restarted');
    if (this.#state === 'started') return;
    this.#state = 'started';
    if (this.#flushEveryMs > 0) {
      this.#timer = setInterval(() => this.flush(), this.#flushEveryMs);
      this.#timer.unref();
    }
  }

  /** Writes every open block and closes the file; records after this are ignored. Idempotent. */
  stop(): void {
    if (this.#state === 'stopped') return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const machine of this.#machines.values()) this.#closeBlock(machine);
    this.flush();
    this.#state = 'stopped';
    this.#db.close();
  }

  /** The hot path: appends to the machine's open block in memory. Times never go backwards. */
  record(deviceId: string, input: RecordedInput): void {
    if (this.#state === 'stopped') return;
    const machine = this.#machine(deviceId);
    // Whole ms (the export's ISO times hold no more); a wall clock stepped back records at the last time.
    let at = Math.round(input.at);
    if (at < machine.lastAt) at = machine.lastAt;
    machine.lastAt = at;
    let open = machine.open;
    if (open && (open.enc.count >= MAX_BLOCK_INPUTS || at - open.enc.firstAt > MAX_BLOCK_SPAN_MS)) {
      this.#closeBlock(machine);
      open = null;
    }
    if (!open) {
      open = {
        deviceId,
        enc: new BlockEncoder(at),
        rowid: null,
        written: 0,
        writtenCount: 0,
        gen: 0,
      };
      machine.open = open;
    }
    open.gen = this.#gen;
    open.enc.append(at === input.at ? input : { ...input, at });
  }

  /**
   * Writes the blocks that grew since the last flush in one transaction, then applies the size
   * bound to the machines written and, once a minute, the age bound to all. A failure (disk full)
   * is logged and the blocks stay in memory for the next flush.
   */
  flush(): void {
    if (this.#state === 'stopped') return;
    this.#gen++;
    const blocks = [...this.#closedBlocks];
    for (const machine of this.#machines.values()) {
      const open = machine.open;
      if (open && open.enc.count !== open.writtenCount) blocks.push(open);
    }
    if (blocks.length > 0 && !this.#write(blocks)) return;
    this.#closedBlocks = [];
    for (const machine of this.#machines.values()) {
      if (machine.open && this.#gen - machine.open.gen >= IDLE_FLUSHES) machine.open = null;
    }
    if (!this.#prune) return;
    const now = this.#now();
    const ageCheck = now - this.#lastAgeCheck >= AGE_CHECK_EVERY_MS;
    const written = new Set(blocks.map((b) => b.deviceId));
    this.#applyBounds(ageCheck ? [...this.#machines.keys()] : [...written], ageCheck);
  }

  /**
   * A machine's inputs with `fromMs <= at < toMs`, oldest first, written or still in memory. The
   * blocks in range are looked up now; each is read and decoded when the iteration reaches it.
   */
  inputs(deviceId: string, fromMs: number, toMs: number): Iterable<RecordedInput> {
    if (!(fromMs < toMs) || this.#state === 'stopped') return [];
    const inMemory = this.#unwritten(deviceId);
    const skip = new Set(inMemory.map((b) => b.id));
    const rows = (this.#stmt.range.all(deviceId, toMs, fromMs) as BlockRow[]).filter(
      (row) => !skip.has(row.id),
    );
    const refs = lazyBlobs(rows, (ids) =>
      this.#state === 'stopped' ? [] : (this.#stmt.data.all(JSON.stringify(ids)) as BlobRow[]),
    );
    for (const block of inMemory)
      if (block.first_at < toMs && block.last_at >= fromMs) refs.push(block);
    refs.sort((a, b) => a.first_at - b.first_at || a.id - b.id);
    return mergeBlocks(refs, fromMs, toMs, (block, err) =>
      this.#log.warn(
        { device_id: deviceId, block: block.id, reason: err.message },
        'Skipping the damaged rest of a recording block',
      ),
    );
  }

  /** Machines with recorded inputs (written or in memory), sorted. */
  devices(): string[] {
    const ids = new Set(this.#stmt.devices.pluck().all() as string[]);
    for (const [id, machine] of this.#machines) if (machine.open || machine.blocks > 0) ids.add(id);
    for (const block of this.#closedBlocks) ids.add(block.deviceId);
    return [...ids].sort();
  }

  /** Each machine's written share of the file, as the size bound counts it (read from the file). */
  usage(): MachineUsage[] {
    const rows = this.#stmt.usage.all() as (Omit<MachineUsage, 'bytes'> & { size: number })[];
    return rows.map(({ size, ...row }) => ({
      ...row,
      bytes: blocksBytes(size, row.blocks),
    }));
  }

  /** Blocks lost because the disk refused them for too long (never reset). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Starts an import (the CLI): inputs are added per machine, oldest first, into blocks of their
   * own, in one transaction: `commit()` keeps them all, `rollback()` none. No bounds apply here:
   * the worker applies them when it next opens the file.
   */
  beginImport(): RecordingImport {
    return new RecordingImport(this.#db, this.#stmt.insert, () => this.#loadMachines());
  }

  #machine(deviceId: string): Machine {
    let machine = this.#machines.get(deviceId);
    if (!machine) {
      machine = new Machine();
      this.#machines.set(deviceId, machine);
    }
    return machine;
  }

  #closeBlock(machine: Machine): void {
    if (!machine.open) return;
    if (machine.open.enc.count !== machine.open.writtenCount) this.#closedBlocks.push(machine.open);
    machine.open = null;
  }

  /** Writes the blocks; the in-memory figures change only once the transaction committed. */
  #write(blocks: OpenBlock[]): boolean {
    const results: { block: OpenBlock; rowid: number; data: Uint8Array; count: number }[] = [];
    try {
      this.#db.transaction(() => {
        for (const block of blocks) {
          const { enc } = block;
          const data = enc.bytes();
          let rowid = block.rowid;
          if (rowid === null)
            rowid = Number(
              this.#stmt.insert.run(
                block.deviceId,
                enc.firstAt,
                enc.lastAt,
                enc.count,
                data.length,
                data,
              ).lastInsertRowid,
            );
          else this.#stmt.update.run(enc.lastAt, enc.count, data.length, data, rowid);
          results.push({ block, rowid, data, count: enc.count });
        }
      })();
    } catch (err) {
      this.#writeFailed(err);
      return false;
    }
    for (const { block, rowid, data, count } of results) {
      const machine = this.#machine(block.deviceId);
      if (block.rowid === null) machine.blocks++;
      machine.bytes += blockBytes(data.length) - blockBytes(block.written);
      block.rowid = rowid;
      block.written = data.length;
      block.writtenCount = count;
    }
    return true;
  }

  #writeFailed(err: unknown): void {
    const now = this.#now();
    if (now - this.#lastFailureLog >= 60_000) {
      this.#lastFailureLog = now;
      this.#log.warn(
        { err, unwritten_blocks: this.#closedBlocks.length },
        'Recording flush failed; retrying at the next flush',
      );
    }
    const excess = this.#closedBlocks.length - MAX_UNWRITTEN_BLOCKS;
    if (excess > 0) {
      this.#closedBlocks.splice(0, excess);
      this.#dropped += excess;
    }
  }

  /** Drops whole blocks: too old (when `age`), then the oldest while over the size bound. */
  #applyBounds(deviceIds: string[], age: boolean): void {
    const now = this.#now();
    if (age) this.#lastAgeCheck = now;
    const cutoff = now - this.maxDays * DAY_MS;
    try {
      this.#db.transaction(() => {
        for (const id of deviceIds) {
          const machine = this.#machines.get(id);
          if (!machine) continue;
          const keep = machine.open?.rowid ?? -1;
          if (age) ageOut(this.#stmt, id, machine, cutoff, keep);
          trimToSize(this.#stmt, id, machine, this.maxBytesPerMachine, keep);
          if (machine.blocks === 0 && !machine.open) this.#machines.delete(id);
        }
      })();
    } catch (err) {
      this.#writeFailed(err);
    }
  }

  #loadMachines(): void {
    for (const row of this.#stmt.stats.all() as StatsRow[]) {
      const machine = this.#machine(row.device_id);
      machine.bytes = blocksBytes(row.size, row.blocks);
      machine.blocks = row.blocks;
      machine.lastAt = Math.max(machine.lastAt, row.last_at);
    }
  }

  /** The machine's blocks not (fully) written yet, as they are in memory now. */
  #unwritten(deviceId: string): (BlockRef & { id: number })[] {
    const blocks = this.#closedBlocks.filter((b) => b.deviceId === deviceId);
    const open = this.#machines.get(deviceId)?.open;
    if (open) blocks.push(open);
    return blocks.map((b, i) => {
      const data = b.enc.bytes();
      // Not yet in the file: after every written block of the same first_at.
      const id = b.rowid ?? Number.MAX_SAFE_INTEGER - blocks.length + i;
      return {
        id,
        first_at: b.enc.firstAt,
        last_at: b.enc.lastAt,
        count: b.enc.count,
        data: () => data,
      };
    });
  }
}
