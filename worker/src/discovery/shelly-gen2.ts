/**
 * Shelly Gen2+ (Plus, Pro, Gen3, Gen4) announcements, under the device's MQTT topic prefix `<p>`
 * (default: the device id; one topic level, as the stack's ACL allows):
 *
 *   <p>/online          `true` when the device connects (retained): the worker then asks it for
 *                       `Shelly.GetDeviceInfo` (model) and `Shelly.GetStatus` (components)
 *   <p>/events/rpc      `NotifyFullStatus` (sent on connect when "generic status update" is on):
 *                       every component's status; other notifications are not announcements
 *   <p>/discovery/rpc   the answers: Shelly's MQTT RPC channel publishes a response on `<src>/rpc`
 *                       (https://shelly-api-docs.shelly.cloud/gen2/General/RPCChannels/#mqtt), and
 *                       the worker sends `src: "<p>/discovery"`; separate from the meters' `<p>/poll`
 *                       so an answer never reaches a configured machine's parser as a reading
 *
 * Metering components (https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/):
 * `switch:N` with `apower` (1PM, 2PM, Pro 4PM), `pm1:N` (PM Mini), `em1:N` (EM Gen3, Pro EM-50:
 * one clamp each), `em:N` (Pro 3EM three-phase: `total_act_power`, `a/b/c_act_power`); energy comes
 * with `aenergy` or an `emdata:N` / `em1data:N` component.
 */
import type { DiscoveredChannel } from '@workshop-iot/shared';
import {
  type AnnounceResult,
  type DiscoveryRequest,
  IGNORED,
  invalid,
  isRecord,
  jsonObject,
  type Observation,
  observed,
  text,
} from './types.ts';

export const SHELLY_GEN2_FILTERS = ['+/online', '+/events/rpc', '+/discovery/rpc'] as const;

const COMPONENT = /^(switch|pm1|em1|em|emdata|em1data):(\d{1,2})$/;

/** The two requests that tell what an announced Gen2+ device is. */
export function shellyGen2Requests(prefix: string): DiscoveryRequest[] {
  const src = `${prefix}/discovery`;
  return [
    {
      topic: `${prefix}/rpc`,
      payload: JSON.stringify({ id: 1, src, method: 'Shelly.GetDeviceInfo' }),
      key: prefix,
    },
    {
      topic: `${prefix}/rpc`,
      payload: JSON.stringify({ id: 2, src, method: 'Shelly.GetStatus' }),
      key: prefix,
    },
  ];
}

export function parseShellyGen2(topic: string, payload: Buffer): AnnounceResult {
  if (topic.endsWith('/online')) {
    const prefix = topic.slice(0, -'/online'.length);
    const value = payload.toString('utf8').trim();
    if (value === 'false') return IGNORED;
    if (value !== 'true')
      return invalid(`online payload '${value.slice(0, 32)}' is not true/false`);
    return observed([], shellyGen2Requests(prefix));
  }
  if (topic.endsWith('/events/rpc'))
    return fromNotification(topic.slice(0, -'/events/rpc'.length), payload);
  if (topic.endsWith('/discovery/rpc'))
    return fromAnswer(topic.slice(0, -'/discovery/rpc'.length), payload);
  return IGNORED;
}

function fromNotification(prefix: string, payload: Buffer): AnnounceResult {
  // Configured meters send NotifyStatus on every change: skip those without parsing them twice.
  if (!payload.includes('"NotifyFullStatus"')) return IGNORED;
  const frame = jsonObject(payload);
  if (typeof frame === 'string') return invalid(frame);
  if (frame.method !== 'NotifyFullStatus') return IGNORED; // NotifyStatus / NotifyEvent: deltas
  const src = text(frame.src);
  if (!src) return invalid('NotifyFullStatus without src (the device id)');
  if (!isRecord(frame.params)) return invalid('NotifyFullStatus without params');
  const obs: Observation = {
    family: 'shelly_gen2',
    device_key: src,
    parser_type: 'shelly_gen2',
    topic: prefix,
    channels: shellyGen2Channels(frame.params),
  };
  // The full status has no model: ask for it (rate limited per device by the caller).
  return observed([obs], shellyGen2Requests(prefix).slice(0, 1));
}

function fromAnswer(prefix: string, payload: Buffer): AnnounceResult {
  const frame = jsonObject(payload);
  if (typeof frame === 'string') return invalid(frame);
  if (isRecord(frame.error))
    return invalid(
      `the device answered an error: ${String(frame.error.message ?? frame.error.code)}`,
    );
  const result = frame.result;
  if (!isRecord(result)) return invalid('answer without result');
  const src = text(frame.src);
  if (typeof result.model === 'string') {
    // Shelly.GetDeviceInfo: {"id", "mac", "model", "gen", "app", "name", ...}
    const key = text(result.id) ?? src;
    if (!key) return invalid('GetDeviceInfo answer without id');
    const app = text(result.app);
    const model = app ? `${app} (${result.model})` : result.model;
    return observed([
      {
        family: 'shelly_gen2',
        device_key: key,
        parser_type: 'shelly_gen2',
        topic: prefix,
        model: model.slice(0, 128),
        name: text(result.name),
      },
    ]);
  }
  if (!src) return invalid('GetStatus answer without src (the device id)');
  return observed([
    {
      family: 'shelly_gen2',
      device_key: src,
      parser_type: 'shelly_gen2',
      topic: prefix,
      channels: shellyGen2Channels(result),
    },
  ]);
}

/** The metering channels of a Gen2+ status object (GetStatus result or NotifyFullStatus params). */
export function shellyGen2Channels(status: Record<string, unknown>): DiscoveredChannel[] {
  const energy = new Set<string>();
  for (const key of Object.keys(status)) {
    const m = COMPONENT.exec(key);
    if (m && (m[1] === 'emdata' || m[1] === 'em1data'))
      energy.add(`${m[1] === 'emdata' ? 'em' : 'em1'}:${m[2]}`);
  }
  const channels: DiscoveredChannel[] = [];
  for (const [key, value] of Object.entries(status)) {
    const m = COMPONENT.exec(key);
    if (!m || !isRecord(value)) continue;
    const [, type, n] = m;
    const channel = Number(n);
    if (channel > 15) continue;
    if ((type === 'switch' || type === 'pm1') && typeof value.apower === 'number')
      channels.push({
        channel,
        component: key,
        measures: 'power',
        energy: isRecord(value.aenergy),
      });
    else if (type === 'em1' && typeof value.act_power === 'number')
      channels.push({ channel, component: key, measures: 'power', energy: energy.has(key) });
    else if (
      type === 'em' &&
      (typeof value.total_act_power === 'number' || typeof value.a_act_power === 'number')
    )
      channels.push({ channel, component: key, measures: 'three_phase', energy: energy.has(key) });
  }
  return channels.sort((a, b) => a.channel - b.channel || a.component.localeCompare(b.component));
}
