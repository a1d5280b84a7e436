/**
 * Pure formatting helpers for the tiles. Units follow the project's suffix convention: `_s` seconds,
 * `_ms` milliseconds, `_w` watts. Locale-dependent parts go through `Intl`, so Odoo passes the
 * user's language and the standalone page the browser's.
 */

/**
 * The project's one rounding rule for shown durations (mirrored by the addon's tools/durations.py):
 * whole seconds, half a second rounds up; negative or missing time is zero.
 */
export function wholeSeconds(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds + 0.5) : 0;
}

/** `3725` -> `1:02:05`. Hours are not wrapped at 24 (a forgotten machine shows `26:00:00`). */
export function formatDuration(seconds: number): string {
  const total = wholeSeconds(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/**
 * Working and standby time as shown, so that the two shown parts add up to the shown sum:
 * working is rounded, standby is the rounded sum minus the rounded working time.
 */
export function shownParts(
  workingS: number,
  standbyS: number,
): { working: number; standby: number } {
  const working = wholeSeconds(workingS);
  const sum = wholeSeconds(wholeOrZero(workingS) + wholeOrZero(standbyS));
  return { working, standby: Math.max(0, sum - working) };
}

function wholeOrZero(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string | undefined, digits: number): Intl.NumberFormat {
  const key = `${locale ?? ''}|${digits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    numberFormats.set(key, format);
  }
  return format;
}

/**
 * Power with a unit and a sensible precision: `4.5 W`, `230 W`, `1.25 kW`, `12.5 kW`, `150 kW`.
 * `null` (no reading yet) gives an em dash.
 */
export function formatPower(powerW: number | null, locale?: string): string {
  if (powerW === null || !Number.isFinite(powerW)) return '—';
  if (powerW < 10) return `${numberFormat(locale, powerW === 0 ? 0 : 1).format(powerW)} W`;
  if (powerW < 999.5) return `${numberFormat(locale, 0).format(powerW)} W`;
  const kw = powerW / 1000;
  const digits = kw < 9.995 ? 2 : kw < 99.95 ? 1 : 0;
  return `${numberFormat(locale, digits).format(kw)} kW`;
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

/**
 * How long ago `iso` was, relative to `nowMs`: `now`, `12 sec. ago`, `5 min. ago`, `3 hr. ago`,
 * `2 days ago` (wording by `Intl.RelativeTimeFormat` in the given locale). `null` -> `neverText`.
 * A timestamp slightly in the future (clock skew) reads as "now".
 */
export function formatRelative(
  iso: string | null,
  nowMs: number,
  neverText: string,
  locale?: string,
): string {
  if (!iso) return neverText;
  const thenMs = Date.parse(iso);
  if (Number.isNaN(thenMs)) return neverText;
  let format = relativeFormats.get(locale ?? '');
  if (!format) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
    relativeFormats.set(locale ?? '', format);
  }
  const ageS = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (ageS < 5) return format.format(0, 'second');
  if (ageS < 60) return format.format(-ageS, 'second');
  if (ageS < 3600) return format.format(-Math.floor(ageS / 60), 'minute');
  if (ageS < 86_400) return format.format(-Math.floor(ageS / 3600), 'hour');
  return format.format(-Math.floor(ageS / 86_400), 'day');
}

/** Odoo language codes use `_` (`fr_BE`); `Intl` wants BCP 47 (`fr-BE`). */
export function toBcp47(lang: string | null | undefined): string | undefined {
  return lang ? lang.replace('_', '-') : undefined;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();
function clockFormat(locale: string | undefined, timeZone: string | undefined, withDate: boolean) {
  const key = `${locale ?? ''}|${timeZone ?? ''}|${withDate}`;
  let format = clockFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      ...(withDate ? { month: 'short', day: 'numeric' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      timeZone,
    });
    clockFormats.set(key, format);
  }
  return format;
}

/**
 * The time of day `iso` was, for "no data since 14:05": hours and minutes in the viewer's time
 * zone, with the date in front when it was not today (`Nov 24, 22:10`). `timeZone` is for tests.
 * `null` or an unparsable time -> the em dash.
 */
export function formatClockTime(
  iso: string | null,
  nowMs: number,
  locale?: string,
  timeZone?: string,
): string {
  const thenMs = iso ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(thenMs)) return '—';
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short' });
  const sameDay = day.format(thenMs) === day.format(nowMs);
  return clockFormat(locale, timeZone, !sameDay).format(thenMs);
}
