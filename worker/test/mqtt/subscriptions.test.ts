/** SubscriptionTracker: which SUBSCRIBE goes out next and whom a refusal blames (pure, simulated clock). */
import { describe, expect, it } from 'vitest';
import { SubscriptionTracker } from '../../src/mqtt/subscriptions.ts';

function tracker(chunk = 3) {
  let now = 0;
  const t = new SubscriptionTracker({
    chunk,
    retry: { min_ms: 1000, max_ms: 8000, jitter: 'spread' },
    now: () => now,
    random: () => 0.5,
  });
  return { t, advance: (ms: number) => (now += ms) };
}

describe('SubscriptionTracker', () => {
  it('sends one packet at a time, in chunks, and settles when all are granted', () => {
    const { t } = tracker(2);
    t.setWanted(['a', 'b', 'c']);
    t.connected();
    expect(t.next()).toEqual(['a', 'b']);
    expect(t.next()).toBeNull();
    expect(t.answered(new Map())).toEqual([]);
    expect(t.next()).toEqual(['c']);
    expect(t.settled).toBe(false);
    t.answered(new Map());
    expect(t.next()).toBeNull();
    expect(t.settled).toBe(true);
  });

  it('isolates the filter a close blames: a big packet makes suspects, sent alone after the rest', () => {
    const { t } = tracker(10);
    t.setWanted(['a', 'bad', 'c']);
    t.connected();
    expect(t.next()).toEqual(['a', 'bad', 'c']);
    expect(t.connectionLost()).toEqual({ failed: [], suspects: ['a', 'bad', 'c'] });
    t.connected();
    expect(t.next()).toEqual(['a']);
    t.answered(new Map());
    expect(t.next()).toEqual(['bad']);
    const lost = t.connectionLost();
    expect(lost.failed).toEqual([
      {
        filter: 'bad',
        reason: 'the broker closed the connection on SUBSCRIBE',
        failures: 1,
        retry_at_ms: 1000,
      },
    ]);
    t.connected();
    // 'a' is no longer suspect (granted once): it goes in a normal packet; 'c' is still suspect.
    expect(t.next()).toEqual(['a']);
    t.answered(new Map());
    expect(t.next()).toEqual(['c']);
    t.answered(new Map());
    expect(t.next()).toBeNull();
    expect(t.settled).toBe(true);
    expect(t.nextRetryAtMs).toBe(1000);
  });

  it('fails only the refused filters of a SUBACK and retries them on a doubling backoff', () => {
    const { t, advance } = tracker();
    t.setWanted(['a', 'denied']);
    t.connected();
    t.next();
    const [failure] = t.answered(new Map([['denied', 0x80]]));
    expect(failure).toMatchObject({
      filter: 'denied',
      reason: 'the broker refused it (SUBACK 0x80)',
    });
    expect(t.next()).toBeNull();
    advance(1000);
    expect(t.next()).toEqual(['denied']);
    expect(t.answered(new Map([['denied', 0x87]]))[0]).toMatchObject({
      failures: 2,
      retry_at_ms: 1000 + 2000,
    });
    advance(2000);
    expect(t.next()).toEqual(['denied']);
    t.answered(new Map());
    expect(t.failures()).toEqual([]);
  });

  it('forgets filters no longer wanted and hands granted ones back for UNSUBSCRIBE', () => {
    const { t } = tracker();
    t.setWanted(['a', 'bad']);
    t.connected();
    t.next();
    t.answered(new Map([['bad', 0x80]]));
    t.setWanted(['b']);
    expect(t.failures()).toEqual([]);
    expect(t.takeUnwanted()).toEqual(['a']);
    expect(t.next()).toEqual(['b']);
  });

  it('blames nothing for a close with no SUBSCRIBE in flight', () => {
    const { t } = tracker();
    t.setWanted(['a']);
    t.connected();
    t.next();
    t.answered(new Map());
    expect(t.connectionLost()).toEqual({ failed: [], suspects: [] });
  });
});
