/**
 * Exponential reconnect backoff, clamped to [min_ms, max_ms], with +-20 % jitter so a fleet of workers
 * restarted together does not hammer a recovering broker in lock-step.
 */

/**
 * Node's setTimeout stores the delay as a signed 32-bit integer: anything above 2^31-1 ms (~24.8 days)
 * silently becomes 1 ms, which would turn a "wait a long time" into a busy reconnect loop. The schema
 * caps reconnect_max_ms far below this, but the clamp keeps the helper safe on its own.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const DEFAULT_RECONNECT_MIN_MS = 1_000;
export const DEFAULT_RECONNECT_MAX_MS = 60_000;

export interface BackoffBounds {
  min_ms: number;
  max_ms: number;
}

/** Normalise config bounds: defaults, min <= max, both within setTimeout's range. */
export function backoffBounds(min_ms?: number, max_ms?: number): BackoffBounds {
  const min = Math.min(Math.max(1, min_ms ?? DEFAULT_RECONNECT_MIN_MS), MAX_TIMEOUT_MS);
  const max = Math.min(Math.max(min, max_ms ?? DEFAULT_RECONNECT_MAX_MS), MAX_TIMEOUT_MS);
  return { min_ms: min, max_ms: max };
}

/**
 * Delay before reconnect attempt number `attempt` (0 = first retry after a loss).
 * `random` in [0, 1) drives the jitter; inject a constant in tests.
 */
export function backoffDelay(attempt: number, bounds: BackoffBounds, random = Math.random): number {
  // 2^attempt overflows to Infinity after ~1024 attempts; cap the exponent, min() does the rest.
  const base = bounds.min_ms * 2 ** Math.min(attempt, 30);
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(bounds.max_ms, Math.max(bounds.min_ms, jittered)));
}
