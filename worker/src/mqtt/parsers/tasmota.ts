/**
 * Tasmota energy plugs and relays (Sonoff POW, Dual R3, 4CH Pro, Gosund, Athom, ...),
 * `topic` = Tasmota's `%topic%` (e.g. `tasmota_8E4A2F`), FullTopic from `tasmota_full_topic`
 * (default `%prefix%/%topic%/`; %prefix% is `tele`, `stat` or `cmnd`). With the default:
 *
 *   tele/<topic>/SENSOR   every TelePeriod (default 300 s): `ENERGY.Power` W, `ENERGY.Total` kWh
 *   tele/<topic>/STATE    every TelePeriod: liveness only
 *   tele/<topic>/LWT      "Online" / "Offline" (retained; "Offline" is the last will)
 *   stat/<topic>/STATUS8  answer to `cmnd/<topic>/STATUS 8`: `StatusSNS.ENERGY`
 *   stat/<topic>/STATUS10 same content; newer firmware documents Status 10 as the successor of 8
 * (https://tasmota.github.io/docs/MQTT/ for the FullTopic, https://tasmota.github.io/docs/Commands/
 * for Status 8/10).
 *
 * Multi-channel devices (Dual R3, 4CH) publish `Power` (and in recent firmware `Total`, `Today`) as
 * arrays, one element per relay: the configured `channel` picks its element (Power1 = channel 0).
 * They are never added up: the channels are different machines. A single `Total` next to a `Power`
 * array is the whole device's energy, so a channel's reading then carries no energy.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  alive,
  availability,
  Bad,
  channelOf,
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
export const DEFAULT_FULL_TOPIC = '%prefix%/%topic%/';

/**
 * The topic of `prefix` (tele/stat/cmnd) + `suffix` under the device's FullTopic. Tasmota appends a
 * missing trailing `/` to the FullTopic itself, so `%prefix%/%topic%` and `%prefix%/%topic%/` are
 * the same template.
 */
export function tasmotaTopic(
  device: Pick<DeviceConfig, 'topic' | 'tasmota_full_topic'>,
  prefix: 'tele' | 'stat' | 'cmnd',
  suffix: string,
) {
  let full = device.tasmota_full_topic ?? DEFAULT_FULL_TOPIC;
  if (!full.endsWith('/')) full += '/';
  return full.replaceAll('%prefix%', prefix).replaceAll('%topic%', device.topic) + suffix;
}

export class TasmotaParser implements Parser {
  subscriptions(device: DeviceConfig): string[] {
    return [
      tasmotaTopic(device, 'tele', 'SENSOR'),
      tasmotaTopic(device, 'tele', 'STATE'),
      tasmotaTopic(device, 'tele', 'LWT'),
      tasmotaTopic(device, 'stat', 'STATUS8'),
      tasmotaTopic(device, 'stat', 'STATUS10'),
    ];
  }

  matches(device: DeviceConfig, topic: string): boolean {
    return this.subscriptions(device).includes(topic);
  }

  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult {
    if (topic === tasmotaTopic(device, 'tele', 'SENSOR')) {
      return this.#sensor(device, payload, (body) => body);
    }
    if (
      topic === tasmotaTopic(device, 'stat', 'STATUS8') ||
      topic === tasmotaTopic(device, 'stat', 'STATUS10')
    ) {
      return this.#sensor(device, payload, (body) => body.StatusSNS);
    }
    if (topic === tasmotaTopic(device, 'tele', 'LWT')) return lwt(payload);
    if (topic === tasmotaTopic(device, 'tele', 'STATE')) {
      const state = parseJsonObject(payload);
      return state instanceof Bad ? state.toResult() : alive;
    }
    return invalid(`topic ${topic} is not a Tasmota topic of this device`);
  }

  poll(device: DeviceConfig): PollRequest {
    return { topic: tasmotaTopic(device, 'cmnd', 'STATUS'), payload: '8' };
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
    const n = channelOf(device);
    const power = pickChannel(energy.Power, n, 'ENERGY.Power');
    if (power instanceof Bad) return power.toResult();
    let totalKwh: JsonValue | undefined;
    if (energy.Total !== undefined) {
      if (Array.isArray(energy.Total)) {
        const total = pickChannel(energy.Total, n, 'ENERGY.Total');
        if (total instanceof Bad) return total.toResult();
        totalKwh = total;
      } else if (!Array.isArray(energy.Power)) {
        totalKwh = energy.Total;
      }
      // else: one Total for several channels belongs to no single machine: no energy.
    }
    const totalWh = typeof totalKwh === 'number' ? totalKwh * WH_PER_KWH : totalKwh;
    const names: [string, string] = Array.isArray(energy.Power)
      ? [`ENERGY.Power[${n}]`, `ENERGY.Total[${n}]`]
      : ['ENERGY.Power', 'ENERGY.Total'];
    const result = readingFrom(power, totalWh, names, noiseBand(device));
    return withDeviceTime(result, isoWithOffsetMs(sensors.Time));
  }
}

/**
 * The channel's value: element `n` of an array, or the number itself for a single-channel device
 * (channel 0 only: a channel above 0 on a single value is a configuration error).
 */
function pickChannel(value: JsonValue, n: number, what: string): JsonValue | Bad {
  if (!Array.isArray(value)) {
    return n === 0 ? value : new Bad(`${what} is a single value, but channel ${n} is configured`);
  }
  const element = value[n];
  if (element === undefined) {
    return new Bad(`${what} has ${value.length} channel(s), channel ${n} is configured`);
  }
  return element;
}

function lwt(payload: Buffer): ParseResult {
  const text = payloadText(payload);
  if (text instanceof Bad) return text.toResult();
  const trimmed = text.trim();
  if (trimmed === 'Online') return availability(true);
  if (trimmed === 'Offline') return availability(false);
  return invalid('LWT is neither "Online" nor "Offline"');
}
