/**
 * Shelly Gen1 (Plug S, 1PM, 2.5, ...). `topic` is the device's MQTT id WITHOUT the `shellies/` prefix
 * (e.g. `shellyplug-s-7C87CEB4A1B2`), matching how the device names itself; a topic that already
 * starts with `shellies/` is used as given, so both spellings work.
 *
 *   shellies/<id>/relay/0/power   plain text number, W
 *   shellies/<id>/relay/0/energy  plain text number, WATT-MINUTES since the last reboot (/60 -> Wh).
 *                                 The counter restarts at 0 when the device reboots: consumers must
 *                                 treat a decrease as a reset, not as negative energy.
 *   shellies/<id>/relay/0         "on" / "off" / "overpower": proves liveness only
 *   shellies/<id>/online          "true" / "false" (retained; "false" is the last will)
 *   shellies/<id>/info, .../status  full /status JSON (`meters[0].power` W, `meters[0].total` Wmin)
 *
 * Poll: `update` on `shellies/<id>/command`. Shelly's Gen1 API (Common MQTT commands,
 * https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands): "`update` will cause all Shellies
 * to publish their state" (relay/0, relay/0/power, relay/0/energy above); the same page documents
 * `shellies/<id>/info` with the /status JSON (since v1.8.0). Either answer is a reading here, so the
 * poll is answered whichever the firmware sends. `status_update` is the Gen2 `<prefix>/command`
 * command, not a Gen1 one: a Gen1 device ignores it, so that poll went unanswered.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  alive,
  availability,
  Bad,
  invalid,
  isObject,
  LastPower,
  noiseBand,
  parseBooleanText,
  parseJsonObject,
  parsePlainNumber,
  readingFrom,
} from './common.ts';
import type { ParseResult, Parser, PollRequest } from './types.ts';

const WATT_MINUTES_PER_WH = 60;

export function gen1Base(device: DeviceConfig): string {
  return device.topic.startsWith('shellies/') ? device.topic : `shellies/${device.topic}`;
}

export class ShellyGen1Parser implements Parser {
  readonly #lastPower = new LastPower();

  subscriptions(device: DeviceConfig): string[] {
    const base = gen1Base(device);
    return [
      `${base}/relay/0/power`,
      `${base}/relay/0/energy`,
      `${base}/relay/0`,
      `${base}/online`,
      `${base}/info`,
      `${base}/status`,
    ];
  }

  matches(device: DeviceConfig, topic: string): boolean {
    return this.subscriptions(device).includes(topic);
  }

  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult {
    const base = gen1Base(device);
    const suffix = topic.startsWith(`${base}/`) ? topic.slice(base.length + 1) : '';
    const id = device.device_id;
    switch (suffix) {
      case 'relay/0/power': {
        const power = parsePlainNumber(payload, 'power');
        if (power instanceof Bad) return power.toResult();
        const result = readingFrom(power, undefined, ['power', 'energy'], noiseBand(device));
        return this.#lastPower.remember(id, result);
      }
      case 'relay/0/energy': {
        const wattMinutes = parsePlainNumber(payload, 'energy');
        if (wattMinutes instanceof Bad) return wattMinutes.toResult();
        return this.#lastPower.energyOnly(id, wattMinutes / WATT_MINUTES_PER_WH, 'energy');
      }
      case 'relay/0':
        return relayState(payload);
      case 'online': {
        const online = parseBooleanText(payload, 'online');
        return online instanceof Bad ? online.toResult() : availability(online);
      }
      case 'info':
      case 'status':
        return this.#fullStatus(device, payload);
      default:
        return invalid(`topic ${topic} is not a Shelly Gen1 topic of this device`);
    }
  }

  poll(device: DeviceConfig): PollRequest {
    return { topic: `${gen1Base(device)}/command`, payload: 'update' };
  }

  forget(deviceId: string): void {
    this.#lastPower.forget(deviceId);
  }

  /** The /status JSON (on `info`): channel 0 of `meters`, the same channel as `relay/0/power`. */
  #fullStatus(device: DeviceConfig, payload: Buffer): ParseResult {
    const status = parseJsonObject(payload);
    if (status instanceof Bad) return status.toResult();
    if (status.meters === undefined) return alive;
    if (!Array.isArray(status.meters)) return invalid('meters is not an array');
    const meter = status.meters[0];
    if (meter === undefined) return alive;
    if (!isObject(meter)) return invalid('meters[0] is not an object');
    const total = meter.total;
    const energy =
      total === undefined
        ? undefined
        : typeof total === 'number'
          ? total / WATT_MINUTES_PER_WH
          : total;
    const result = readingFrom(
      meter.power,
      energy,
      ['meters[0].power', 'meters[0].total'],
      noiseBand(device),
    );
    return this.#lastPower.remember(device.device_id, result);
  }
}

function relayState(payload: Buffer): ParseResult {
  const text = payload.length <= 32 ? payload.toString('utf8').trim() : '';
  return text === 'on' || text === 'off' || text === 'overpower'
    ? alive
    : invalid('relay state is not on/off/overpower');
}
