/**
 * Client of the outbox's writer thread (writer-thread.mjs): sends write requests, hands each reply to
 * its callback, and can wait for replies synchronously.
 *
 * Why a thread: with `synchronous=FULL`, every commit waits for an fsync. On the event loop that wait
 * delays every MQTT message behind it (measured side by side at 5,000 msg/s: transport p99 10-19 ms
 * on the loop, 3-8 ms with the thread); in the thread the loop keeps parsing while the disk syncs.
 *
 * Replies arrive asynchronously (a 'message' event) or, inside `waitFor()`, synchronously through
 * `receiveMessageOnPort` + `Atomics.wait` on a shared counter the thread bumps after each reply. Both
 * paths go through `#deliver`, so a reply is handled exactly once, in order.
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import { pageCachePragma } from '../util/sqlite-cache.ts';

/** The result of one request: `changes` per op in order (-1 for the ops of a failed item). */
export type WriteReply =
  | { ok: true; changes: number[]; failed: { item: number; code: string; message: string }[] }
  | { ok: false; code: string; message: string };

/**
 * Builds one request: items (each commits or fails as a whole when the group must be split), each a
 * list of named statements with their parameters, encoded flat for a cheap structured clone.
 */
export class WriteBatch {
  readonly ops: unknown[] = [];
  items = 0;
  opCount = 0;
  #countAt = -1;

  readonly #statementIndex: ReadonlyMap<string, number>;

  constructor(statementIndex: ReadonlyMap<string, number>) {
    this.#statementIndex = statementIndex;
  }

  /** Starts the next item. */
  item(): this {
    this.#countAt = this.ops.length;
    this.ops.push(0);
    this.items++;
    return this;
  }

  op(statement: string, params: readonly unknown[]): this {
    const index = this.#statementIndex.get(statement);
    if (index === undefined || this.#countAt < 0) {
      throw new Error(`WriteBatch: unknown statement ${statement} or no item started`);
    }
    this.ops.push(index);
    for (const p of params) this.ops.push(p);
    (this.ops[this.#countAt] as number)++;
    this.opCount++;
    return this;
  }
}

export interface WriterSettings {
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
  /** Statement name -> SQL; a batch names them. */
  statements: Readonly<Record<string, string>>;
  /** The thread ended without close() (crashed, killed): its unanswered requests never will be. */
  onExit?: (err: Error) => void;
}

/** The reply to a maintenance request: the database's free pages after it, or why it failed. */
export type MaintenanceReply =
  | { ok: true; freePages: number; pages: number }
  | { ok: false; code: string; message: string };

type RawReply = { id: number; ok: boolean } & Record<string, unknown>;

/** A reply that does not come in this time means the thread is gone or the disk hangs. */
const SYNC_WAIT_LIMIT_MS = 60_000;

export class WriterThreadError extends Error {
  constructor(
    message: string,
    readonly code = 'WRITER_THREAD',
  ) {
    super(message);
  }
}

export class OutboxWriter {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal = new Int32Array(new SharedArrayBuffer(4));
  readonly #callbacks = new Map<number, (reply: never) => void>();
  #nextId = 1;
  /** Replies handled so far, by either path; the thread's `signal` counts replies posted. */
  #delivered = 0;
  #closed = false;
  readonly #statementIndex: ReadonlyMap<string, number>;
  #exitError: Error | null = null;

  /** Starts the thread and waits (synchronously) until it has opened the database. */
  constructor(file: string, settings: WriterSettings) {
    const names = Object.keys(settings.statements);
    this.#statementIndex = new Map(names.map((name, i) => [name, i]));
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(new URL('./writer-thread.mjs', import.meta.url), {
      workerData: {
        file,
        synchronous: settings.synchronous,
        busyTimeoutMs: settings.busyTimeoutMs,
        cachePragma: pageCachePragma(),
        statements: names.map((name) => settings.statements[name]),
        port: port2,
        signal: this.#signal,
      },
      transferList: [port2],
      // The thread needs no TypeScript loader; do not inherit tsx's or vitest's flags.
      execArgv: [],
      // Its garbage is short-lived copies of one group (<= 1,000 writes): a small young generation
      // keeps its RSS small (default semi-spaces cost ~20 MB with 10,000 devices); the old generation
      // limit is far above what a group can hold.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 },
    });
    let opened: WriteReply | null = null;
    this.#callbacks.set(0, (reply) => {
      opened = reply;
    });
    this.#port.on('message', (message: RawReply) => this.#deliver(message));
    this.#worker.on('error', (err) => {
      this.#exitError = err;
    });
    this.#worker.on('exit', (code) => {
      if (this.#closed) return;
      this.#exitError ??= new WriterThreadError(`writer thread exited (${code})`);
      this.#closed = true;
      this.#callbacks.clear();
      settings.onExit?.(this.#exitError);
    });
    // The loop may end while the thread idles; close() ends it properly.
    this.#worker.unref();
    this.#port.unref();
    this.waitFor(() => opened !== null);
    const result = opened as WriteReply | null;
    if (result && !result.ok) {
      throw Object.assign(new WriterThreadError(result.message, result.code), {
        code: result.code,
      });
    }
  }

  /** A new, empty request for this writer's statements. */
  batch(): WriteBatch {
    return new WriteBatch(this.#statementIndex);
  }

  /** Sends one request (all items in one transaction); `onReply` runs when it is answered. */
  submit(batch: WriteBatch, onReply: (reply: WriteReply) => void): void {
    if (this.#closed) throw new WriterThreadError('writer thread is closed');
    const id = this.#nextId++;
    this.#callbacks.set(id, onReply as (reply: never) => void);
    this.#port.postMessage({ id, ops: batch.ops });
  }

  /**
   * Sends a maintenance request, outside any transaction: `vacuumPages` frees up to that many pages
   * (`PRAGMA incremental_vacuum`), `checkpoint` truncates the WAL; `onReply` gets the free pages.
   */
  maintain(
    request: { vacuumPages: number } | { checkpoint: true },
    onReply: (reply: MaintenanceReply) => void,
  ): void {
    if (this.#closed) throw new WriterThreadError('writer thread is closed');
    const id = this.#nextId++;
    this.#callbacks.set(id, onReply as (reply: unknown) => void);
    this.#port.postMessage({ id, maintain: request });
  }

  /** Sends a request and waits for its reply synchronously (rare writes, shutdown, tests). */
  run(batch: WriteBatch): WriteReply {
    let result: WriteReply | null = null;
    this.submit(batch, (reply) => {
      result = reply;
    });
    this.waitFor(() => result !== null);
    return result as unknown as WriteReply;
  }

  /**
   * Handles replies synchronously until `done()` holds. Throws when the thread died or did not answer
   * within a minute (then nothing more can be written; the caller reports it).
   */
  waitFor(done: () => boolean): void {
    const started = Date.now();
    while (!done()) {
      const seen = Atomics.load(this.#signal, 0);
      const received = receiveMessageOnPort(this.#port);
      if (received) {
        this.#deliver(received.message as RawReply);
        continue;
      }
      if (this.#exitError) throw this.#exitError;
      const left = SYNC_WAIT_LIMIT_MS - (Date.now() - started);
      if (left <= 0) throw new WriterThreadError('writer thread did not answer within 60 s');
      // Short slices: a thread that died without replying is noticed by its exit code below.
      Atomics.wait(this.#signal, 0, seen, Math.min(left, 100));
      if (this.#worker.threadId < 0) throw new WriterThreadError('writer thread is gone');
    }
  }

  /**
   * Handles the replies already posted, without waiting; one atomic read when there are none. The
   * outbox calls it on its hot path: a 'message' event waits until the event loop is done with what
   * it is busy with (a burst of MQTT messages: measured 5-80 ms, seconds under overload), and the
   * next group cannot go to the thread before the reply to the one in flight is handled.
   */
  poll(): void {
    if (this.#closed || Atomics.load(this.#signal, 0) === this.#delivered) return;
    for (let r = receiveMessageOnPort(this.#port); r; r = receiveMessageOnPort(this.#port)) {
      this.#deliver(r.message as RawReply);
    }
  }

  /** Ends the thread at once, answering nothing more (a replacement thread takes over). */
  terminate(): void {
    this.#closed = true;
    this.#callbacks.clear();
    this.#port.close();
    void this.#worker.terminate();
  }

  /** Checkpoints the WAL, closes the database in the thread and ends the thread. */
  close(): void {
    if (this.#closed) return;
    if (!this.#exitError) {
      let done = false;
      const id = this.#nextId++;
      this.#callbacks.set(id, () => {
        done = true;
      });
      this.#port.postMessage({ id, close: true });
      try {
        this.waitFor(() => done);
      } finally {
        this.#closed = true;
      }
    }
    this.#closed = true;
    this.#port.close();
    void this.#worker.terminate();
  }

  #deliver(message: RawReply): void {
    this.#delivered++;
    const callback = this.#callbacks.get(message.id);
    if (!callback) return;
    this.#callbacks.delete(message.id);
    callback(message as never);
  }
}
