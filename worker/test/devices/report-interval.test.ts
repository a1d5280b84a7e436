/**
 * ReportInterval: a meter's usual time between messages, from the gaps the worker observed
 * (issue 14, finding 7). Times are plain numbers: the estimator has no clock of its own.
 */
import { describe, expect, it } from 'vitest';
import { FLOOR_S, LEARN_MS, ReportInterval } from '../../src/devices/report-interval.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const TIMEOUT_S = 600;

/** Messages every `everyS` seconds from T0 for `forS` seconds; returns the last arrival (ms). */
function feed(interval: ReportInterval, fromMs: number, everyS: number, forS: number): number {
  let at = fromMs;
  for (; at <= fromMs + forS * 1000; at += everyS * 1000) interval.observe(at, TIMEOUT_S);
  return at - everyS * 1000;
}

describe('ReportInterval', () => {
  it('learns a Tasmota TelePeriod of 300 s', () => {
    const interval = new ReportInterval();
    const last = feed(interval, T0, 300, 1800);
    expect(interval.estimateS(TIMEOUT_S, last)).toBe(300);
  });

  it("keeps a Shelly Gen2's 60 s periodic report through bursts of on-change reports", () => {
    const interval = new ReportInterval();
    let at = feed(interval, T0, 60, 900);
    // Twenty minutes of moving load: a report every second.
    at = feed(interval, at + 1000, 1, 1200);
    expect(interval.estimateS(TIMEOUT_S, at)).toBe(60);
  });

  it('never goes below the floor, even for a meter that only ever sent one-second gaps', () => {
    const interval = new ReportInterval();
    const last = feed(interval, T0, 1, 3 * 3600);
    expect(interval.estimateS(TIMEOUT_S, last)).toBe(FLOOR_S);
    // ...unless the device's timeout is shorter still.
    expect(interval.estimateS(20, last)).toBe(20);
  });

  it('answers the message timeout until it has listened long enough', () => {
    const interval = new ReportInterval();
    const last = feed(interval, T0, 60, 300);
    expect(last - T0).toBeLessThan(LEARN_MS);
    expect(interval.estimateS(TIMEOUT_S, last)).toBe(TIMEOUT_S);
    expect(new ReportInterval().estimateS(TIMEOUT_S, T0)).toBe(TIMEOUT_S);
  });

  it('ignores gaps longer than the timeout (outages) and is at most the timeout', () => {
    const interval = new ReportInterval();
    let at = feed(interval, T0, 120, 1200);
    at = feed(interval, at + 900_000, 120, 600); // a 15 min outage, then 120 s again
    expect(interval.estimateS(TIMEOUT_S, at)).toBe(120);
    expect(interval.estimateS(100, at)).toBe(100);
  });

  it('does not count the gap across time nobody listened (restart)', () => {
    const interval = new ReportInterval();
    let at = feed(interval, T0, 60, 1200);
    interval.restart();
    at = feed(interval, at + 500_000, 60, 600); // 500 s of broker outage: under the timeout
    expect(interval.estimateS(TIMEOUT_S, at)).toBe(60);
  });

  it('forgets a long gap after an hour, but not before', () => {
    const interval = new ReportInterval();
    let at = feed(interval, T0, 60, 1200);
    at += 400_000; // one unusual 400 s gap
    interval.observe(at, TIMEOUT_S);
    at = feed(interval, at + 60_000, 60, 1800);
    expect(interval.estimateS(TIMEOUT_S, at)).toBe(400);
    at = feed(interval, at + 60_000, 60, 3600);
    expect(interval.estimateS(TIMEOUT_S, at)).toBe(60);
  });

  it('falls back to the timeout when nothing was heard for an hour', () => {
    const interval = new ReportInterval();
    const last = feed(interval, T0, 60, 1200);
    expect(interval.estimateS(TIMEOUT_S, last + 2 * 3600_000)).toBe(TIMEOUT_S);
  });
});
