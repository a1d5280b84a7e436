/**
 * Events the worker produces and Odoo ingests. Every event has the same envelope; `type` selects the
 * payload shape (a discriminated union: validators pick the member by `type` and report errors at
 * `/type` when it is unknown, so error paths stay deterministic).
 */
import { type Static, type TObject, type TProperties, Type } from '@sinclair/typebox';
import {
  DeviceId,
  DeviceState,
  EnergyWh,
  Nullable,
  PowerW,
  Seconds,
  Timestamp,
  Uuid,
  WorkerUid,
} from './common.ts';
import { CardId } from './worker-config.ts';

export const StopReason = Type.Union([
  Type.Literal('power_off'),
  Type.Literal('timeout'),
  Type.Literal('removed'),
  Type.Literal('shutdown'),
]);

export const OfflineReason = Type.Union([
  Type.Literal('device_reported'),
  Type.Literal('poll_unanswered'),
  Type.Literal('silence'),
]);

/**
 * The meter's last message as the worker knew it when it built the event (null: none yet), on every
 * event: "last seen" in Odoo is this time, never the event's own (a heartbeat of a silent meter is
 * not a sign of life). Optional on all but `device_offline`, so events of older workers stay valid;
 * Odoo then falls back to the payload times that are meter messages.
 */
const MeterLastSeen = Type.Optional(Nullable(Timestamp));

export const SessionStartedPayload = Type.Object(
  {
    session_id: Uuid,
    started_at: Timestamp,
    state: Type.Union([Type.Literal('standby'), Type.Literal('working')]),
    power_w: PowerW,
    last_seen_at: MeterLastSeen,
  },
  { additionalProperties: false },
);

export const SessionHeartbeatPayload = Type.Object(
  {
    session_id: Uuid,
    started_at: Timestamp,
    interval_start: Timestamp,
    interval_end: Timestamp,
    interval_working_s: Seconds,
    interval_standby_s: Seconds,
    working_s: Seconds,
    standby_s: Seconds,
    total_s: Seconds,
    state: Type.Union([Type.Literal('standby'), Type.Literal('working'), Type.Literal('stopping')]),
    power_w: PowerW,
    interval_energy_wh: Nullable(EnergyWh),
    energy_wh: Nullable(EnergyWh),
    last_seen_at: MeterLastSeen,
  },
  { additionalProperties: false },
);

export const SessionStoppedPayload = Type.Object(
  {
    session_id: Uuid,
    started_at: Timestamp,
    ended_at: Timestamp,
    reason: StopReason,
    working_s: Seconds,
    standby_s: Seconds,
    total_s: Seconds,
    energy_wh: Nullable(EnergyWh),
    last_seen_at: MeterLastSeen,
  },
  { additionalProperties: false },
);

export const DeviceOnlinePayload = Type.Object(
  {
    state: DeviceState,
    power_w: Nullable(PowerW),
    last_seen_at: MeterLastSeen,
  },
  { additionalProperties: false },
);

export const DeviceOfflinePayload = Type.Object(
  {
    reason: OfflineReason,
    last_seen_at: Nullable(Timestamp),
  },
  { additionalProperties: false },
);

/**
 * A card presented at a badge reader (issue 16). The envelope's `device_id` is the READER's id (the
 * reader has its own seq); the machine it is paired with travels in the payload, as configured when
 * the card was read. `occurred_at` is when the reader's message arrived (the card's time).
 */
export const BadgePresentedPayload = Type.Object(
  {
    card_id: CardId,
    machine_device_id: DeviceId,
  },
  { additionalProperties: false },
);

/** Common envelope + a literal `type` + its payload. */
const eventOf = <K extends string, P extends TObject>(type: K, payload: P) =>
  Type.Object(
    {
      event_uid: Uuid,
      type: Type.Literal(type),
      device_id: DeviceId,
      worker_uid: WorkerUid,
      seq: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
      occurred_at: Timestamp,
      payload,
    } satisfies TProperties,
    { additionalProperties: false },
  );

export const SessionStartedEvent = eventOf('session_started', SessionStartedPayload);
export const SessionHeartbeatEvent = eventOf('session_heartbeat', SessionHeartbeatPayload);
export const SessionStoppedEvent = eventOf('session_stopped', SessionStoppedPayload);
export const DeviceOnlineEvent = eventOf('device_online', DeviceOnlinePayload);
export const DeviceOfflineEvent = eventOf('device_offline', DeviceOfflinePayload);
export const BadgePresentedEvent = eventOf('badge_presented', BadgePresentedPayload);

/** Any event. `discriminator: 'type'` tells both validators to select the member by `type`. */
export const WorkshopEvent = Type.Union(
  [
    SessionStartedEvent,
    SessionHeartbeatEvent,
    SessionStoppedEvent,
    DeviceOnlineEvent,
    DeviceOfflineEvent,
    BadgePresentedEvent,
  ],
  { discriminator: 'type' },
);

export const EVENT_TYPES = [
  'session_started',
  'session_heartbeat',
  'session_stopped',
  'device_online',
  'device_offline',
  'badge_presented',
] as const;

export type StopReason = Static<typeof StopReason>;
export type OfflineReason = Static<typeof OfflineReason>;
export type SessionStartedEvent = Static<typeof SessionStartedEvent>;
export type SessionHeartbeatEvent = Static<typeof SessionHeartbeatEvent>;
export type SessionStoppedEvent = Static<typeof SessionStoppedEvent>;
export type DeviceOnlineEvent = Static<typeof DeviceOnlineEvent>;
export type DeviceOfflineEvent = Static<typeof DeviceOfflineEvent>;
export type BadgePresentedEvent = Static<typeof BadgePresentedEvent>;
export type WorkshopEvent = Static<typeof WorkshopEvent>;
export type EventType = WorkshopEvent['type'];
