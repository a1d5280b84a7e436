/**
 * Tasmota energy plugs (Sonoff POW, Gosund, Athom, ...), `topic` = Tasmota's `%topic%`
 * (e.g. `tasmota_8E4A2F`), default FullTopic `%prefix%/%topic%/`.
 *
 *   tele/<topic>/SENSOR   every TelePeriod (default 300 s): `ENERGY.Power` W, `ENERGY.Total` kWh
 *   tele/<topic>/STATE    every TelePeriod: liveness only
 *   tele/<topic>/LWT      "Online" / "Offline" (retained; "Offline" is the last will)
 *   stat/<topic>/STATUS8  answer to `cmnd/<topic>/STATUS 8`: `StatusSNS.ENERGY`
 *   stat/<topic>/STATUS10 same content; newer firmware documents Status 10 as the successor of 8
 *
 * Multi-channel devices publish `Power` (and in recent firmware `Total`) as arrays, one per channel:
 * the device's draw is their sum.
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
  noiseBand,
  parseJsonObject,
  payloadText,
  readingFrom,
} from './common.ts';
import { isoWithOffsetMs, withDeviceTime } from './time.ts';
import type { ParseResult, Parser, PollRequest } from './types.ts';

const WH_PER_KWH = 1000;

export class TasmotaParser implements Parser {
  subscriptions(device: DeviceConfig): string[] {
    const t = device.topic;
    return [
      `tele/${t}/SENSOR`,
      `tele/${t}/STATE`,
      `tele/${t}/LWT`,
      `stat/${t}/STATUS8`,
      `stat/${t}/STATUS10`,
    ];
  }

  matches(device: DeviceConfig, topic: string): boolean {
    return this.subscriptions(device).includes(topic);
  }

  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult {
    const t = device.topic;
    if (topic === `tele/${t}/SENSOR`) return this.#sensor(device, payload, (body) => body);
    if (topic === `stat/${t}/STATUS8` || topic === `stat/${t}/STATUS10`) {
      return this.#sensor(device, payload, (body) => body.StatusSNS);
    }
    if (topic === `tele/${t}/LWT`) return lwt(payload);
    if (topic === `tele/${t}/STATE`) {
      const state = parseJsonObject(payload);
      return state instanceof Bad ? state.toResult() : alive;
    }
    return invalid(`topic ${topic} is not a Tasmota topic of this device`);
  }

  poll(device: DeviceConfig): PollRequest {
    return { topic: `cmnd/${device.topic}/STATUS`, payload: '8' };
  }

  #sensor(
    device: DeviceConfig,
    payload: Buffer,
    pick: (body: JsonObject) => JsonValue | undefined,
  ): ParseResult {
    const body = parseJsonObject(payload);
    if (body instanceof Bad) return body.toResult();
    const sensors = pick(body);
    if (!isObject(sensors)) return invalid('StatusSNS missing');
    // A plug without an energy chip still sends SENSOR (temperature, ...): alive, nothing to read.
    if (sensors.ENERGY === undefined) return alive;
    const energy = sensors.ENERGY;
    if (!isObject(energy)) return invalid('ENERGY is not an object');
    if (energy.Power === undefined) return invalid('ENERGY.Power missing');
    const power = sumChannels(energy.Power);
    const totalKwh = energy.Total === undefined ? undefined : sumChannels(energy.Total);
    const totalWh = typeof totalKwh === 'number' ? totalKwh * WH_PER_KWH : totalKwh;
    const result = readingFrom(power, totalWh, ['ENERGY.Power', 'ENERGY.Total'], noiseBand(device));
    return withDeviceTime(result, isoWithOffsetMs(sensors.Time));
  }
}

/** A number, or the sum of an array of numbers; anything else passes through for the type check. */
function sumChannels(value: JsonValue): JsonValue {
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return null;
  let sum = 0;
  for (const channel of value) {
    if (typeof channel !== 'number') return channel;
    sum += channel;
  }
  return sum;
}

function lwt(payload: Buffer): ParseResult {
  const text = payloadText(payload);
  if (text instanceof Bad) return text.toResult();
  const trimmed = text.trim();
  if (trimmed === 'Online') return availability(true);
  if (trimmed === 'Offline') return availability(false);
  return invalid('LWT is neither "Online" nor "Offline"');
}
