/**
 * The worker configuration that Odoo pushes (`config.apply`) and the worker persists. Billing is
 * Odoo-only and deliberately absent. Cross-field rules (working > standby, unique ids, unique
 * (topic, channel, phase), generic parser settings) are declared in `../rules.ts`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DeviceId, DeviceTopic, Label, Nullable, PowerW, WorkerUid } from './common.ts';

export const ParserType = Type.Union(
  [
    Type.Literal('shelly_gen2'),
    Type.Literal('shelly_gen1'),
    Type.Literal('tasmota'),
    Type.Literal('generic_json'),
  ],
  { description: 'Payload family of the meter; selects the parser' },
);

export const BrokerTls = Type.Object(
  {
    ca: Type.Optional(Type.String({ maxLength: 65_536, description: 'PEM CA bundle' })),
    cert: Type.Optional(Type.String({ maxLength: 65_536, description: 'PEM client certificate' })),
    key: Type.Optional(Type.String({ maxLength: 65_536, description: 'PEM client private key' })),
    insecure: Type.Optional(
      Type.Boolean({ description: 'Skip server certificate verification (testing only)' }),
    ),
  },
  { additionalProperties: false },
);

export const BrokerConfig = Type.Object(
  {
    url: Nullable(
      Type.String({
        pattern: '^mqtts?://[!-.0-~]+/?$',
        maxLength: 512,
        description: 'mqtt://host:port or mqtts://host:port; null = embedded broker',
      }),
    ),
    username: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    client_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$', maxLength: 128 })),
    keepalive_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
    reconnect_min_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    reconnect_max_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    tls: Type.Optional(BrokerTls),
  },
  { additionalProperties: false },
);

export const SessionConfig = Type.Object(
  {
    standby_threshold_w: PowerW,
    working_threshold_w: PowerW,
    start_debounce_s: Type.Integer({ minimum: 0, maximum: 3600 }),
    stop_debounce_s: Type.Integer({ minimum: 0, maximum: 3600 }),
    message_timeout_s: Type.Integer({ minimum: 5, maximum: 86_400 }),
    heartbeat_interval_s: Type.Integer({ minimum: 5, maximum: 86_400 }),
  },
  { additionalProperties: false },
);

export const GenericJsonSettings = Type.Object(
  {
    field_path: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$',
        maxLength: 256,
        description: 'Dotted path to the power field, e.g. "ENERGY.Power" or "meters.0.power"',
      }),
    ),
    unit: Type.Union([Type.Literal('W'), Type.Literal('kW')]),
    energy_path: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$', maxLength: 256 }),
    ),
    energy_unit: Type.Optional(Type.Union([Type.Literal('Wh'), Type.Literal('kWh')])),
  },
  {
    additionalProperties: false,
    description:
      'Generic meter on one topic. Without field_path the payload is a bare number (Zigbee2MQTT attribute output `zigbee2mqtt/<name>/power`, ESPHome `<node>/sensor/<name>/state`)',
  },
);

export const DeviceConfig = Type.Object(
  {
    device_id: DeviceId,
    name: Label(128, 'Machine name shown to staff'),
    parser_type: ParserType,
    topic: DeviceTopic,
    area: Type.Optional(Type.String({ maxLength: 128 })),
    generic: Type.Optional(GenericJsonSettings),
    channel: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 15,
        description:
          'Channel of a multi-channel meter, 0-based as the device numbers it (Shelly switch:N / pm1:N / em1:N / relay N / emeter N, Tasmota Power array index); default 0',
      }),
    ),
    phase: Type.Optional(
      Type.Union([Type.Literal('total'), Type.Literal('a'), Type.Literal('b'), Type.Literal('c')], {
        description:
          "Three-phase meters (Shelly Pro 3EM em:N, Gen1 3EM): 'total' (default) = the sum of the phases, for a three-phase machine; 'a' / 'b' / 'c' = one phase, for a single-phase machine on it",
      }),
    ),
    tasmota_full_topic: Type.Optional(
      Type.String({
        pattern: `^[^#+\\u0000-\\u001F\\u007F-\\u009F]*(?:%prefix%[^#+\\u0000-\\u001F\\u007F-\\u009F]*%topic%|%topic%[^#+\\u0000-\\u001F\\u007F-\\u009F]*%prefix%)[^#+\\u0000-\\u001F\\u007F-\\u009F]*$`,
        maxLength: 256,
        description:
          "Tasmota FullTopic template when changed on the device (default '%prefix%/%topic%/'); must contain %prefix% and %topic%",
      }),
    ),
    negative_noise_w: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1000,
        description:
          'Meter noise band in W (default 1): a reading in [-band, 0) counts as 0 W; below -band it is a parse error',
      }),
    ),
    recording: Type.Optional(
      Type.Boolean({
        description:
          "Keep this machine's readings in the worker's local recording for calibration (default true; false = off for this machine)",
      }),
    ),
    session_config: SessionConfig,
  },
  { additionalProperties: false },
);

/**
 * A card id as both sides compare it: the reader's text with whitespace, ':' and '-' removed, a
 * leading 0x dropped, upper-cased (PN532 "04 A1 B2 C3" and "04a1b2c3" are the same card). The
 * worker normalizes what a reader sends; Odoo normalizes what an admin types on the member's card.
 */
export const CardId = Type.String({
  pattern: '^[0-9A-Z]{1,64}$',
  maxLength: 64,
  description: 'Normalized card id: 1-64 upper-case letters and digits',
});

/**
 * A badge reader paired with one machine (issue 16): read with the same parsers as meters —
 * Tasmota (`tele/<t>/SENSOR` with `{"PN532":{"UID":"…"}}`, `RDM6300`, `Wiegand`, under the FullTopic)
 * or generic (a JSON field `card_path`, or a bare value when absent: ESPHome, any reader). Each card
 * read becomes one `badge_presented` event of the reader (its own seq), durable like every event.
 */
export const BadgeReaderConfig = Type.Object(
  {
    reader_id: DeviceId,
    name: Label(128, 'Reader name shown to staff'),
    parser_type: Type.Union([Type.Literal('tasmota'), Type.Literal('generic_json')], {
      description: 'Payload family of the reader',
    }),
    topic: DeviceTopic,
    tasmota_full_topic: Type.Optional(
      Type.String({
        maxLength: 256,
        description: "Tasmota FullTopic (default '%prefix%/%topic%/')",
      }),
    ),
    card_path: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$',
        maxLength: 256,
        description: 'Generic: dotted path to the card id in a JSON payload; absent = bare value',
      }),
    ),
    machine_device_id: DeviceId,
  },
  { additionalProperties: false },
);

export const WorkerConfig = Type.Object(
  {
    version: Type.Integer({
      minimum: 0,
      maximum: 9_007_199_254_740_991,
      description: 'Monotonic config version; an older one is rejected',
    }),
    worker_uid: Type.Optional(WorkerUid),
    broker: BrokerConfig,
    close_sessions_on_shutdown: Type.Optional(
      Type.Boolean({ description: 'Close open sessions with reason shutdown on SIGTERM' }),
    ),
    devices: Type.Array(DeviceConfig, { maxItems: 20_000 }),
    badge_readers: Type.Optional(Type.Array(BadgeReaderConfig, { maxItems: 20_000 })),
  },
  { additionalProperties: false },
);

export type ParserType = Static<typeof ParserType>;
export type BrokerConfig = Static<typeof BrokerConfig>;
export type SessionConfig = Static<typeof SessionConfig>;
export type GenericJsonSettings = Static<typeof GenericJsonSettings>;
export type DeviceConfig = Static<typeof DeviceConfig>;
export type WorkerConfig = Static<typeof WorkerConfig>;
export type BadgeReaderConfig = Static<typeof BadgeReaderConfig>;
export type CardId = Static<typeof CardId>;
