/**
 * The worker's standing link to Odoo besides event delivery:
 * - `worker.hello` at start, retried with backoff until it succeeds (registers the worker; when Odoo
 *   has a newer config it comes back in the answer and goes through the same path as config.apply);
 * - `worker.status` every `status_interval_s` with the full list of device live states;
 * - prompt pushes of changed live states, debounced (~300 ms) so a burst becomes one call;
 * - a status answer announcing a newer config version triggers a new hello (closes missed pushes).
 * Failures are logged and retried; nothing here blocks intake.
 */
import type {
  DeviceLiveState,
  WorkerHealthSummary,
  WorkerHelloParams,
  WorkerHelloResult,
} from '@workshop-iot/shared';
import { isWorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { backoff, backoffDelay } from '../util/backoff.ts';
import type { OdooApi } from './rpc-client.ts';

/** worker.hello retries: 1 s doubling to 60 s, full jitter (many workers, one Odoo). */
const HELLO_BACKOFF = backoff(1_000, 60_000, 'full');

export interface OdooLinkOptions {
  odoo: OdooApi;
  log: Logger;
  workerUid: string;
  softwareVersion: string;
  httpUrl: string | null;
  hostname: string;
  startedAt: string;
  statusIntervalS: number;
  configVersion: () => number;
  applyConfig: (config: unknown) => Promise<unknown>;
  liveStates: () => DeviceLiveState[];
  health: () => WorkerHealthSummary;
  debounceMs?: number;
  random?: () => number;
}

export class OdooLink {
  #timers = new Set<NodeJS.Timeout>();
  #changed = new Map<string, DeviceLiveState>();
  #debounce: NodeJS.Timeout | null = null;
  #stopped = false;
  #started = false;
  #helloAttempt = 0;
  #helloRunning = false;
  #statusInFlight = false;
  /** A push asked for while one was in flight: null none, false prompt, true full. */
  #statusAgain: boolean | null = null;
  #abort = new AbortController();
  /** Set after the first successful hello. */
  workerId: number | null = null;

  readonly #options: OdooLinkOptions;

  constructor(options: OdooLinkOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#stopped) throw new Error('OdooLink cannot be restarted');
    if (this.#started) return;
    this.#started = true;
    void this.hello();
    this.#every(this.#options.statusIntervalS * 1000, () => void this.#pushStatus(true));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = null;
    this.#abort.abort();
  }

  /** A device's live state changed: pushed within `debounceMs` together with other changes. */
  liveStateChanged(state: DeviceLiveState): void {
    if (this.#stopped) return;
    this.#changed.set(state.device_id, state);
    if (this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.#pushStatus(false);
    }, this.#options.debounceMs ?? 300);
  }

  /** Registers with Odoo, retrying with backoff until it works; applies a newer config it returns. */
  async hello(): Promise<void> {
    if (this.#helloRunning || this.#stopped) return;
    this.#helloRunning = true;
    try {
      while (!this.#stopped) {
        const params: WorkerHelloParams = {
          worker_uid: this.#options.workerUid,
          software_version: this.#options.softwareVersion,
          config_version: this.#options.configVersion(),
          hostname: this.#options.hostname,
          http_url: this.#options.httpUrl,
          started_at: this.#options.startedAt,
        };
        try {
          const result = await this.#options.odoo.hello(params, this.#abort.signal);
          this.#helloAttempt = 0;
          await this.#onHello(result);
          return;
        } catch (err) {
          if (this.#stopped) return;
          this.#helloAttempt++;
          const level = isWorkerError(err) && err.retryable ? 'warn' : 'error';
          this.#options.log[level]({ err, attempt: this.#helloAttempt }, 'worker.hello failed');
          await this.#delay(
            backoffDelay(this.#helloAttempt - 1, HELLO_BACKOFF, this.#options.random),
          );
        }
      }
    } finally {
      this.#helloRunning = false;
    }
  }

  async #onHello(result: WorkerHelloResult): Promise<void> {
    this.workerId = result.worker_id;
    this.#options.log.info(
      { worker_id: result.worker_id, odoo_config_version: result.config_version },
      'Registered with Odoo',
    );
    if (result.config && result.config.version > this.#options.configVersion()) {
      try {
        await this.#options.applyConfig(result.config);
      } catch (err) {
        this.#options.log.error(
          { err },
          'Config from worker.hello refused; keeping the current one',
        );
      }
    }
    void this.#pushStatus(true);
  }

  /**
   * At most one `worker.status` call in flight: a push asked for meanwhile (the debounce fired
   * again, the periodic full report) waits for it and then goes out once, with every change made
   * in between. Before, each debounce started its own call; when Odoo answered slower than every
   * ~300 ms they queued in the one-call-at-a-time lane (odoo/serial.ts) ahead of the events'
   * `events.ingest` (measured: 2.1 s median lane wait of an ingest at 20 changes/s on a busy VM).
   */
  async #pushStatus(full: boolean): Promise<void> {
    if (this.#stopped) return;
    if (this.#statusInFlight) {
      this.#statusAgain = (this.#statusAgain ?? false) || full;
      return;
    }
    this.#statusInFlight = true;
    try {
      await this.#sendStatus(full);
    } finally {
      this.#statusInFlight = false;
    }
    const again = this.#statusAgain;
    this.#statusAgain = null;
    if (again !== null) await this.#pushStatus(again);
  }

  async #sendStatus(full: boolean): Promise<void> {
    let devices: DeviceLiveState[];
    if (full) {
      this.#changed.clear();
      devices = this.#options.liveStates();
    } else {
      devices = [...this.#changed.values()];
      this.#changed.clear();
      if (devices.length === 0) return;
    }
    try {
      const result = await this.#options.odoo.status(
        {
          worker_uid: this.#options.workerUid,
          config_version: this.#options.configVersion(),
          health: this.#options.health(),
          devices,
          full,
        },
        this.#abort.signal,
      );
      if (result.config_version > this.#options.configVersion()) {
        this.#options.log.info(
          { odoo_config_version: result.config_version },
          'Odoo has a newer config: pulling it with worker.hello',
        );
        void this.hello();
      }
    } catch (err) {
      if (this.#stopped) return;
      // Prompt pushes are best effort: the next periodic full report carries every state again.
      const level = isWorkerError(err) && err.retryable ? 'debug' : 'warn';
      this.#options.log[level]({ err, full }, 'worker.status failed');
    }
  }

  #every(ms: number, fn: () => void): void {
    const tick = () => {
      this.#timers.delete(timer);
      if (this.#stopped) return;
      fn();
      timer = setTimeout(tick, ms);
      this.#timers.add(timer);
    };
    let timer = setTimeout(tick, ms);
    this.#timers.add(timer);
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
      this.#abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
