/**
 * Drains the outbox to Odoo's `events.ingest` in JSON-RPC batches (oldest first, so in order per
 * device), forever.
 *
 * - Only acknowledged items (`accepted`, `duplicate`) leave the outbox; `rejected` ones move to the
 *   dead-letter table with Odoo's code and message. An item Odoo did not answer for stays and is sent
 *   again (event_uid is unique in Odoo, so a resend is harmless).
 * - Any failure of the call itself is retried with exponential backoff + full jitter, with no retry
 *   limit. Transport trouble logs a warning; other failures (wrong API key, addon missing, a JSON-RPC
 *   error for the whole batch) log an error and halve the batch, so one poisonous event cannot block
 *   the others for long; the batch size grows back after a success.
 * - Intake never waits for the sender: the outbox commits on its own and calls `wake()`, which starts
 *   a drain at once when the sender is idle (not while it backs off: a down Odoo is not hammered).
 * - Linger (`lingerMs`, `odoo.linger_ms`): while events keep coming (the previous call ended less
 *   than `lingerMs` ago) and less than a batch is pending, the sender waits until the OLDEST pending
 *   event has waited `lingerMs` since its commit, then sends all that is pending up to the batch
 *   size. New events never extend the wait, so `lingerMs` bounds the added latency; a full batch, a
 *   backlog's old events, a quiet period and shutdown send at once. See docs/architecture.md.
 * - Without an Odoo URL the sender stays idle: events wait in the outbox (logged once).
 */
import type {
  EventsIngestParams,
  EventsIngestResult,
  IngestItemResult,
  WorkshopEvent,
} from '@workshop-iot/shared';
import { isWorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type Backoff, backoff, backoffDelay } from '../util/backoff.ts';
import type { Outbox, PendingEvent } from './outbox.ts';

/** The one Odoo call the sender makes (odoo/rpc-client.ts implements it; outbox/ does not import odoo/). */
export interface IngestApi {
  ingest(params: EventsIngestParams, signal?: AbortSignal): Promise<EventsIngestResult>;
}

/** Time for the linger (tests pass a simulated one); the backoff uses the global timers. */
export interface SenderClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: SenderClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SenderOptions {
  outbox: Pick<Outbox, 'peek' | 'settle' | 'depth'>;
  /** null: Odoo not configured, events stay in the outbox. */
  odoo: IngestApi | null;
  workerUid: string;
  log: Logger;
  batchSize?: number;
  /** Wait up to this long from the oldest pending event's commit to fill a batch (0: off). */
  lingerMs?: number;
  clock?: SenderClock;
  /** Retry delays: from `baseMs` (default 500) doubling to `maxMs` (default 60 s), full jitter. */
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  /** Observers for metrics: one call per batch round trip and per settled batch. */
  onBatch?: (info: { size: number; seconds: number; ok: boolean }) => void;
  onSettled?: (info: { acked: number; rejected: number; events: WorkshopEvent[] }) => void;
}

export class Sender {
  readonly #options: SenderOptions;
  #running = false;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  #pendingWake = false;
  #inflight: AbortController | null = null;
  #attempt = 0;
  #batchLimit: number;
  readonly #batchSize: number;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #lingerMs: number;
  readonly #clock: SenderClock;
  /** When the last call ended (the linger only applies while calls follow each other). */
  #lastCallAt: number | null = null;
  #backingOff: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  #drainDeadline: number | null = null;
  /** Delays chosen so far (exposed for tests and /health; reset on success). */
  readonly delays: number[] = [];

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#lingerMs = options.lingerMs ?? 0;
    this.#clock = options.clock ?? REAL_CLOCK;
    this.#batchSize = options.batchSize ?? 500;
    this.#batchLimit = this.#batchSize;
    this.#backoff = backoff(
      options.backoff?.baseMs ?? 500,
      options.backoff?.maxMs ?? 60_000,
      'full',
    );
    this.#random = options.backoff?.random ?? Math.random;
  }

  start(): void {
    if (this.#stopped) throw new Error('Sender cannot be restarted');
    if (this.#running) return;
    this.#running = true;
    if (!this.#options.odoo) {
      this.#options.log.warn('Odoo is not configured (odoo.url): events stay in the outbox');
      return;
    }
    this.#loop = this.#run();
  }

  /** New events were committed: drain now if idle. */
  wake(): void {
    this.#pendingWake = true;
    const wake = this.#wakeUp;
    this.#wakeUp = null;
    wake?.();
  }

  /**
   * Keeps sending what is in the outbox until it is empty or `deadlineMs` has passed, then stops:
   * an in-flight call is aborted at the deadline (its events stay and are re-sent on next start).
   */
  async stop(deadlineMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#drainDeadline = Date.now() + deadlineMs;
    const abortTimer = setTimeout(() => this.#inflight?.abort(), deadlineMs);
    // A drain does not wait out a backoff: if Odoo is failing there is nothing to flush.
    this.#cancelBackoff();
    this.wake();
    try {
      await this.#loop;
    } finally {
      clearTimeout(abortTimer);
      this.#running = false;
    }
  }

  async #run(): Promise<void> {
    while (!this.#shouldExit()) {
      this.#pendingWake = false;
      let batch = this.#options.outbox.peek(this.#batchLimit);
      if (batch.length === 0) {
        if (this.#stopped) return;
        await this.#waitForWake();
        continue;
      }
      const oldest = batch[0] as PendingEvent;
      if (batch.length < this.#batchLimit && (await this.#linger(oldest.created_at_ms))) {
        batch = this.#options.outbox.peek(this.#batchLimit);
      }
      const ok = await this.#sendBatch(batch);
      this.#lastCallAt = this.#clock.now();
      if (ok) continue;
      if (this.#stopped) return;
      await this.#sleep(backoffDelay(this.#attempt - 1, this.#backoff, this.#random));
    }
  }

  /**
   * While calls follow each other, waits until the oldest pending event (committed at `oldestAt`)
   * has waited `lingerMs`, a full batch is pending, or the sender stops. True when it waited.
   */
  async #linger(oldestAt: number): Promise<boolean> {
    const lingerMs = this.#lingerMs;
    if (lingerMs <= 0 || this.#lastCallAt === null) return false;
    if (this.#clock.now() - this.#lastCallAt >= lingerMs) return false;
    let waited = false;
    for (;;) {
      this.#pendingWake = false;
      const left = oldestAt + lingerMs - this.#clock.now();
      if (left <= 0 || this.#stopped || this.#options.outbox.depth() >= this.#batchLimit) {
        return waited;
      }
      waited = true;
      await this.#waitForWake(left);
    }
  }

  #shouldExit(): boolean {
    return this.#stopped && (this.#drainDeadline === null || Date.now() >= this.#drainDeadline);
  }

  async #sendBatch(batch: PendingEvent[]): Promise<boolean> {
    const odoo = this.#options.odoo as IngestApi;
    const started = performance.now();
    this.#inflight = new AbortController();
    try {
      const result = await odoo.ingest(
        { worker_uid: this.#options.workerUid, events: batch.map((b) => b.event) },
        this.#inflight.signal,
      );
      this.#options.onBatch?.({
        size: batch.length,
        seconds: (performance.now() - started) / 1000,
        ok: true,
      });
      this.#settle(batch, result.results);
      if (this.#attempt > 0)
        this.#options.log.info({ attempts: this.#attempt }, 'Odoo reachable again');
      this.#attempt = 0;
      this.delays.length = 0;
      this.#batchLimit = Math.min(this.#batchSize, this.#batchLimit * 2);
      return true;
    } catch (err) {
      this.#options.onBatch?.({
        size: batch.length,
        seconds: (performance.now() - started) / 1000,
        ok: false,
      });
      this.#attempt++;
      const retryable = isWorkerError(err) && err.retryable;
      const fields = { err, attempt: this.#attempt, batch: batch.length };
      if (retryable) this.#options.log.warn(fields, 'events.ingest failed, retrying with backoff');
      else {
        this.#options.log.error(fields, 'events.ingest refused, retrying with a smaller batch');
        this.#batchLimit = Math.max(1, Math.floor(this.#batchLimit / 2));
      }
      return false;
    } finally {
      this.#inflight = null;
    }
  }

  #settle(batch: PendingEvent[], results: IngestItemResult[]): void {
    const byIndex = new Map(results.map((r) => [r.index, r]));
    const acked: number[] = [];
    const rejected: { item: PendingEvent; code: string; message: string }[] = [];
    const events: WorkshopEvent[] = [];
    batch.forEach((item, index) => {
      const r = byIndex.get(index);
      if (!r || (r.event_uid !== null && r.event_uid !== item.event_uid)) return;
      if (r.status === 'rejected') {
        const message = r.message ?? r.errors?.map((e) => `${e.path} ${e.message}`).join('; ');
        rejected.push({ item, code: r.code ?? 'rejected', message: message ?? 'rejected' });
        this.#options.log.error(
          { event_uid: item.event_uid, device_id: item.device_id, code: r.code, message },
          'Odoo rejected an event; moved to the dead-letter table',
        );
      } else {
        acked.push(item.id);
        events.push(item.event);
      }
    });
    this.#options.outbox.settle(acked, rejected);
    this.#options.onSettled?.({ acked: acked.length, rejected: rejected.length, events });
  }

  /** Until `wake()` (or `timeoutMs` of the clock passed). */
  #waitForWake(timeoutMs?: number): Promise<void> {
    if (this.#pendingWake) return Promise.resolve();
    return new Promise((resolve) => {
      const clock = this.#clock;
      const timer =
        timeoutMs === undefined
          ? null
          : clock.setTimeout(() => {
              this.#wakeUp = null;
              resolve();
            }, timeoutMs);
      this.#wakeUp = () => {
        if (timer !== null) clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  #sleep(ms: number): Promise<void> {
    this.delays.push(ms);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#backingOff = null;
        resolve();
      }, ms);
      this.#backingOff = { timer, resolve };
    });
  }

  #cancelBackoff(): void {
    if (!this.#backingOff) return;
    clearTimeout(this.#backingOff.timer);
    const { resolve } = this.#backingOff;
    this.#backingOff = null;
    resolve();
  }

  /** Consecutive failed attempts (0 when the last call succeeded). */
  failures(): number {
    return this.#attempt;
  }
}
