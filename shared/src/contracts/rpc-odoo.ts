/**
 * JSON-RPC methods the worker calls on Odoo (`POST /workshop_iot/rpc`, bearer API key).
 * `events.ingest` takes the events as plain objects: each one is validated on its own against
 * `WorkshopEvent`, so one bad event is rejected alone and never fails the batch.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  DeviceId,
  DeviceState,
  FieldErrorSchema,
  Nullable,
  PowerW,
  Seconds,
  Timestamp,
  Uuid,
  WorkerUid,
} from './common.ts';
import { WorkerConfig } from './worker-config.ts';

export const WorkerHelloParams = Type.Object(
  {
    worker_uid: WorkerUid,
    software_version: Type.String({ minLength: 1, maxLength: 64 }),
    config_version: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    hostname: Type.Optional(Type.String({ maxLength: 255 })),
    http_url: Type.Optional(
      Nullable(Type.String({ pattern: '^https?://[!-~]+$', maxLength: 512 })),
    ),
    started_at: Timestamp,
  },
  { additionalProperties: false },
);

export const WorkerHelloResult = Type.Object(
  {
    worker_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
    server_time: Timestamp,
    config_version: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    /** The current config when Odoo's is newer than the worker's, else null. */
    config: Nullable(WorkerConfig),
  },
  { additionalProperties: false },
);

export const EventsIngestParams = Type.Object(
  {
    worker_uid: WorkerUid,
    events: Type.Array(Type.Object({}, { additionalProperties: true }), {
      minItems: 1,
      maxItems: 1000,
    }),
  },
  { additionalProperties: false },
);

export const IngestItemResult = Type.Object(
  {
    index: Type.Integer({ minimum: 0, maximum: 999 }),
    event_uid: Nullable(Type.String({ maxLength: 64 })),
    status: Type.Union([
      Type.Literal('accepted'),
      Type.Literal('duplicate'),
      Type.Literal('rejected'),
    ]),
    code: Type.Optional(Type.String({ maxLength: 64 })),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { maxItems: 100 })),
  },
  { additionalProperties: false },
);

export const EventsIngestResult = Type.Object(
  { results: Type.Array(IngestItemResult, { maxItems: 1000 }) },
  { additionalProperties: false },
);

export const DeviceLiveState = Type.Object(
  {
    device_id: DeviceId,
    state: DeviceState,
    power_w: Nullable(PowerW),
    session_id: Nullable(Uuid),
    session_started_at: Nullable(Timestamp),
    session_working_s: Seconds,
    session_standby_s: Seconds,
    last_seen_at: Nullable(Timestamp),
    changed_at: Timestamp,
    /**
     * The meter's usual time between messages as the worker observed it (a high bound over recent
     * gaps, at most the device's `message_timeout_s`; that timeout until enough messages were
     * seen). The dashboard flags a meter silent for well past it ("no data since …") before the
     * timeout takes it offline. Optional: older workers do not send it.
     */
    expected_interval_s: Type.Optional(Nullable(Seconds)),
  },
  { additionalProperties: false },
);

export const WorkerHealthSummary = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    broker_connected: Type.Boolean(),
    outbox_depth: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    oldest_pending_s: Nullable(Seconds),
    dead_letters: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    uptime_s: Seconds,
    software_version: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);

export const WorkerStatusParams = Type.Object(
  {
    worker_uid: WorkerUid,
    config_version: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    health: WorkerHealthSummary,
    /** Full list on the periodic report; only the changed devices on a prompt push. */
    devices: Type.Array(DeviceLiveState, { maxItems: 20_000 }),
    full: Type.Boolean({ description: 'true when `devices` lists every configured device' }),
  },
  { additionalProperties: false },
);

export const WorkerStatusResult = Type.Object(
  {
    ok: Type.Literal(true),
    config_version: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
  },
  { additionalProperties: false },
);

export type WorkerHelloParams = Static<typeof WorkerHelloParams>;
export type WorkerHelloResult = Static<typeof WorkerHelloResult>;
export type EventsIngestParams = Static<typeof EventsIngestParams>;
export type IngestItemResult = Static<typeof IngestItemResult>;
export type EventsIngestResult = Static<typeof EventsIngestResult>;
export type DeviceLiveState = Static<typeof DeviceLiveState>;
export type WorkerHealthSummary = Static<typeof WorkerHealthSummary>;
export type WorkerStatusParams = Static<typeof WorkerStatusParams>;
export type WorkerStatusResult = Static<typeof WorkerStatusResult>;
