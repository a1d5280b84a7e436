/**
 * What SIGINT/SIGTERM mean while the worker runs.
 *
 * The first signal starts the graceful stop. One Ctrl-C often arrives more than once: the terminal
 * signals the whole process group (npm, tsx, the worker), then the tsx and npm wrappers relay it to
 * the worker again some 30 ms later. A repeat within `SIGNAL_GRACE_MS` is therefore that same Ctrl-C
 * and is ignored, so the flush and `close_sessions_on_shutdown` still run. A signal after the grace
 * period is an operator insisting: the worker exits at once (the outbox is durable).
 */

/** Repeats within this time of the first signal are the same request (documented in worker/README.md). */
export const SIGNAL_GRACE_MS = 2000;

export type SignalDecision = 'shutdown' | 'ignored' | 'force';

export interface ShutdownSignalsOptions {
  graceMs?: number;
  /** First signal: start the graceful stop. */
  onShutdown(signal: string): void;
  /** A repeat within the grace period. */
  onIgnored(signal: string): void;
  /** A repeat after the grace period: exit now. */
  onForce(signal: string): void;
  /** The grace period ended while still stopping (a further signal now forces the exit). */
  onGraceOver?(): void;
}

export class ShutdownSignals {
  #state: 'running' | 'grace' | 'stopping' = 'running';
  readonly #options: ShutdownSignalsOptions;

  constructor(options: ShutdownSignalsOptions) {
    this.#options = options;
  }

  handle(signal: string): SignalDecision {
    if (this.#state === 'running') {
      this.#state = 'grace';
      // unref: the timer must not keep a finished worker alive.
      setTimeout(() => {
        this.#state = 'stopping';
        this.#options.onGraceOver?.();
      }, this.#options.graceMs ?? SIGNAL_GRACE_MS).unref();
      this.#options.onShutdown(signal);
      return 'shutdown';
    }
    if (this.#state === 'grace') {
      this.#options.onIgnored(signal);
      return 'ignored';
    }
    this.#options.onForce(signal);
    return 'force';
  }
}
