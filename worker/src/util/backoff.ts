/**
 * The worker's one retry backoff: exponential from `min_ms` (attempt 0 = the first retry), capped at
 * `max_ms`, with one of two jitters the caller picks for what it retries:
 *
 * - `spread`: +-20 % around the step, never outside [min_ms, max_ms]. Broker reconnects and
 *   re-subscribes: a worker must not retry faster than configured, and a fleet restarted together
 *   still does not reconnect in lock-step.
 * - `full`: uniform in [0, step). Calls to Odoo (outbox delivery, worker.hello, discovery.report):
 *   many workers retrying a recovering Odoo spread over the whole window ("full jitter").
 *
 * Node's setTimeout stores its delay in a signed 32-bit integer: anything above 2^31-1 ms (~24.8
 * days) silently becomes 1 ms, which would turn "wait a long time" into a hot retry loop. Every delay
 * is clamped below it, and the exponent is capped so 2^attempt never overflows to Infinity.
 */

export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export type Jitter = 'spread' | 'full';

export interface Backoff {
  min_ms: number;
  max_ms: number;
  jitter: Jitter;
}

/** A normalised policy: defaults for absent bounds, 1 <= min <= max <= MAX_TIMEOUT_MS. */
export function backoff(
  min_ms: number | undefined,
  max_ms: number | undefined,
  jitter: Jitter,
  defaults: { min_ms: number; max_ms: number } = { min_ms: 1_000, max_ms: 60_000 },
): Backoff {
  const min = Math.min(Math.max(1, min_ms ?? defaults.min_ms), MAX_TIMEOUT_MS);
  const max = Math.min(Math.max(min, max_ms ?? defaults.max_ms), MAX_TIMEOUT_MS);
  return { min_ms: min, max_ms: max, jitter };
}

/** Delay before retry number `attempt` (0 = the first retry); `random` in [0, 1), injectable. */
export function backoffDelay(attempt: number, policy: Backoff, random = Math.random): number {
  const step = Math.min(
    policy.max_ms,
    policy.min_ms * 2 ** Math.min(Math.max(attempt, 0), 30),
    MAX_TIMEOUT_MS,
  );
  if (policy.jitter === 'full') return Math.floor(random() * step);
  const jittered = step * (0.8 + 0.4 * random());
  return Math.round(Math.min(policy.max_ms, Math.max(policy.min_ms, jittered)));
}
