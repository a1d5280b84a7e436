/**
 * Local settings of one worker installation: read from its settings file, overridden by environment
 * variables derived from the schema path (`WORKSHOP_IOT_<PATH>`, e.g. `WORKSHOP_IOT_HTTP_PORT`).
 * These never travel over the wire; the pushed `WorkerConfig` (devices, broker) is a separate contract.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable, WorkerUid } from './common.ts';
import { WorkerConfig } from './worker-config.ts';

export const LogLevel = Type.Union([
  Type.Literal('fatal'),
  Type.Literal('error'),
  Type.Literal('warn'),
  Type.Literal('info'),
  Type.Literal('debug'),
  Type.Literal('trace'),
  Type.Literal('silent'),
]);

export const WorkerSettings = Type.Object(
  {
    worker_uid: Type.Optional(WorkerUid),
    data_dir: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    log_level: Type.Optional(LogLevel),
    http: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
          public_url: Type.Optional(Type.String({ pattern: '^https?://[!-~]+$', maxLength: 512 })),
          token: Type.Optional(Type.String({ minLength: 24, maxLength: 256 })),
          read_token: Type.Optional(Type.String({ minLength: 24, maxLength: 256 })),
          max_body_bytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 67_108_864 })),
        },
        { additionalProperties: false },
      ),
    ),
    odoo: Type.Optional(
      Type.Object(
        {
          url: Nullable(Type.String({ pattern: '^https?://[!-~]+$', maxLength: 512 })),
          api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000 })),
          batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          /** Wait up to this long (from the oldest pending event's commit) to fill a batch; 0 = off. */
          linger_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
          status_interval_s: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600 })),
        },
        { additionalProperties: false },
      ),
    ),
    outbox: Type.Optional(
      Type.Object(
        {
          max_events: Type.Optional(Type.Integer({ minimum: 1000, maximum: 100_000_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    embedded_broker: Type.Optional(
      Type.Object(
        {
          /** Loopback only, unless username and password are set (the worker refuses to start). */
          host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
          /** When set, devices and the worker itself must log in with them. */
          username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
    discovery: Type.Optional(
      Type.Object(
        {
          /**
           * Listen for meters announcing themselves (Shelly, Tasmota, Zigbee2MQTT) and report them
           * to Odoo's "Discovered meters" (default true).
           */
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    mqtt_status: Type.Optional(
      Type.Object(
        {
          /**
           * Publish the worker's own availability: retained `online` at `<prefix>/status` after each
           * connect, `offline` there as the last will (set on every connect) and on a clean stop
           * (default true). A broker whose ACL denies the worker that topic refuses a connection
           * with a will (mosquitto 2): grant it, or set this to false.
           */
          enabled: Type.Optional(Type.Boolean()),
          /** Topic prefix (printable ASCII without `#`, `+`, spaces or a trailing `/`); default `workshop-iot/<worker_uid>`. */
          prefix: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, pattern: '^[!-"$-*,-~]*[!-"$-*,-.0-~]$' }),
          ),
          /**
           * Opt-in (default false): a retained JSON summary per machine at
           * `<prefix>/machines/<device_id>` (state, power, session running, last seen, name, area)
           * for Home Assistant / Node-RED; cleared (empty retained payload) when a machine is removed.
           */
          machine_summaries: Type.Optional(Type.Boolean()),
          /** One summary per machine per this many seconds at most (latest state wins); default 5. */
          summary_min_interval_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
        },
        { additionalProperties: false },
      ),
    ),
    recording: Type.Optional(
      Type.Object(
        {
          /** Record readings at all (default true); a machine can still opt out with `recording: false`. */
          enabled: Type.Optional(Type.Boolean()),
          /** Keep each machine's readings this many days (default 14). */
          max_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          /** And at most this many MB per machine, oldest dropped first (default 16). */
          max_mb_per_machine: Type.Optional(Type.Number({ minimum: 0.1, maximum: 10_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          /**
           * Machines with their own per-machine series on /metrics (default 500): beyond it the
           * rest are left out and counted in `workshop_iot_machine_series_omitted`.
           */
          max_machine_series: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Initial config used until Odoo pushes one (lets a worker run without Odoo). */
    config: Type.Optional(WorkerConfig),
  },
  { additionalProperties: false },
);

export type LogLevel = Static<typeof LogLevel>;
export type WorkerSettings = Static<typeof WorkerSettings>;
