/**
 * Shelly Gen2/Gen3/Pro (Plus, Pro, Mini Gen3, EM Gen3, Pro EM, Pro 3EM) over MQTT, `topic` = the
 * device's MQTT `topic_prefix` (by default its id, e.g. `shellypro4pm-30c6f78400e8`).
 *
 * A device config reads ONE component of the meter: channel N (`channel`, default 0) of
 *   switch:N   Plus/Pro 1PM, 2PM, 4PM, Mini 1PM: `apower` W, `aenergy.total` Wh
 *   pm1:N      PM Mini Gen3: same fields
 *   em1:N      EM Gen3, Pro EM-50 (one clamp per channel): `act_power` W; energy in em1data:N
 *              `total_act_energy` Wh
 *   em:N       Pro 3EM (three phases in one component): `total_act_power` for phase 'total',
 *              `a_act_power` / `b_act_power` / `c_act_power` for one phase; energy in emdata:N
 *              `total_act` (total) or `a_total_act_energy` ... (one phase), Wh
 * Shelly API docs: https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch (and PM1,
 * EM1, EM1Data, EM, EMData).
 *
 * Topics (all exact, for this channel only):
 *   <topic>/status/<component>:N  the component's full status (MQTT "generic status update")
 *   <topic>/events/rpc     NotifyStatus (a delta: only changed fields) / NotifyFullStatus /
 *                          NotifyEvent frames, carrying EVERY component of the device
 *   <topic>/online         "true" / "false" (retained, "false" is the device's MQTT last will)
 *   <topic>/poll/rpc       answer to our Shelly.GetStatus poll (every component)
 * Frames that carry every component are read ONLY at this device's own component: channel 2's
 * machine never gets channel 0's power. A frame without it (an input event, `sys`, `wifi`, another
 * channel's change) proves the meter is alive and is never a parse error. A FULL status (poll
 * answer, NotifyFullStatus) that has meter components but not this channel's is a configuration
 * error (wrong channel number) and says so.
 *
 * Poll: a JSON-RPC request on `<topic>/rpc` with `src: "<topic>/poll"`. Shelly's MQTT RPC channel
 * publishes the response frame on `<src>/rpc`, so the answer arrives on `<topic>/poll/rpc`: under
 * the device's own prefix and exact, so routing stays one Map lookup.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  alive,
  availability,
  Bad,
  channelOf,
  checkEnergy,
  invalid,
  isObject,
  type JsonObject,
  type JsonValue,
  LastPower,
  noiseBand,
  type Phase,
  parseBooleanText,
  parseJsonObject,
  phaseOf,
  readingFrom,
} from './common.ts';
import { unixSecondsMs, withDeviceTime } from './time.ts';
import type { ParseResult, Parser, PollRequest } from './types.ts';

/**
 * Component kinds that carry a meter, in the order a frame is searched for this channel. `switch`
 * comes last: a Pro EM-50 has an unmetered `switch:0` (its contactor output) next to `em1:0`.
 */
const METER_KINDS = ['em', 'em1', 'pm1', 'switch'] as const;
type MeterKind = (typeof METER_KINDS)[number];
/** Energy components paired with a meter kind that reports no energy itself. */
const ENERGY_KINDS = { em1: 'em1data', em: 'emdata' } as const;

/** Power field of an `em:N` component per phase. */
const EM_POWER: Record<Phase, string> = {
  total: 'total_act_power',
  a: 'a_act_power',
  b: 'b_act_power',
  c: 'c_act_power',
};
/** Energy field of an `emdata:N` component per phase. */
const EMDATA_ENERGY: Record<Phase, string> = {
  total: 'total_act',
  a: 'a_total_act_energy',
  b: 'b_total_act_energy',
  c: 'c_total_act_energy',
};

/**
 * The component keys of one channel, built once per channel number instead of per message: a frame
 * is searched with up to six `<kind>:<n>` keys, and a template string per key and message was a
 * measurable share of the intake (issue 20). `status` maps a status topic's suffix to its kind.
 */
interface ChannelKeys {
  meters: readonly (readonly [MeterKind, string])[];
  energy: Readonly<Record<'emdata' | 'em1data', string>>;
  status: ReadonlyMap<string, StatusKind>;
}
type StatusKind = MeterKind | 'emdata' | 'em1data';
const channelKeys: ChannelKeys[] = [];

function keysOf(n: number): ChannelKeys {
  let keys = channelKeys[n];
  if (keys) return keys;
  const kinds: StatusKind[] = [...METER_KINDS, 'emdata', 'em1data'];
  keys = {
    meters: METER_KINDS.map((kind) => [kind, `${kind}:${n}`] as const),
    energy: { emdata: `emdata:${n}`, em1data: `em1data:${n}` },
    status: new Map(kinds.map((kind) => [`status/${kind}:${n}`, kind])),
  };
  // Channel numbers are small (a Pro 4PM has 0-3); anything else is not worth keeping.
  if (Number.isInteger(n) && n >= 0 && n < 64) channelKeys[n] = keys;
  return keys;
}

export class ShellyGen2Parser implements Parser {
  readonly #lastPower = new LastPower();

  subscriptions(device: DeviceConfig): string[] {
    const t = device.topic;
    const n = channelOf(device);
    return [
      ...METER_KINDS.map((kind) => `${t}/status/${kind}:${n}`),
      `${t}/status/em1data:${n}`,
      `${t}/status/emdata:${n}`,
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
      case 'events/rpc':
        return this.#notification(device, payload);
      case 'poll/rpc':
        return this.#pollAnswer(device, payload);
    }
    const keys = keysOf(channelOf(device));
    const kind = keys.status.get(suffix);
    if (kind === undefined) {
      return invalid(`topic ${topic} is not a Shelly Gen2 topic of this device`);
    }
    const body = parseJsonObject(payload);
    if (body instanceof Bad) return body.toResult();
    // A status topic carries one component, this channel's: read it directly (what
    // #fromComponents would find in a frame holding only it).
    if (kind === 'emdata' || kind === 'em1data') return this.#energyOnly(device, kind, keys, body);
    return this.#meter(device, kind, body, undefined, true);
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

  #notification(device: DeviceConfig, payload: Buffer): ParseResult {
    const frame = parseJsonObject(payload);
    if (frame instanceof Bad) return frame.toResult();
    const method = frame.method;
    if (typeof method !== 'string') return invalid('RPC frame without method');
    // NotifyEvent (input:N single_push, ...) and anything else: the device is alive, no power.
    if (method !== 'NotifyStatus' && method !== 'NotifyFullStatus') return alive;
    if (!isObject(frame.params)) return invalid(`${method} without params object`);
    const scope = method === 'NotifyFullStatus' ? 'full' : 'delta';
    const result = this.#fromComponents(device, frame.params, scope);
    return withDeviceTime(result, unixSecondsMs(frame.params.ts));
  }

  #pollAnswer(device: DeviceConfig, payload: Buffer): ParseResult {
    const frame = parseJsonObject(payload);
    if (frame instanceof Bad) return frame.toResult();
    // An error answer still proves the device is up and reachable.
    if (isObject(frame.error)) return alive;
    if (!isObject(frame.result)) return invalid('RPC response without result or error');
    return this.#fromComponents(device, frame.result, 'full');
  }

  /**
   * This device's component out of a set of components (`status` = one status topic, `delta` =
   * NotifyStatus, `full` = NotifyFullStatus / GetStatus). Only `<kind>:<channel>` is read.
   */
  #fromComponents(
    device: DeviceConfig,
    components: JsonObject,
    scope: 'status' | 'delta' | 'full',
  ): ParseResult {
    const n = channelOf(device);
    const keys = keysOf(n);
    for (const [kind, key] of keys.meters) {
      const component = components[key];
      if (component === undefined) continue;
      if (!isObject(component)) return invalid(`${key} is not an object`);
      const energyKind = kind === 'em' || kind === 'em1' ? ENERGY_KINDS[kind] : undefined;
      const energyComponent = energyKind ? components[keys.energy[energyKind]] : undefined;
      return this.#meter(device, kind, component, energyComponent, scope !== 'delta');
    }
    // Energy-only components (emdata/em1data status topic, or a NotifyStatus of the counters).
    for (const energyKind of ['emdata', 'em1data'] as const) {
      const data = components[keys.energy[energyKind]];
      if (data !== undefined) return this.#energyOnly(device, energyKind, keys, data);
    }
    if (scope === 'full') {
      const others = Object.keys(components).filter((k) => isMeterKey(k));
      if (others.length > 0) {
        return invalid(
          `no meter component for channel ${n} (the device has ${others.join(', ')}): check the channel`,
        );
      }
    }
    return alive;
  }

  /** An emdata / em1data component on its own: energy with the last power (or just alive). */
  #energyOnly(
    device: DeviceConfig,
    kind: 'emdata' | 'em1data',
    keys: ChannelKeys,
    data: JsonValue,
  ): ParseResult {
    const energy = energyOf(kind, data, phaseOf(device));
    if (energy instanceof Bad) return energy.toResult();
    if (energy === undefined) return alive;
    return this.#lastPower.energyOnly(device.device_id, energy, keys.energy[kind]);
  }

  /** One meter component. `full` = a complete status, where a missing power field is an error. */
  #meter(
    device: DeviceConfig,
    kind: MeterKind,
    component: JsonObject,
    energyComponent: JsonValue | undefined,
    full: boolean,
  ): ParseResult {
    const phase = phaseOf(device);
    const powerField = kind === 'em' ? EM_POWER[phase] : kind === 'em1' ? 'act_power' : 'apower';
    let energy: JsonValue | undefined | Bad;
    let energyName: string;
    if (kind === 'em' || kind === 'em1') {
      const energyKind = ENERGY_KINDS[kind];
      energy =
        energyComponent === undefined ? undefined : energyOf(energyKind, energyComponent, phase);
      energyName = `${energyKind}.${kind === 'em' ? EMDATA_ENERGY[phase] : 'total_act_energy'}`;
    } else {
      energy = aenergyTotal(component.aenergy);
      energyName = 'aenergy.total';
    }
    if (energy instanceof Bad) return energy.toResult();
    if (!(powerField in component)) {
      // A Plus 1 / Pro 2 without metering publishes switch:N without apower: alive, nothing to read.
      if (kind === 'switch' && !('aenergy' in component)) return alive;
      if (full) return invalid(`${powerField} missing`);
      if (energy === undefined || energy === null) return alive;
      return this.#lastPower.energyOnly(device.device_id, energy, energyName);
    }
    const result = readingFrom(
      component[powerField],
      energy,
      [powerField, energyName],
      noiseBand(device),
    );
    return this.#lastPower.remember(device.device_id, result);
  }
}

function isMeterKey(key: string): boolean {
  const kind = key.split(':')[0];
  return (METER_KINDS as readonly string[]).includes(kind ?? '');
}

/** `aenergy.total` in Wh; undefined when the frame carries no energy. */
function aenergyTotal(aenergy: JsonValue | undefined): JsonValue | undefined | Bad {
  if (aenergy === undefined) return undefined;
  if (!isObject(aenergy)) return new Bad('aenergy is not an object');
  return aenergy.total;
}

/** The energy total (Wh) of an emdata / em1data component for this phase; undefined when absent. */
function energyOf(
  kind: 'emdata' | 'em1data',
  data: JsonValue,
  phase: Phase,
): JsonValue | undefined | Bad {
  if (!isObject(data)) return new Bad(`${kind} is not an object`);
  const field = kind === 'emdata' ? EMDATA_ENERGY[phase] : 'total_act_energy';
  const value = data[field];
  if (value === undefined) return undefined;
  const checked = checkEnergy(value, `${kind}.${field}`);
  return typeof checked === 'string' ? new Bad(checked) : checked;
}
