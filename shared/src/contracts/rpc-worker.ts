/**
 * JSON-RPC methods Odoo calls on the worker (`POST <worker_url>/rpc`, bearer worker token), and the
 * body of `GET /health`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DeviceId, Nullable, Seconds, Timestamp } from './common.ts';
import { WorkerConfig } from './worker-config.ts';

const Count = Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 });

export const ConfigApplyParams = Type.Object(
  { config: WorkerConfig },
  { additionalProperties: false },
);

export const ConfigChanges = Type.Object(
  {
    added: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20_000 }),
    updated: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20_000 }),
    removed: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20_000 }),
    broker_changed: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const ConfigApplyResult = Type.Object(
  {
    applied: Type.Boolean({ description: 'false when this version was already applied (no-op)' }),
    version: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 }),
    changes: ConfigChanges,
  },
  { additionalProperties: false },
);

export const ConfigGetParams = Type.Object({}, { additionalProperties: false });

export const ConfigGetResult = Type.Object(
  { config: WorkerConfig, applied_at: Nullable(Timestamp) },
  { additionalProperties: false },
);

export const HealthGetParams = Type.Object({}, { additionalProperties: false });

export const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    software_version: Type.String({ minLength: 1, maxLength: 64 }),
    worker_uid: Type.String({ maxLength: 64 }),
    uptime_s: Seconds,
    broker: Type.Object(
      {
        url: Type.String({ maxLength: 512, description: 'Without credentials' }),
        embedded: Type.Boolean(),
        connected: Type.Boolean(),
        reconnects: Count,
        failed_subscriptions: Type.Optional(
          Type.Array(
            Type.Object(
              {
                topic: Type.String({ maxLength: 512 }),
                device_ids: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 }),
                reason: Type.String({ maxLength: 256 }),
                failures: Count,
                retry_at: Timestamp,
              },
              { additionalProperties: false },
            ),
            {
              maxItems: 100,
              description:
                'Topic filters the broker refused (only their devices get no readings), each retried on its own backoff',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    devices: Count,
    /** Configured badge readers (issue 16); optional so a health document of an older worker stays valid. */
    badge_readers: Type.Optional(Count),
    subscriptions: Count,
    outbox: Type.Object(
      { depth: Count, oldest_pending_s: Nullable(Seconds), dead_letters: Count },
      { additionalProperties: false },
    ),
    odoo: Type.Object(
      {
        configured: Type.Boolean(),
        last_ok_at: Nullable(Timestamp),
        last_error: Nullable(Type.String({ maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
    config: Type.Object(
      { version: Count, applied_at: Nullable(Timestamp) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** Dead-letter row ids (the outbox's `dead_letter.id`). */
const DeadLetterId = Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 });

/**
 * Which dead letters `deadletters.retry` / `deadletters.purge` act on: exactly one of `ids` (each
 * must exist, else the call fails naming the unknown ones and changes nothing) or `all: true`.
 */
const DeadLetterSelection = Type.Object(
  {
    ids: Type.Optional(Type.Array(DeadLetterId, { minItems: 1, maxItems: 1000 })),
    all: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);

export const DeadLettersListParams = Type.Object(
  {
    /** Rows per page (default 50). */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    /** Newest first: the page starts below this id (the previous page's `next_before_id`). */
    before_id: Type.Optional(DeadLetterId),
  },
  { additionalProperties: false },
);

export const DeadLetterItem = Type.Object(
  {
    id: DeadLetterId,
    event_uid: Type.String({ maxLength: 128 }),
    device_id: DeviceId,
    type: Type.String({ maxLength: 64 }),
    /** Odoo's rejection: its error code and message. */
    code: Type.String({ maxLength: 64 }),
    message: Type.String({ maxLength: 1024 }),
    rejected_at: Timestamp,
  },
  { additionalProperties: false },
);

export const DeadLettersListResult = Type.Object(
  {
    items: Type.Array(DeadLetterItem, { maxItems: 500 }),
    total: Count,
    /** Pass as `before_id` for the next (older) page; null on the last page. */
    next_before_id: Nullable(DeadLetterId),
  },
  { additionalProperties: false },
);

export const DeadLettersRetryParams = DeadLetterSelection;
export const DeadLettersPurgeParams = DeadLetterSelection;

export const DeadLettersChangeResult = Type.Object(
  {
    /** Rows moved back to the outbox (retry) or deleted (purge). */
    count: Count,
    /** Dead letters left afterwards. */
    remaining: Count,
  },
  { additionalProperties: false },
);

export type ConfigApplyParams = Static<typeof ConfigApplyParams>;
export type ConfigChanges = Static<typeof ConfigChanges>;
export type ConfigApplyResult = Static<typeof ConfigApplyResult>;
export type ConfigGetResult = Static<typeof ConfigGetResult>;
export type Health = Static<typeof Health>;
export type DeadLettersListParams = Static<typeof DeadLettersListParams>;
export type DeadLetterItem = Static<typeof DeadLetterItem>;
export type DeadLettersListResult = Static<typeof DeadLettersListResult>;
export type DeadLettersRetryParams = Static<typeof DeadLettersRetryParams>;
export type DeadLettersPurgeParams = Static<typeof DeadLettersPurgeParams>;
export type DeadLettersChangeResult = Static<typeof DeadLettersChangeResult>;
