/**
 * Shelly Gen2/Gen3 (Plus, Pro, Mini Gen3) over MQTT, `topic` = the device's MQTT `topic_prefix`
 * (by default its id, e.g. `shellyplus1pm-a8032ab1`).
 *
 *   <topic>/status/pm1:0, <topic>/status/switch:0  full component status: `apower` (W), `aenergy.total` (Wh)
 *   <topic>/events/rpc     NotifyStatus / NotifyFullStatus / NotifyEvent frames; NotifyStatus carries
 *                          only the fields that changed (`{"switch:0":{"id":0,"output":true}}`)
 *   <topic>/online         "true" / "false" (retained, "false" is the device's MQTT last will)
 *   <topic>/poll/rpc       answer to our Shelly.GetStatus poll (see `poll`)
 *
 * Poll: a JSON-RPC request on `<topic>/rpc` with `src: "<topic>/poll"`. Shelly's MQTT RPC channel
 * (Mongoose OS rpc-mqtt) publishes the response frame on `<src>/rpc`, so the answer arrives on
 * `<topic>/poll/rpc`: under the device's own prefix, where an ACL for the device already applies,
 * and exact (no wildcard) so routing stays one Map lookup.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  alive,
  availability,
  Bad,
  invalid,
  isObject,
  type JsonObject,
  type JsonValue,
  LastPower,
  noiseBand,
  parseBooleanText,
  parseJsonObject,
  readingFrom,
} from './common.ts';
import { unixSecondsMs, withDeviceTime } from './time.ts';
import type { ParseResult, Parser, PollRequest } from './types.ts';

/** Components that carry the meter of channel 0: PM Mini Gen3 (`pm1:0`), Plus/Pro 1PM (`switch:0`). */
const METER_COMPONENTS = ['pm1:0', 'switch:0'] as const;

export class ShellyGen2Parser implements Parser {
  readonly #lastPower = new LastPower();

  subscriptions(device: DeviceConfig): string[] {
    const t = device.topic;
    return [
      `${t}/status/pm1:0`,
      `${t}/status/switch:0`,
      `${t}/events/rpc`,
      `${t}/online`,
      `${t}/poll/rpc`,
    ];
  }

  matches(device: DeviceConfig, topic: string): boolean {
    return this.subscriptions(device).includes(topic);
  }

  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult {
    // `<topic>/` prefix test without building that string on every message.
    const n = device.topic.length;
    const suffix =
      topic.charCodeAt(n) === 47 && topic.startsWith(device.topic) ? topic.slice(n + 1) : '';
    switch (suffix) {
      case 'online': {
        const online = parseBooleanText(payload, 'online');
        return online instanceof Bad ? online.toResult() : availability(online);
      }
      case 'status/pm1:0':
      case 'status/switch:0':
        return this.#status(device, suffix, payload);
      case 'events/rpc':
        return this.#notification(device, payload);
      case 'poll/rpc':
        return this.#pollAnswer(device, payload);
      default:
        return invalid(`topic ${topic} is not a Shelly Gen2 topic of this device`);
    }
  }

  poll(device: DeviceConfig): PollRequest {
    return {
      topic: `${device.topic}/rpc`,
      payload: JSON.stringify({ id: 1, src: `${device.topic}/poll`, method: 'Shelly.GetStatus' }),
    };
  }

  forget(deviceId: string): void {
    this.#lastPower.forget(deviceId);
  }

  #status(device: DeviceConfig, suffix: string, payload: Buffer): ParseResult {
    const body = parseJsonObject(payload);
    if (body instanceof Bad) return body.toResult();
    // A Plus 1 without metering publishes status/switch:0 without apower: alive, nothing to read.
    if (!('apower' in body) && suffix === 'status/switch:0') return alive;
    return this.#component(device, body, true);
  }

  #notification(device: DeviceConfig, payload: Buffer): ParseResult {
    const frame = parseJsonObject(payload);
    if (frame instanceof Bad) return frame.toResult();
    const method = frame.method;
    if (typeof method !== 'string') return invalid('RPC frame without method');
    if (method !== 'NotifyStatus' && method !== 'NotifyFullStatus') return alive;
    if (!isObject(frame.params)) return invalid(`${method} without params object`);
    const result = this.#fromComponents(device, frame.params);
    return withDeviceTime(result, unixSecondsMs(frame.params.ts));
  }

  #pollAnswer(device: DeviceConfig, payload: Buffer): ParseResult {
    const frame = parseJsonObject(payload);
    if (frame instanceof Bad) return frame.toResult();
    // An error answer still proves the device is up and reachable.
    if (isObject(frame.error)) return alive;
    if (!isObject(frame.result)) return invalid('RPC response without result or error');
    return this.#fromComponents(device, frame.result);
  }

  /** NotifyStatus params / GetStatus result: the first meter component present decides. */
  #fromComponents(device: DeviceConfig, components: JsonObject): ParseResult {
    for (const key of METER_COMPONENTS) {
      const component = components[key];
      if (component === undefined) continue;
      if (!isObject(component)) return invalid(`${key} is not an object`);
      return this.#component(device, component, false);
    }
    return alive;
  }

  /**
   * One component status. `full` = a complete status (status topic), where a missing `apower` is an
   * error; in a NotifyStatus delta it only means the power did not change.
   */
  #component(device: DeviceConfig, component: JsonObject, full: boolean): ParseResult {
    const energy = energyTotal(component.aenergy);
    if (energy instanceof Bad) return energy.toResult();
    if (!('apower' in component)) {
      if (full) return invalid('apower missing');
      if (energy === undefined || energy === null) return alive;
      return this.#lastPower.energyOnly(device.device_id, energy, 'aenergy.total');
    }
    const result = readingFrom(
      component.apower,
      energy,
      ['apower', 'aenergy.total'],
      noiseBand(device),
    );
    return this.#lastPower.remember(device.device_id, result);
  }
}

/** `aenergy.total` in Wh; undefined when the frame carries no energy. */
function energyTotal(aenergy: JsonValue | undefined): JsonValue | undefined | Bad {
  if (aenergy === undefined) return undefined;
  if (!isObject(aenergy)) return new Bad('aenergy is not an object');
  return aenergy.total;
}
