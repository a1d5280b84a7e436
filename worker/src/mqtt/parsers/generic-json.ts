/**
 * Any meter that publishes its power on one topic, configured per device in `generic`:
 * `field_path` (dotted; all-digit segments index arrays, e.g. `meters.0.power`), `unit` W|kW,
 * optional `energy_path` + `energy_unit` Wh|kWh (default Wh).
 *
 * Without `field_path` the payload is a bare number ("0", "190.5"): one topic per attribute, as
 * Zigbee2MQTT's attribute output (`zigbee2mqtt/<name>/power`) and ESPHome
 * (`<node>/sensor/<name>/state`) publish. JSON `null` there is a sign of life (not reported yet);
 * ESPHome's "nan" (sensor has no value) and any other text are parse errors naming the payload.
 *
 * Subscribes exactly `<topic>`. It cannot be polled and has no availability topic, so the device
 * actor falls back to plain silence for liveness.
 *
 * A JSON object (or array) without the power field, or with it `null`, is a sign of life, not an
 * error: Zigbee2MQTT publishes `{"state":"ON","linkquality":89}` when a relay switches. An energy
 * field that is missing or `null` leaves the reading without energy.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  alive,
  Bad,
  getPath,
  invalid,
  type JsonValue,
  noiseBand,
  parsePlainNumber,
  payloadText,
  readingFrom,
} from './common.ts';
import type { ParseResult, Parser } from './types.ts';

const FACTOR = { W: 1, kW: 1000, Wh: 1, kWh: 1000 } as const;

export class GenericJsonParser implements Parser {
  /** Split paths are cached per configured string: no string split per message on the hot path. */
  readonly #paths = new Map<string, string[]>();

  subscriptions(device: DeviceConfig): string[] {
    return [device.topic];
  }

  matches(device: DeviceConfig, topic: string): boolean {
    return topic === device.topic;
  }

  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult {
    if (topic !== device.topic) return invalid(`topic ${topic} is not this device's topic`);
    const settings = device.generic;
    if (!settings) return invalid('generic_json device without generic settings');
    if (settings.field_path === undefined) return bareNumber(device, settings.unit, payload);
    const text = payloadText(payload);
    if (text instanceof Bad) return text.toResult();
    let body: JsonValue;
    try {
      body = JSON.parse(text) as JsonValue;
    } catch {
      return invalid('payload is not JSON');
    }
    if (typeof body !== 'object' || body === null) return invalid('payload is not a JSON object');
    const fieldPath = settings.field_path;
    const power = getPath(body, this.#path(fieldPath));
    // Zigbee2MQTT and similar bridges publish the device's whole state on one topic: a message with
    // only `state`/`linkquality` (a relay switched, a link report) or with `"power": null` (not
    // reported yet) carries no power but proves the device is there.
    if (power === undefined || power === null) return alive;
    if (typeof power !== 'number') return invalid(`${fieldPath} is not a number`);
    let energy: JsonValue | undefined;
    if (settings.energy_path) {
      energy = getPath(body, this.#path(settings.energy_path));
      if (typeof energy === 'number') energy *= FACTOR[settings.energy_unit ?? 'Wh'];
    }
    return readingFrom(
      power * FACTOR[settings.unit],
      energy,
      [fieldPath, settings.energy_path ?? 'energy'],
      noiseBand(device),
    );
  }

  poll(): null {
    return null;
  }

  #path(dotted: string): string[] {
    let path = this.#paths.get(dotted);
    if (!path) {
      path = dotted.split('.');
      this.#paths.set(dotted, path);
    }
    return path;
  }
}

/** A payload that is just the power: "0", "190.5", or JSON null (not reported yet). */
function bareNumber(device: DeviceConfig, unit: 'W' | 'kW', payload: Buffer): ParseResult {
  const text = payloadText(payload);
  if (text instanceof Bad) return text.toResult();
  if (text.trim() === 'null') return alive;
  const power = parsePlainNumber(payload, 'payload');
  if (power instanceof Bad) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    return invalid(
      `${power.reason} (${JSON.stringify(shown)}); without a field path the payload must be a bare number`,
    );
  }
  return readingFrom(power * FACTOR[unit], undefined, ['payload', 'energy'], noiseBand(device));
}
