/**
 * Shelly Gen1 announcements: `shellies/announce`, published by every Gen1 device when it connects and
 * when asked with `announce` on `shellies/command` (Shelly's Gen1 API, "Common MQTT commands",
 * https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands):
 * `{"id","model","mac","ip","new_fw","fw_ver"}` (+ `"mode"` on a Shelly 2.5).
 *
 * The announcement names the model, not the channels, so the channels come from this table of the
 * metering Gen1 models (Shelly's Gen1 device pages: relay/N/power, emeter/N/power).
 */
import type { DiscoveredChannel } from '@workshop-iot/shared';
import { type AnnounceResult, IGNORED, invalid, jsonObject, observed, text } from './types.ts';

export const SHELLY_GEN1_FILTERS = ['shellies/announce'] as const;
/** Asks every Gen1 device on the broker to announce itself (published once per connection). */
export const SHELLY_GEN1_ANNOUNCE_REQUEST = { topic: 'shellies/command', payload: 'announce' };

type Layout = { kind: 'relay' | 'emeter'; count: number } | { kind: 'three_phase' };

const GEN1_METERS: Record<string, { name: string; layout: Layout }> = {
  'SHSW-PM': { name: 'Shelly 1PM', layout: { kind: 'relay', count: 1 } },
  'SHSW-L': { name: 'Shelly 1L', layout: { kind: 'relay', count: 1 } },
  'SHSW-25': { name: 'Shelly 2.5', layout: { kind: 'relay', count: 2 } },
  'SHSW-44': { name: 'Shelly 4Pro', layout: { kind: 'relay', count: 4 } },
  'SHPLG-S': { name: 'Shelly Plug S', layout: { kind: 'relay', count: 1 } },
  'SHPLG-1': { name: 'Shelly Plug', layout: { kind: 'relay', count: 1 } },
  'SHPLG2-1': { name: 'Shelly Plug', layout: { kind: 'relay', count: 1 } },
  'SHPLG-U1': { name: 'Shelly Plug US', layout: { kind: 'relay', count: 1 } },
  SHEM: { name: 'Shelly EM', layout: { kind: 'emeter', count: 2 } },
  'SHEM-3': { name: 'Shelly 3EM', layout: { kind: 'three_phase' } },
};

export function parseShellyGen1(_topic: string, payload: Buffer): AnnounceResult {
  const doc = jsonObject(payload);
  if (typeof doc === 'string') return invalid(doc);
  const id = text(doc.id);
  const model = text(doc.model, 64);
  if (!id) return invalid('announce without id');
  if (!model) return invalid('announce without model');
  const known = GEN1_METERS[model];
  // A Gen2+ script may republish its GetDeviceInfo here (it has "gen"); a Gen1 without a meter
  // (Shelly 1, i3, H&T, ...) is not a machine meter: neither is an announcement of one.
  if (!known || typeof doc.gen === 'number') return IGNORED;
  // A Shelly 2.5 in roller mode meters the roller, not two relays.
  if (doc.mode === 'roller') return IGNORED;
  return observed([
    {
      family: 'shelly_gen1',
      device_key: id,
      parser_type: 'shelly_gen1',
      // The parser takes the id without `shellies/`, or a value starting with `shellies/` as is:
      // an id that itself starts with `shellies/` (seen on a 3EM) is under `shellies/<id>`.
      topic: id.startsWith('shellies/') ? `shellies/${id}` : id,
      model: `${known.name} (${model})`,
      name: null,
      channels: gen1Channels(known.layout),
    },
  ]);
}

function gen1Channels(layout: Layout): DiscoveredChannel[] {
  if (layout.kind === 'three_phase')
    return [{ channel: 0, component: 'emeter/0-2', measures: 'three_phase', energy: true }];
  return Array.from({ length: layout.count }, (_, channel) => ({
    channel,
    component: `${layout.kind}/${channel}`,
    measures: 'power' as const,
    energy: true,
  }));
}
