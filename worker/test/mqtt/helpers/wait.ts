/**
 * Event-driven waiting for integration tests: items are recorded as they happen and a test waits
 * for the first one matching a predicate, with a timeout. No sleeps as synchronisation.
 */
import { withTimeout } from '../../../../scripts/lib/wait.ts';

export class Recorder<T> {
  readonly items: T[] = [];
  #waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  push = (item: T): void => {
    this.items.push(item);
    const ready = this.#waiters.filter((w) => w.match(item));
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve(item);
  };

  /** First item matching `match` from index `from` on (already recorded or future). */
  waitFor(match: (item: T) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<T> {
    const found = this.items.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return withTimeout(
      new Promise<T>((resolve) => this.#waiters.push({ match, resolve })),
      timeoutMs,
      what,
    );
  }

  /** Like waitFor, but only items recorded after this call count. */
  next(match: (item: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    return this.waitFor(match, what, timeoutMs, this.items.length);
  }
}
