import { describe, expect, it } from 'vitest';
import {
  formatClockTime,
  formatDuration,
  formatPower,
  formatRelative,
  shownParts,
  toBcp47,
} from '../../src/model/format.ts';

describe('formatDuration', () => {
  it('formats seconds as h:mm:ss without wrapping at 24 hours', () => {
    expect(formatDuration(0)).toBe('0:00:00');
    expect(formatDuration(59.4)).toBe('0:00:59');
    expect(formatDuration(59.5)).toBe('0:01:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(26 * 3600)).toBe('26:00:00');
  });

  it('shows zero for negative or non-finite input', () => {
    expect(formatDuration(-5)).toBe('0:00:00');
    expect(formatDuration(Number.NaN)).toBe('0:00:00');
  });
});

describe('shownParts', () => {
  it('shows working and standby in whole seconds that add up to their shown sum', () => {
    // 53.6 s + 7.4 s = 61 s: rounded separately they would read 0:00:54 + 0:00:07.
    const parts = shownParts(53.6, 7.4);
    expect(parts).toEqual({ working: 54, standby: 7 });
    expect(formatDuration(parts.working + parts.standby)).toBe(formatDuration(53.6 + 7.4));
    // Both halves round up on their own (1 + 1), the sum does not (1.0 -> 1).
    expect(shownParts(0.5, 0.5)).toEqual({ working: 1, standby: 0 });
    expect(shownParts(0.4, 0.4)).toEqual({ working: 0, standby: 1 });
  });

  it('treats negative or missing parts as zero', () => {
    expect(shownParts(-3, Number.NaN)).toEqual({ working: 0, standby: 0 });
  });
});

describe('formatPower', () => {
  it('picks W or kW with a precision that fits the magnitude', () => {
    expect(formatPower(0, 'en')).toBe('0 W');
    expect(formatPower(4.54, 'en')).toBe('4.5 W');
    expect(formatPower(230.4, 'en')).toBe('230 W');
    expect(formatPower(999.4, 'en')).toBe('999 W');
    expect(formatPower(999.6, 'en')).toBe('1.00 kW');
    expect(formatPower(1250, 'en')).toBe('1.25 kW');
    expect(formatPower(12_540, 'en')).toBe('12.5 kW');
    expect(formatPower(150_000, 'en')).toBe('150 kW');
  });

  it('shows an em dash without a reading and uses the locale decimal separator', () => {
    expect(formatPower(null)).toBe('—');
    expect(formatPower(1250, 'de')).toBe('1,25 kW');
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  const ago = (s: number) => new Date(now - s * 1000).toISOString();

  it('says how long ago in seconds, minutes, hours and days', () => {
    expect(formatRelative(ago(2), now, 'never', 'en')).toBe('now');
    expect(formatRelative(ago(12), now, 'never', 'en')).toBe('12 sec. ago');
    expect(formatRelative(ago(300), now, 'never', 'en')).toBe('5 min. ago');
    expect(formatRelative(ago(3 * 3600), now, 'never', 'en')).toBe('3 hr. ago');
    expect(formatRelative(ago(2 * 86_400), now, 'never', 'en')).toBe('2 days ago');
  });

  it('reads a future timestamp (clock skew) as now and null as never', () => {
    expect(formatRelative(ago(-30), now, 'never', 'en')).toBe('now');
    expect(formatRelative(null, now, 'never', 'en')).toBe('never');
  });

  it('maps Odoo language codes to BCP 47', () => {
    expect(toBcp47('fr_BE')).toBe('fr-BE');
    expect(toBcp47(undefined)).toBeUndefined();
  });
});

describe('formatClockTime', () => {
  const now = Date.parse('2026-11-25T10:00:00.000Z');
  it('gives the time of day of a moment today, with the date for an earlier day', () => {
    expect(formatClockTime('2026-11-25T09:54:30.000Z', now, 'en-GB', 'UTC')).toBe('09:54');
    expect(formatClockTime('2026-11-24T22:10:00.000Z', now, 'en-GB', 'UTC')).toBe('24 Nov, 22:10');
    // "Today" is the viewer's day: 23:10 in Berlin is still the 24th there.
    expect(formatClockTime('2026-11-24T22:10:00.000Z', now, 'de-DE', 'Europe/Berlin')).toBe(
      '24. Nov., 23:10',
    );
  });

  it('gives the em dash without a time', () => {
    expect(formatClockTime(null, now)).toBe('—');
    expect(formatClockTime('not a time', now)).toBe('—');
  });
});
