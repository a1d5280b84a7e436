/**
 * The `health` contract (body of `GET /health` with a token, result of `health.get`).
 *
 * `status` is `degraded` when the worker needs attention: broker not connected or refusing a device's
 * topic (`broker.failed_subscriptions` names topic and device), outbox commits
 * failing, outbox above `max_events`, or Odoo configured and the sender failing 3+ times in a row.
 * Dead letters do not degrade (they are counted and exported as a metric; they stay until handled).
 *
 * `GET /health` without a token answers only `{status}` (liveness for probes that carry no secret);
 * with the read or admin token it answers the full document. Both are HTTP 200: a worker whose Odoo
 * is down must not be restarted by an orchestrator, it is doing its job by buffering.
 */
import type { Health } from '@workshop-iot/shared';
import { VERSION } from '../version.ts';
import type { HttpServer } from './server.ts';
import { sendJson } from './server.ts';

export interface HealthSources {
  workerUid: string;
  startedAtMs: number;
  now?: () => number;
  broker(): {
    url: string;
    embedded: boolean;
    connected: boolean;
    reconnects: number;
    failed_subscriptions?: NonNullable<Health['broker']['failed_subscriptions']>;
  };
  devices(): number;
  /** Configured badge readers (issue 16). */
  badgeReaders?(): number;
  subscriptions(): number;
  outbox: {
    depth(): number;
    oldestPendingMs(): number | null;
    deadLetterCount(): number;
    overCap(): boolean;
    commitError(): Error | null;
  };
  odoo(): {
    configured: boolean;
    last_ok_at: string | null;
    last_error: string | null;
    failures: number;
  };
  config(): { version: number; applied_at: string | null };
}

export const SENDER_FAILURES_DEGRADED = 3;

export function buildHealth(s: HealthSources): Health {
  const now = (s.now ?? Date.now)();
  const broker = s.broker();
  const odoo = s.odoo();
  const oldest = s.outbox.oldestPendingMs();
  const degraded =
    !broker.connected ||
    (broker.failed_subscriptions?.length ?? 0) > 0 ||
    s.outbox.overCap() ||
    s.outbox.commitError() !== null ||
    (odoo.configured && odoo.failures >= SENDER_FAILURES_DEGRADED);
  return {
    status: degraded ? 'degraded' : 'ok',
    software_version: VERSION,
    worker_uid: s.workerUid,
    uptime_s: Math.max(0, (now - s.startedAtMs) / 1000),
    broker: {
      url: broker.url.slice(0, 512),
      embedded: broker.embedded,
      connected: broker.connected,
      reconnects: broker.reconnects,
      failed_subscriptions: (broker.failed_subscriptions ?? []).slice(0, 100).map((f) => ({
        ...f,
        topic: f.topic.slice(0, 512),
        device_ids: f.device_ids.slice(0, 100),
        reason: f.reason.slice(0, 256),
      })),
    },
    devices: s.devices(),
    ...(s.badgeReaders ? { badge_readers: s.badgeReaders() } : {}),
    subscriptions: s.subscriptions(),
    outbox: {
      depth: s.outbox.depth(),
      oldest_pending_s: oldest === null ? null : oldest / 1000,
      dead_letters: s.outbox.deadLetterCount(),
    },
    odoo: {
      configured: odoo.configured,
      last_ok_at: odoo.last_ok_at,
      last_error: odoo.last_error?.slice(0, 1024) ?? null,
    },
    config: s.config(),
  };
}

export function registerHealthRoute(server: HttpServer, health: () => Health): void {
  server.addRoute({
    method: 'GET',
    path: '/health',
    auth: 'none',
    handler: ({ res, scope }) => {
      const h = health();
      sendJson(res, 200, scope ? h : { status: h.status });
    },
  });
}
