/**
 * Zigbee2MQTT's device list, `zigbee2mqtt/bridge/devices` (retained, republished on every change;
 * https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-bridge-devices):
 * an array of `{"ieee_address","type","friendly_name","definition":{"model","vendor","exposes":[...]}}`.
 *
 * A device is a meter when it exposes a numeric `power` (https://www.zigbee2mqtt.io/guide/usage/exposes.html;
 * `property` is `power_<endpoint>` for a multi-endpoint device: one channel each). Its messages are
 * JSON on `zigbee2mqtt/<friendly_name>`, read by the generic_json parser at that property.
 */
import type { DiscoveredChannel } from '@workshop-iot/shared';
import {
  type AnnounceResult,
  invalid,
  isRecord,
  type Observation,
  observed,
  text,
} from './types.ts';

export const ZIGBEE2MQTT_FILTERS = ['zigbee2mqtt/bridge/devices'] as const;

const PROPERTY = /^[A-Za-z0-9_]+$/;

interface Expose {
  type?: unknown;
  name?: unknown;
  property?: unknown;
  endpoint?: unknown;
  features?: unknown;
}

export function parseZigbee2mqtt(topic: string, payload: Buffer): AnnounceResult {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return invalid('payload is not JSON');
  }
  if (!Array.isArray(doc)) return invalid('bridge/devices is not a JSON array');
  const base = topic.slice(0, -'/bridge/devices'.length);
  const observations: Observation[] = [];
  for (const device of doc) {
    if (!isRecord(device) || device.type === 'Coordinator') continue;
    const ieee = text(device.ieee_address, 64);
    const friendly = text(device.friendly_name, 200);
    const definition = device.definition;
    if (!ieee || !friendly || !isRecord(definition) || !Array.isArray(definition.exposes)) continue;
    // A name a topic cannot hold (a wildcard, a control character) is refused by the store, logged.
    const channels = z2mChannels(flatten(definition.exposes as Expose[]));
    if (channels.length === 0) continue;
    const vendor = text(definition.vendor, 60);
    const model = text(definition.model, 60);
    observations.push({
      family: 'zigbee2mqtt',
      device_key: ieee,
      parser_type: 'generic_json',
      topic: `${base}/${friendly}`,
      model: model ? (vendor ? `${vendor} ${model}` : model) : null,
      name: friendly.slice(0, 128),
      channels,
    });
  }
  return observed(observations);
}

function flatten(exposes: Expose[]): Expose[] {
  const out: Expose[] = [];
  for (const e of exposes) {
    if (!isRecord(e)) continue;
    out.push(e);
    if (Array.isArray(e.features)) out.push(...flatten(e.features as Expose[]));
  }
  return out;
}

function z2mChannels(exposes: Expose[]): DiscoveredChannel[] {
  const numeric = exposes.filter(
    (e) => e.type === 'numeric' && typeof e.property === 'string' && PROPERTY.test(e.property),
  );
  const energyOf = (endpoint: unknown) =>
    numeric.find((e) => e.name === 'energy' && e.endpoint === endpoint)?.property as
      | string
      | undefined;
  return numeric
    .filter((e) => e.name === 'power')
    .slice(0, 16)
    .map((e, channel) => {
      const energyPath = energyOf(e.endpoint);
      return {
        channel,
        component: e.property as string,
        measures: 'power' as const,
        energy: energyPath !== undefined,
        value_path: e.property as string,
        ...(energyPath ? { energy_path: energyPath } : {}),
      };
    });
}
