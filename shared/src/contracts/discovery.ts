/**
 * `discovery.report` (worker -> Odoo): meters the worker heard announcing themselves on its broker
 * (Shelly Gen2+/Gen1, Tasmota, Zigbee2MQTT). Each one carries what a machine needs to be created from
 * it: the parser, the topic (and Tasmota FullTopic) and, per channel, what the channel measures.
 * Odoo upserts them per (worker, family, device_key) and answers which of them an administrator
 * ignored, so the worker stops reporting those.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DeviceTopic, Nullable, WorkerUid } from './common.ts';
import { ParserType } from './worker-config.ts';

export const DiscoveryFamily = Type.Union(
  [
    Type.Literal('shelly_gen2'),
    Type.Literal('shelly_gen1'),
    Type.Literal('tasmota'),
    Type.Literal('zigbee2mqtt'),
  ],
  { description: 'How the meter announced itself' },
);

/** A stable key of the meter within its family: Shelly device id, Tasmota MAC, Zigbee IEEE address. */
export const DiscoveryKey = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$',
  maxLength: 128,
  description: 'Stable key of the meter within its family (Shelly id, Tasmota MAC, IEEE address)',
});

const FieldPath = Type.String({ pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$', maxLength: 256 });

export const DiscoveredChannel = Type.Object(
  {
    channel: Type.Integer({
      minimum: 0,
      maximum: 15,
      description:
        'Channel as DeviceConfig.channel numbers it (switch:N, em1:N, relay N, Power[N])',
    }),
    component: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        'The component on the device, e.g. "switch:2", "em:0", "emeter/1", "ENERGY.Power[1]"',
    }),
    measures: Type.Union(
      [Type.Literal('power'), Type.Literal('three_phase'), Type.Literal('energy')],
      {
        description:
          "'power' one channel's power; 'three_phase' a three-phase meter (phases a, b, c and their sum); 'energy' an energy counter only",
      },
    ),
    energy: Type.Boolean({ description: 'The channel also reports an energy counter' }),
    /** generic_json meters (Zigbee2MQTT): where power and energy are in the payload. */
    value_path: Type.Optional(FieldPath),
    energy_path: Type.Optional(FieldPath),
  },
  { additionalProperties: false },
);

export const DiscoveredMeter = Type.Object(
  {
    family: DiscoveryFamily,
    device_key: DiscoveryKey,
    model: Nullable(Type.String({ maxLength: 128 })),
    name: Nullable(Type.String({ maxLength: 128 })),
    parser_type: ParserType,
    topic: DeviceTopic,
    tasmota_full_topic: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: "Tasmota FullTopic when not '%prefix%/%topic%/'",
      }),
    ),
    channels: Type.Array(DiscoveredChannel, { minItems: 1, maxItems: 16 }),
  },
  { additionalProperties: false },
);

export const DiscoveryReportParams = Type.Object(
  {
    worker_uid: WorkerUid,
    meters: Type.Array(DiscoveredMeter, { minItems: 1, maxItems: 200 }),
  },
  { additionalProperties: false },
);

export const DiscoveryIgnored = Type.Object(
  { family: DiscoveryFamily, device_key: DiscoveryKey },
  { additionalProperties: false },
);

export const DiscoveryReportResult = Type.Object(
  {
    ok: Type.Literal(true),
    /** Meters of this report an administrator ignored: the worker stops reporting them. */
    ignored: Type.Array(DiscoveryIgnored, { maxItems: 200 }),
  },
  { additionalProperties: false },
);

export type DiscoveryFamily = Static<typeof DiscoveryFamily>;
export type DiscoveredChannel = Static<typeof DiscoveredChannel>;
export type DiscoveredMeter = Static<typeof DiscoveredMeter>;
export type DiscoveryReportParams = Static<typeof DiscoveryReportParams>;
export type DiscoveryIgnored = Static<typeof DiscoveryIgnored>;
export type DiscoveryReportResult = Static<typeof DiscoveryReportResult>;
