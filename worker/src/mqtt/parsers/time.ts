/**
 * The device's own time of a message, where the payload carries one. Messages the broker queued
 * while the worker was away arrive in a burst at reconnect: their own time, not the arrival time,
 * says when the power changed. The registry keeps it only within [device's logical time, now]
 * (never backwards for the state machine, never in the future); see README.md "Persistent session".
 *
 *   Shelly Gen2/Gen3  NotifyStatus / NotifyFullStatus `params.ts`: Unix seconds with a fraction
 *   Tasmota           `Time`: local time, "2024-01-01T12:00:00"; only used when it carries a UTC
 *                     offset (SetOption52 1, "...T12:00:00+01:00"): a zone-less time is ambiguous
 *   Shelly Gen1, generic JSON: none (the arrival time is used)
 */
import type { ParseResult } from './types.ts';

/** Unix seconds (Shelly `ts`) to epoch ms; undefined when missing or not a plausible time. */
export function unixSecondsMs(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.round(value * 1000);
}

/** Tasmota `Time` with an explicit offset or `Z` to epoch ms; undefined otherwise. */
export function isoWithOffsetMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value))
    return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A reading stamped with the device's own time; any other result passes through unchanged. */
export function withDeviceTime(result: ParseResult, at: number | undefined): ParseResult {
  if (at === undefined || result.kind !== 'input' || result.input.kind !== 'reading') return result;
  // Built field by field, not with a spread: V8 copies a spread object through a slow generic path
  // (~1 µs per NotifyStatus in the intake profile, issue 20), and a literal always has one shape.
  const { power_w, energy_wh } = result.input;
  return { kind: 'input', input: { kind: 'reading', power_w, energy_wh, at } };
}
