/**
 * Building blocks shared by every contract. Each is a TypeBox schema, which *is* JSON Schema, so the
 * same definition gives the static TS type (`Static<>`), the JSON Schema files and the Python validators.
 *
 * Only a small subset of JSON Schema is used on purpose (object, array, string, number, integer,
 * boolean, literal/enum, nullable, discriminated union): the Python emitter supports exactly this subset
 * and throws on anything else, so TS and Python can never silently disagree.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** `T | null`, emitted as `anyOf: [T, {type: 'null'}]`. Null is a legal value, absence is not. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** ISO-8601 instant in UTC, always with `Z` (e.g. `2026-11-25T12:00:00.000Z`). */
export const Timestamp = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$',
  maxLength: 32,
  description: 'ISO-8601 UTC timestamp ending in Z',
});

/** RFC 4122 UUID in lower-case canonical form (v7 preferred so ids sort by time). */
export const Uuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  maxLength: 36,
  description: 'UUID, lower-case canonical form',
});

/** Identifier of a meter as it appears in its MQTT topics (Shelly id, Tasmota topic, ...). */
export const DeviceId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
  maxLength: 64,
  description: 'Device id: letters, digits, _ . : - (1-64 characters)',
});

/**
 * What an MQTT topic name may not hold besides the wildcards: C0 and C1 controls (U+0000-U+001F,
 * U+007F-U+009F, so U+0085 too) and the BMP noncharacters (U+FDD0-U+FDEF, U+FFFE, U+FFFF). MQTT 3.1.1
 * §1.5.3 says they SHOULD NOT appear and a server MAY close the connection: mosquitto 2.0 does exactly
 * that on a SUBSCRIBE holding one, which stopped intake for every device. Lone surrogates are refused
 * by every string check of both validators already. The astral noncharacters (U+1FFFE ...) are not
 * listed: `\u{...}` needs the regex 'u' flag, which plain JSON Schema tools (TypeBox's Value.Check)
 * do not set; a broker that refuses such a topic fails only that device (mqtt/client.ts).
 * Spaces are allowed (Zigbee2MQTT friendly names: `zigbee2mqtt/Office Wall Light Switch`).
 */
const TOPIC_FORBIDDEN = '#+\\u0000-\\u001F\\u007F-\\u009F\\uFDD0-\\uFDEF\\uFFFE\\uFFFF';

/**
 * A device's MQTT topic (prefix): the one rule for topics, in both validators and Odoo's device form
 * (contract `device_topic`). Never a filter: no `+` or `#`.
 */
export const DeviceTopic = Type.String({
  pattern: `^[^${TOPIC_FORBIDDEN}]+$`,
  maxLength: 256,
  description:
    'MQTT topic of the meter, e.g. "shellyplus1pm-a8032ab1": no wildcards (+ #), no control characters',
});

/** Identifier of one worker installation (stable across restarts). */
export const WorkerUid = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
  maxLength: 64,
  description: 'Worker uid: letters, digits, _ . : - (1-64 characters)',
});

/** Power in watts. Bounded so an absurd reading (or a unit mix-up) is a validation error, not data. */
export const PowerW = Type.Number({ minimum: 0, maximum: 1_000_000, description: 'Power in W' });

/** Energy in watt-hours. */
export const EnergyWh = Type.Number({ minimum: 0, maximum: 1e12, description: 'Energy in Wh' });

/** A duration in seconds, never negative; at most ten years. */
export const Seconds = Type.Number({ minimum: 0, maximum: 315_360_000, description: 'Seconds' });

/** Machine states as the worker's device actor knows them; `unknown` before the first message. */
export const DeviceState = Type.Union(
  [
    Type.Literal('idle'),
    Type.Literal('starting'),
    Type.Literal('standby'),
    Type.Literal('working'),
    Type.Literal('stopping'),
    Type.Literal('offline'),
    Type.Literal('unknown'),
  ],
  { description: 'Live state of a machine' },
);
export type DeviceState = Static<typeof DeviceState>;

/** One field-level validation error, identical in TS and Python. `path` is a JSON pointer. */
export const FieldErrorSchema = Type.Object(
  {
    path: Type.String({ maxLength: 1024 }),
    message: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** Short non-empty label (names, client ids). */
export const Label = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, description });
