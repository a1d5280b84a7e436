import { describe, expect, it } from 'vitest';
import { backoff, backoffDelay, MAX_TIMEOUT_MS } from '../../src/util/backoff.ts';

describe('backoff (one helper, attempt 0 = first retry)', () => {
  it('doubles from min_ms and clamps at max_ms', () => {
    const policy = backoff(500, 5_000, 'spread');
    const delays = [0, 1, 2, 3, 4, 5, 50, 5000].map((n) => backoffDelay(n, policy, () => 0.5));
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it("'spread' jitters by +-20 % but never leaves [min, max]", () => {
    const policy = backoff(1_000, 10_000, 'spread');
    expect(backoffDelay(1, policy, () => 0)).toBe(1600);
    expect(backoffDelay(1, policy, () => 0.999_999)).toBe(2400);
    expect(backoffDelay(0, policy, () => 0)).toBe(1000);
    expect(backoffDelay(20, policy, () => 0.999_999)).toBe(10_000);
  });

  it("'full' is uniform in [0, step): 0 at random 0, just under the step at random ~1", () => {
    const policy = backoff(500, 60_000, 'full');
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(0, policy, () => 0.999_999)).toBe(499);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(3999);
    expect(backoffDelay(30, policy, () => 0.999_999)).toBe(59_999);
  });

  it('defaults to 1 s .. 60 s, or the caller defaults, and repairs min > max', () => {
    expect(backoff(undefined, undefined, 'spread')).toEqual({
      min_ms: 1_000,
      max_ms: 60_000,
      jitter: 'spread',
    });
    expect(backoff(undefined, undefined, 'full', { min_ms: 5_000, max_ms: 300_000 })).toEqual({
      min_ms: 5_000,
      max_ms: 300_000,
      jitter: 'full',
    });
    expect(backoff(5_000, 1_000, 'spread')).toMatchObject({ min_ms: 5_000, max_ms: 5_000 });
  });

  it('never exceeds the 32-bit setTimeout limit, whatever the attempt', () => {
    expect(backoff(1, 2 ** 40, 'spread').max_ms).toBe(MAX_TIMEOUT_MS);
    const huge = backoff(1_000, Number.MAX_SAFE_INTEGER, 'full');
    expect(backoffDelay(10_000, huge, () => 0.999_999_999)).toBeLessThan(MAX_TIMEOUT_MS);
    expect(backoffDelay(Number.POSITIVE_INFINITY, huge, () => 0.5)).toBeLessThan(MAX_TIMEOUT_MS);
  });
});
