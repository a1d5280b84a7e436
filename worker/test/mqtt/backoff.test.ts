import { describe, expect, it } from 'vitest';
import { backoffBounds, backoffDelay, MAX_TIMEOUT_MS } from '../../src/mqtt/backoff.ts';

describe('reconnect backoff', () => {
  it('doubles from reconnect_min_ms and clamps at reconnect_max_ms', () => {
    const bounds = backoffBounds(500, 5_000);
    const delays = [0, 1, 2, 3, 4, 5, 50, 5000].map((n) => backoffDelay(n, bounds, () => 0.5));
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it('jitters by +-20 % but never leaves the bounds', () => {
    const bounds = backoffBounds(1_000, 10_000);
    expect(backoffDelay(1, bounds, () => 0)).toBe(1600);
    expect(backoffDelay(1, bounds, () => 0.999_999)).toBe(2400);
    expect(backoffDelay(0, bounds, () => 0)).toBe(1000);
    expect(backoffDelay(20, bounds, () => 0.999_999)).toBe(10_000);
  });

  it('defaults to 1 s .. 60 s and repairs min > max', () => {
    expect(backoffBounds()).toEqual({ min_ms: 1_000, max_ms: 60_000 });
    expect(backoffBounds(5_000, 1_000)).toEqual({ min_ms: 5_000, max_ms: 5_000 });
  });

  it('never exceeds the 32-bit setTimeout limit', () => {
    expect(backoffBounds(1, 2 ** 40).max_ms).toBe(MAX_TIMEOUT_MS);
  });
});
