/**
 * Tasmota's own discovery (on by default since 9.x, `SetOption19 0`), retained per device
 * (https://tasmota.github.io/docs/Home-Assistant/, topics read by Home Assistant's Tasmota
 * integration, hatasmota):
 *
 *   tasmota/discovery/<MAC>/config    `{"mac","md" (module),"dn" (device name),"t" (%topic%),
 *                                      "ft" (FullTopic),"tp" (prefixes),"rl" (relays),...}`
 *   tasmota/discovery/<MAC>/sensors   `{"sn": {"ENERGY": {"Power": 12 | [114, 25], "Total", ...}}}`
 *
 * The channels are the entries of `ENERGY.Power` (a number: one channel; an array: one per entry,
 * as a Sonoff Dual R3 reports its two relays); without an ENERGY sensor the device is no meter.
 */
import type { DiscoveredChannel } from '@workshop-iot/shared';
import {
  type AnnounceResult,
  IGNORED,
  invalid,
  isRecord,
  jsonObject,
  type Observation,
  observed,
  text,
} from './types.ts';

export const TASMOTA_FILTERS = [
  'tasmota/discovery/+/config',
  'tasmota/discovery/+/sensors',
] as const;

const DEFAULT_FULL_TOPIC = '%prefix%/%topic%/';
const MAC = /^[0-9A-Fa-f]{12}$/;

export function parseTasmota(topic: string, payload: Buffer): AnnounceResult {
  const [, , mac, kind] = topic.split('/');
  if (!mac || !MAC.test(mac)) return invalid(`'${mac}' in the topic is not a MAC address`);
  const doc = jsonObject(payload);
  if (typeof doc === 'string') return invalid(doc);
  return kind === 'config'
    ? fromConfig(mac.toUpperCase(), doc)
    : fromSensors(mac.toUpperCase(), doc);
}

function fromConfig(mac: string, doc: Record<string, unknown>): AnnounceResult {
  const t = text(doc.t, 256);
  if (!t) return invalid('config without "t" (the device topic)');
  const ft = text(doc.ft, 256);
  // Our parser fills %prefix% and %topic%; a FullTopic without both cannot be followed.
  const customFullTopic =
    ft && ft !== DEFAULT_FULL_TOPIC && ft.includes('%prefix%') && ft.includes('%topic%')
      ? ft
      : null;
  const obs: Observation = {
    family: 'tasmota',
    device_key: mac,
    parser_type: 'tasmota',
    topic: t,
    model: text(doc.md),
    name: text(doc.dn),
    tasmota_full_topic: customFullTopic,
  };
  return observed([obs]);
}

function fromSensors(mac: string, doc: Record<string, unknown>): AnnounceResult {
  if (!isRecord(doc.sn)) return invalid('sensors without "sn"');
  const energy = doc.sn.ENERGY;
  if (!isRecord(energy)) return IGNORED; // temperature sensors, switches: not a meter
  const power = energy.Power;
  const hasTotal = energy.Total !== undefined;
  let channels: DiscoveredChannel[];
  if (typeof power === 'number')
    channels = [{ channel: 0, component: 'ENERGY.Power', measures: 'power', energy: hasTotal }];
  else if (Array.isArray(power) && power.length > 0 && power.every((p) => typeof p === 'number'))
    channels = power.slice(0, 16).map((_, channel) => ({
      channel,
      component: `ENERGY.Power[${channel}]`,
      measures: 'power' as const,
      energy: hasTotal,
    }));
  else return invalid('ENERGY.Power is neither a number nor an array of numbers');
  return observed([{ family: 'tasmota', device_key: mac, parser_type: 'tasmota', channels }]);
}
