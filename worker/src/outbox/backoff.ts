/**
 * Exponential backoff with full jitter: delay = random(0, min(max, base * 2^attempt)).
 * Full jitter spreads reconnecting workers so a recovering Odoo is not hit in lock-step.
 */

/**
 * setTimeout stores its delay in a signed 32-bit integer: anything above 2^31-1 ms (~24.8 days) is
 * silently replaced by 1 ms, which would turn a long backoff into a hot retry loop. Every delay is
 * clamped below it, and the exponent is capped so 2^attempt never overflows to Infinity.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent, MAX_TIMEOUT_MS);
  const random = options.random ?? Math.random;
  return Math.floor(random() * ceiling);
}
