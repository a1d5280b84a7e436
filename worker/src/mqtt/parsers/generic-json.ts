/**
 * Any meter that publishes JSON on one topic, configured per device in `generic`:
 * `field_path` (dotted; all-digit segments index arrays, e.g. `meters.0.power`), `unit` W|kW,
 * optional `energy_path` + `energy_unit` Wh|kWh (default Wh).
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
    const text = payloadText(payload);
    if (text instanceof Bad) return text.toResult();
    let body: JsonValue;
    try {
      body = JSON.parse(text) as JsonValue;
    } catch {
      return invalid('payload is not JSON');
    }
    if (typeof body !== 'object' || body === null) return invalid('payload is not a JSON object');
    const power = getPath(body, this.#path(settings.field_path));
    // Zigbee2MQTT and similar bridges publish the device's whole state on one topic: a message with
    // only `state`/`linkquality` (a relay switched, a link report) or with `"power": null` (not
    // reported yet) carries no power but proves the device is there.
    if (power === undefined || power === null) return alive;
    if (typeof power !== 'number') return invalid(`${settings.field_path} is not a number`);
    let energy: JsonValue | undefined;
    if (settings.energy_path) {
      energy = getPath(body, this.#path(settings.energy_path));
      if (typeof energy === 'number') energy *= FACTOR[settings.energy_unit ?? 'Wh'];
    }
    return readingFrom(
      power * FACTOR[settings.unit],
      energy,
      [settings.field_path, settings.energy_path ?? 'energy'],
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
