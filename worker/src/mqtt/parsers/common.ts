/**
 * Shared validation for every parser: payload size, JSON decoding, number checks and dotted paths.
 * Each helper returns a value or a reason string; nothing here throws on bad input.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import type { ParseResult } from './types.ts';

/**
 * Largest payload a parser looks at. Checked on the raw Buffer BEFORE decoding: a 10 MB publish on
 * a device topic must cost a length comparison, not a JSON.parse.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Above this a reading is a unit mix-up or a broken meter (same bound as `PowerW` in shared). */
export const MAX_POWER_W = 1_000_000;

/** Same bound as `EnergyWh` in shared. */
export const MAX_ENERGY_WH = 1e12;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export const invalid = (reason: string): ParseResult => ({ kind: 'invalid', reason });
export const ignored: ParseResult = { kind: 'ignored' };
export const alive: ParseResult = { kind: 'input', input: { kind: 'alive' } };

export function availability(online: boolean): ParseResult {
  return { kind: 'input', input: { kind: 'availability', online } };
}

export function reading(power_w: number, energy_wh: number | null): ParseResult {
  return { kind: 'input', input: { kind: 'reading', power_w, energy_wh } };
}

/**
 * Why a payload was rejected. A class (not a plain object) so `instanceof Bad` can never be confused
 * with a decoded JSON object that happens to carry a `reason` or `kind` key.
 */
export class Bad {
  constructor(readonly reason: string) {}
  toResult(): ParseResult {
    return invalid(this.reason);
  }
}

/** A size-checked payload as text. */
export function payloadText(payload: Buffer): string | Bad {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return new Bad(`payload too large (${payload.length} bytes > ${MAX_PAYLOAD_BYTES})`);
  }
  return payload.toString('utf8');
}

/** Size check, then JSON.parse, then "must be an object". */
export function parseJsonObject(payload: Buffer): JsonObject | Bad {
  const text = payloadText(payload);
  if (text instanceof Bad) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new Bad('payload is not JSON');
  }
  if (!isObject(value)) return new Bad('payload is not a JSON object');
  return value;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Default noise band (W) when the device config sets no `negative_noise_w`. Real meters report small
 * negative values with no load attached (a Shelly Plug S: -0.3 W); those read as 0 W. A reading
 * further below zero is a mis-wired meter or one measuring export: a parse error, never a power.
 */
export const DEFAULT_NEGATIVE_NOISE_W = 1;

/** The device's noise band in W (`negative_noise_w`, default `DEFAULT_NEGATIVE_NOISE_W`). */
export function noiseBand(device: DeviceConfig): number {
  return device.negative_noise_w ?? DEFAULT_NEGATIVE_NOISE_W;
}

/**
 * Validate a power value (already converted to W). A value in [-noise_w, 0] reads as 0 W; a value
 * below -noise_w is rejected (the caller counts it as a parse error and feeds nothing to the device:
 * no reading, no sign of life).
 */
export function checkPower(value: unknown, what: string, noise_w: number): number | string {
  if (typeof value !== 'number') return `${what} is not a number`;
  if (!Number.isFinite(value)) return `${what} is not finite`;
  if (value < -noise_w) return `${what} is negative (${value} W, noise band ${noise_w} W)`;
  if (value > MAX_POWER_W) return `${what} is absurd (${value} W > ${MAX_POWER_W} W)`;
  return value <= 0 ? 0 : value;
}

/** Validate an energy total (already converted to Wh). */
export function checkEnergy(value: unknown, what: string): number | string {
  if (typeof value !== 'number') return `${what} is not a number`;
  if (!Number.isFinite(value)) return `${what} is not finite`;
  if (value < 0) return `${what} is negative (${value})`;
  if (value > MAX_ENERGY_WH) return `${what} is absurd (${value} Wh)`;
  return value === 0 ? 0 : value;
}

/**
 * Plain-text number as Shelly Gen1 publishes it ("123.45"). Stricter than `Number()`, which accepts
 * "", " ", "0x10" and "1e3".
 */
export function parsePlainNumber(payload: Buffer, what: string): number | Bad {
  const text = payloadText(payload);
  if (text instanceof Bad) return text;
  const trimmed = text.trim();
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) {
    if (/^[-+]?(nan|inf(inity)?)$/i.test(trimmed)) return new Bad(`${what} is not finite`);
    return new Bad(`${what} is not a plain number`);
  }
  return Number(trimmed);
}

/**
 * Walk a dotted path: object keys, or array indexes for all-digit segments ("meters.0.power").
 * Returns `undefined` when any segment is missing.
 */
export function getPath(root: JsonValue, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const segment of path) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment)) return undefined;
      node = node[Number(segment)];
    } else if (isObject(node)) {
      node = Object.hasOwn(node, segment) ? node[segment] : undefined;
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/** "true"/"false" as Shelly publishes on `online`; anything else is invalid. */
export function parseBooleanText(payload: Buffer, what: string): boolean | Bad {
  const text = payloadText(payload);
  if (text instanceof Bad) return text;
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  return new Bad(`${what} is neither "true" nor "false"`);
}

/**
 * Validate a power value (W) and an optional energy total (already in Wh) into one reading.
 * `energy` undefined or null means the message carries no energy (Zigbee2MQTT publishes
 * `"energy": null` until the plug first reports it): the power alone is a valid reading.
 */
export function readingFrom(
  power: unknown,
  energy: unknown,
  names: [string, string],
  noise_w: number,
): ParseResult {
  const power_w = checkPower(power, names[0], noise_w);
  if (typeof power_w === 'string') return invalid(power_w);
  if (energy === undefined || energy === null) return reading(power_w, null);
  const energy_wh = checkEnergy(energy, names[1]);
  if (typeof energy_wh === 'string') return invalid(energy_wh);
  return reading(power_w, energy_wh);
}

/**
 * Last valid power per device, for meters that publish power and energy in separate messages
 * (Shelly Gen1 `relay/0/energy`, Gen2 minute-wise `aenergy`-only NotifyStatus). An energy-only message
 * then becomes a reading with the last power, so energy reaches the actor without waiting for the next
 * power change (a Gen3 meter at steady power may not send one for hours). One instance per parser
 * instance, never module-level, so two ingests never share state.
 */
export class LastPower {
  readonly #power = new Map<string, number>();
  get(deviceId: string): number | undefined {
    return this.#power.get(deviceId);
  }
  set(deviceId: string, power_w: number): void {
    this.#power.set(deviceId, power_w);
  }
  forget(deviceId: string): void {
    this.#power.delete(deviceId);
  }
  /** Remember the power of a successful reading; pass any other result through unchanged. */
  remember(deviceId: string, result: ParseResult): ParseResult {
    if (result.kind === 'input' && result.input.kind === 'reading') {
      this.#power.set(deviceId, result.input.power_w);
    }
    return result;
  }
  /** An energy-only message: a reading with the last power, or `alive` before any power is known. */
  energyOnly(deviceId: string, energy_wh: unknown, what: string): ParseResult {
    const checked = checkEnergy(energy_wh, what);
    if (typeof checked === 'string') return invalid(checked);
    const power_w = this.#power.get(deviceId);
    return power_w === undefined ? alive : reading(power_w, checked);
  }
}

/** The device's channel (`channel`, default 0): Shelly component id, Gen1 relay/emeter index, Tasmota array index. */
export function channelOf(device: DeviceConfig): number {
  return device.channel ?? 0;
}

export type Phase = NonNullable<DeviceConfig['phase']>;

/** The device's phase on a three-phase meter (`phase`, default 'total' = the sum of the phases). */
export function phaseOf(device: DeviceConfig): Phase {
  return device.phase ?? 'total';
}

/**
 * Per-device state of a parser, created on first use and dropped by `forget`. One instance per
 * parser instance, never module-level, so two ingests never share state.
 */
export class PerDevice<T> {
  readonly #state = new Map<string, T>();
  constructor(readonly create: () => T) {}
  get(deviceId: string): T {
    let state = this.#state.get(deviceId);
    if (state === undefined) {
      state = this.create();
      this.#state.set(deviceId, state);
    }
    return state;
  }
  peek(deviceId: string): T | undefined {
    return this.#state.get(deviceId);
  }
  forget(deviceId: string): void {
    this.#state.delete(deviceId);
  }
}
