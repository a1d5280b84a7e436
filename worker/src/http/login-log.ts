/**
 * Failed logins on the control API (missing or wrong bearer token), logged without ever holding the
 * presented secret: at most one warn line per source address per window (default 60 s), the next
 * line carrying how many were suppressed in between. A guesser therefore shows up in the log
 * without being able to flood it.
 *
 * The table is bounded (`maxSources`): when full, the oldest entry is dropped first, so a scan from
 * many addresses costs memory for `maxSources` entries at most (and at worst logs a few more lines).
 */
import type { Logger } from '../log.ts';

export type LoginFailure = 'missing' | 'invalid';

export interface FailedLoginLogOptions {
  log: Logger;
  windowMs?: number;
  maxSources?: number;
  now?: () => number;
}

interface Entry {
  loggedAt: number;
  suppressed: number;
}

export class FailedLoginLog {
  readonly #log: Logger;
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #now: () => number;
  /** Insertion order = age: Map iteration gives the oldest first. */
  readonly #sources = new Map<string, Entry>();

  constructor(options: FailedLoginLogOptions) {
    this.#log = options.log;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxSources = options.maxSources ?? 1000;
    this.#now = options.now ?? (() => Date.now());
  }

  record(source: string, failure: LoginFailure, request: { method: string; path: string }): void {
    const now = this.#now();
    const entry = this.#sources.get(source);
    if (entry && now - entry.loggedAt < this.#windowMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#sources.delete(source);
    if (this.#sources.size >= this.#maxSources) {
      const oldest = this.#sources.keys().next().value;
      if (oldest !== undefined) this.#sources.delete(oldest);
    }
    this.#sources.set(source, { loggedAt: now, suppressed: 0 });
    this.#log.warn(
      { source, failure, method: request.method, path: request.path, suppressed },
      `Control API login failed from ${source} (${failure} token)` +
        (suppressed > 0 ? `; ${suppressed} more since the last line` : ''),
    );
  }
}
