/**
 * Shelly Gen1 (Plug S, 1PM, 2.5, EM, 3EM, ...). `topic` is the device's MQTT id WITHOUT the
 * `shellies/` prefix (e.g. `shellyem3-485519D6FEC7`), matching how the device names itself; a topic
 * that already starts with `shellies/` is used as given, so both spellings work.
 *
 * Relay meters, channel N (`channel`, default 0; Shelly 2.5: 0-1):
 *   shellies/<id>/relay/N/power   plain text number, W
 *   shellies/<id>/relay/N/energy  plain text number, WATT-MINUTES since the last reboot (/60 -> Wh).
 *                                 The counter restarts at 0 when the device reboots: consumers must
 *                                 treat a decrease as a reset, not as negative energy.
 *   shellies/<id>/relay/N         "on" / "off" / "overpower": proves liveness only
 * Energy meters (EM: clamps 0-1; 3EM: phases 0-2 = A/B/C):
 *   shellies/<id>/emeter/N/power  plain text number, W
 *   shellies/<id>/emeter/N/total  plain text number, Wh (not watt-minutes)
 * Both:
 *   shellies/<id>/online          "true" / "false" (retained; "false" is the last will)
 *   shellies/<id>/info, .../status  full /status JSON (`meters[N].power` W + `.total` Wmin;
 *                                 `emeters[N].power` W + `.total` Wh; 3EM `total_power`)
 *
 * Which emeter is read: phase 'a'/'b'/'c' reads emeter/0/1/2 (a single-phase machine on one phase of
 * a 3EM); channel N > 0 reads emeter/N (EM clamp N). Channel 0 with phase 'total' (the defaults) is
 * either an EM's first clamp or a 3EM's three-phase sum: the device tells which. It is a 3EM once it
 * publishes emeter/2 or a /status with three `emeters`; it is a one- or two-clamp EM once a new burst
 * starts (emeter/0 again) without emeter/2 in the previous one. Until then nothing is read from the
 * emeter topics (a 3EM is never billed phase A alone); an EM's first reading therefore waits one
 * update period after a (re)start. The 3EM sum pairs the phases with `PhaseRound` (phase-round.ts).
 *
 * Poll: `update` on `shellies/<id>/command`. Shelly's Gen1 API (Common MQTT commands,
 * https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands): "`update` will cause all Shellies
 * to publish their state" (the topics above); the same page documents `shellies/<id>/info` with the
 * /status JSON (since v1.8.0). Either answer is a reading here, so the poll is answered whichever the
 * firmware sends. `status_update` is the Gen2 `<prefix>/command` command, not a Gen1 one.
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
  LastPower,
  noiseBand,
  PerDevice,
  parseBooleanText,
  parseJsonObject,
  parsePlainNumber,
  phaseOf,
  readingFrom,
} from './common.ts';
import { PhaseRound } from './phase-round.ts';
import type { ParseResult, Parser, PollRequest } from './types.ts';

const WATT_MINUTES_PER_WH = 60;
const PHASE_INDEX = { a: 0, b: 1, c: 2 } as const;

export function gen1Base(device: DeviceConfig): string {
  return device.topic.startsWith('shellies/') ? device.topic : `shellies/${device.topic}`;
}

/**
 * What the emeter topics mean for this device: one emeter index read alone, or channel 0 + phase
 * total, where the device decides between an EM's first clamp and a 3EM's sum.
 */
type EmeterRead = { kind: 'one'; index: number } | { kind: 'auto' };

function emeterRead(device: DeviceConfig): EmeterRead {
  const phase = phaseOf(device);
  if (phase !== 'total') return { kind: 'one', index: PHASE_INDEX[phase] };
  const n = channelOf(device);
  return n === 0 ? { kind: 'auto' } : { kind: 'one', index: n };
}

/** Per device: is it a three-phase meter (undefined = not known yet), and the phase rounds. */
interface EmeterState {
  threePhase: boolean | undefined;
  power: PhaseRound;
  total: PhaseRound;
}

export class ShellyGen1Parser implements Parser {
  readonly #lastPower = new LastPower();
  readonly #emeters = new PerDevice<EmeterState>(() => ({
    threePhase: undefined,
    power: new PhaseRound(),
    total: new PhaseRound(),
  }));

  subscriptions(device: DeviceConfig): string[] {
    const base = gen1Base(device);
    const n = channelOf(device);
    const read = emeterRead(device);
    const emeters = read.kind === 'auto' ? [0, 1, 2] : [read.index];
    return [
      `${base}/relay/${n}/power`,
      `${base}/relay/${n}/energy`,
      `${base}/relay/${n}`,
      ...emeters.flatMap((i) => [`${base}/emeter/${i}/power`, `${base}/emeter/${i}/total`]),
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
    const n = channelOf(device);
    switch (suffix) {
      case `relay/${n}/power`: {
        const power = parsePlainNumber(payload, 'power');
        if (power instanceof Bad) return power.toResult();
        const result = readingFrom(power, undefined, ['power', 'energy'], noiseBand(device));
        return this.#lastPower.remember(id, result);
      }
      case `relay/${n}/energy`: {
        const wattMinutes = parsePlainNumber(payload, 'energy');
        if (wattMinutes instanceof Bad) return wattMinutes.toResult();
        return this.#lastPower.energyOnly(id, wattMinutes / WATT_MINUTES_PER_WH, 'energy');
      }
      case `relay/${n}`:
        return relayState(payload);
      case 'online': {
        const online = parseBooleanText(payload, 'online');
        return online instanceof Bad ? online.toResult() : availability(online);
      }
      case 'info':
      case 'status':
        return this.#fullStatus(device, payload);
    }
    const emeter = /^emeter\/([0-2])\/(power|total)$/.exec(suffix);
    if (emeter && this.matches(device, topic)) {
      const value = parsePlainNumber(payload, `emeter/${emeter[1]}/${emeter[2]}`);
      if (value instanceof Bad) return value.toResult();
      const index = Number(emeter[1]);
      return emeter[2] === 'power'
        ? this.#emeterPower(device, index, value)
        : this.#emeterTotal(device, index, value);
    }
    return invalid(`topic ${topic} is not a Shelly Gen1 topic of this device`);
  }

  poll(device: DeviceConfig): PollRequest {
    return { topic: `${gen1Base(device)}/command`, payload: 'update' };
  }

  forget(deviceId: string): void {
    this.#lastPower.forget(deviceId);
    this.#emeters.forget(deviceId);
  }

  #emeterPower(device: DeviceConfig, index: number, power: number): ParseResult {
    const id = device.device_id;
    const read = emeterRead(device);
    const noise = noiseBand(device);
    if (read.kind === 'one') {
      return this.#lastPower.remember(
        id,
        readingFrom(power, undefined, ['power', 'energy'], noise),
      );
    }
    const state = this.#emeters.get(id);
    if (index === 2) state.threePhase = true;
    if (state.threePhase === undefined && index === 0 && state.power.has(0)) {
      // A new burst began and the previous one had no phase C: a one- or two-clamp EM.
      state.threePhase = false;
    }
    if (state.threePhase === false) {
      if (index !== 0) return alive;
      return this.#lastPower.remember(
        id,
        readingFrom(power, undefined, ['power', 'energy'], noise),
      );
    }
    const sum = state.power.add(index, power);
    if (sum === undefined || state.threePhase !== true) return alive;
    const result = readingFrom(sum, undefined, ['emeter/0..2/power (sum)', 'energy'], noise);
    return this.#lastPower.remember(id, result);
  }

  #emeterTotal(device: DeviceConfig, index: number, totalWh: number): ParseResult {
    const id = device.device_id;
    const read = emeterRead(device);
    if (read.kind === 'one')
      return this.#lastPower.energyOnly(id, totalWh, `emeter/${index}/total`);
    const state = this.#emeters.get(id);
    if (state.threePhase === false) {
      return index === 0 ? this.#lastPower.energyOnly(id, totalWh, 'emeter/0/total') : alive;
    }
    const sum = state.total.add(index, totalWh);
    if (sum === undefined || state.threePhase !== true) return alive;
    return this.#lastPower.energyOnly(id, sum, 'emeter/0..2/total (sum)');
  }

  /** The /status JSON (on `info`): this device's relay meter or emeter(s). */
  #fullStatus(device: DeviceConfig, payload: Buffer): ParseResult {
    const status = parseJsonObject(payload);
    if (status instanceof Bad) return status.toResult();
    const noise = noiseBand(device);
    if (status.emeters !== undefined) return this.#emetersStatus(device, status, noise);
    if (status.meters === undefined) return alive;
    if (!Array.isArray(status.meters)) return invalid('meters is not an array');
    const n = channelOf(device);
    const meter = status.meters[n];
    if (meter === undefined) {
      return status.meters.length > 0
        ? invalid(`meters has ${status.meters.length} channel(s), channel ${n} is configured`)
        : alive;
    }
    if (!isObject(meter)) return invalid(`meters[${n}] is not an object`);
    const total = meter.total;
    const energy = typeof total === 'number' ? total / WATT_MINUTES_PER_WH : total;
    const result = readingFrom(
      meter.power,
      energy,
      [`meters[${n}].power`, `meters[${n}].total`],
      noise,
    );
    return this.#lastPower.remember(device.device_id, result);
  }

  #emetersStatus(device: DeviceConfig, status: JsonObject, noise: number): ParseResult {
    const emeters = status.emeters;
    if (!Array.isArray(emeters)) return invalid('emeters is not an array');
    const read = emeterRead(device);
    const id = device.device_id;
    if (read.kind === 'auto') {
      const state = this.#emeters.get(id);
      state.threePhase = emeters.length >= 3;
      if (state.threePhase) {
        const phases = emeters.slice(0, 3);
        if (!phases.every(isObject)) return invalid('emeters[0..2] are not objects');
        // A non-number phase is passed on as is, so readingFrom names it as the error.
        const power = sumOrFirstBad(phases.map((e) => e.power));
        const total = sumOrFirstBad(phases.map((e) => e.total));
        const names: [string, string] = ['emeters[0..2].power (sum)', 'emeters[0..2].total (sum)'];
        return this.#lastPower.remember(id, readingFrom(power, total, names, noise));
      }
    }
    const index = read.kind === 'one' ? read.index : 0;
    const emeter = emeters[index];
    if (emeter === undefined) {
      return invalid(`emeters has ${emeters.length} channel(s), emeter ${index} is configured`);
    }
    if (!isObject(emeter)) return invalid(`emeters[${index}] is not an object`);
    const names: [string, string] = [`emeters[${index}].power`, `emeters[${index}].total`];
    return this.#lastPower.remember(id, readingFrom(emeter.power, emeter.total, names, noise));
  }
}

/** The sum of numbers; the first non-number (or undefined) instead, for the caller's type check. */
function sumOrFirstBad(values: (JsonValue | undefined)[]): JsonValue | undefined {
  let sum = 0;
  for (const v of values) {
    if (typeof v !== 'number') return v;
    sum += v;
  }
  return sum;
}

function relayState(payload: Buffer): ParseResult {
  const text = payload.length <= 32 ? payload.toString('utf8').trim() : '';
  return text === 'on' || text === 'off' || text === 'overpower'
    ? alive
    : invalid('relay state is not on/off/overpower');
}
