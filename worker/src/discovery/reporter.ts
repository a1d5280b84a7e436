/**
 * Sends the store's due meters to Odoo (`discovery.report`): debounced, so a burst of announcements
 * (every retained `online`, `config` and `bridge/devices` replayed on subscribe) becomes one call;
 * in batches of at most 200; retried with backoff while Odoo is down (the meters stay due, nothing is
 * lost, the store bounds what waits). Runs beside MQTT intake and never blocks it.
 */
import type { DiscoveredMeter, DiscoveryReportResult } from '@workshop-iot/shared';
import { isWorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { backoff, backoffDelay } from '../util/backoff.ts';
import type { DiscoveryStore } from './store.ts';

/** discovery.report retries: 5 s doubling to 5 min (nothing waits on it). */
const REPORT_BACKOFF_DEFAULTS = { min_ms: 5_000, max_ms: 300_000 };

export const REPORT_BATCH = 200;

export interface DiscoveryReporterOptions {
  store: Pick<DiscoveryStore, 'due' | 'reported' | 'ignore'>;
  /** The Odoo call; null when the worker runs without Odoo (nothing is sent). */
  report: ((meters: DiscoveredMeter[]) => Promise<DiscoveryReportResult>) | null;
  log?: Logger;
  debounceMs?: number;
  retry?: { baseMs: number; maxMs: number };
  random?: () => number;
}

export class DiscoveryReporter {
  readonly #options: DiscoveryReporterOptions;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = false;
  #failures = 0;
  #sent = 0;

  constructor(options: DiscoveryReporterOptions) {
    this.#options = options;
  }

  /** Something became due: report within the debounce delay (unless a retry is already waiting). */
  poke(): void {
    if (this.#stopped || this.#timer || this.#running || !this.#options.report) return;
    this.#schedule(this.#options.debounceMs ?? 2000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  stats(): { sent: number; failures: number } {
    return { sent: this.#sent, failures: this.#failures };
  }

  /** One round: report every due meter, batch after batch; on failure schedule a retry. */
  async flush(): Promise<void> {
    const report = this.#options.report;
    if (!report || this.#running || this.#stopped) return;
    this.#running = true;
    try {
      for (;;) {
        const meters = this.#options.store.due(REPORT_BATCH);
        if (meters.length === 0) break;
        const result = await report(meters);
        this.#options.store.reported(meters);
        this.#options.store.ignore(result.ignored);
        this.#sent += meters.length;
        this.#failures = 0;
        this.#options.log?.info(
          { meters: meters.length, ignored: result.ignored.length },
          'Reported discovered meters to Odoo',
        );
        if (this.#stopped) break;
      }
    } catch (err) {
      this.#failures++;
      const retry = this.#options.retry;
      const policy = backoff(retry?.baseMs, retry?.maxMs, 'full', REPORT_BACKOFF_DEFAULTS);
      const delay = backoffDelay(this.#failures - 1, policy, this.#options.random);
      const level = isWorkerError(err) && err.retryable ? 'warn' : 'error';
      this.#options.log?.[level](
        { err, attempt: this.#failures, retry_in_ms: delay },
        'discovery.report failed; the meters stay due and are reported again',
      );
      this.#running = false;
      this.#schedule(delay);
      return;
    }
    this.#running = false;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, ms);
  }
}
