/** buildHealth: what makes the worker `degraded`, and the refused-subscription report. */
import { validate } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { buildHealth, type HealthSources } from '../../src/http/health.ts';

function sources(broker: Partial<ReturnType<HealthSources['broker']>> = {}): HealthSources {
  return {
    workerUid: 'w1',
    startedAtMs: 0,
    now: () => 5000,
    broker: () => ({
      url: 'mqtt://b:1883',
      embedded: false,
      connected: true,
      reconnects: 0,
      ...broker,
    }),
    devices: () => 2,
    subscriptions: () => 2,
    outbox: {
      depth: () => 0,
      oldestPendingMs: () => null,
      deadLetterCount: () => 0,
      overCap: () => false,
      commitError: () => null,
    },
    odoo: () => ({ configured: false, last_ok_at: null, last_error: null, failures: 0 }),
    config: () => ({ version: 1, applied_at: null }),
  };
}

describe('buildHealth', () => {
  it('is ok with no refused subscription', () => {
    const h = buildHealth(sources());
    expect(h).toMatchObject({ status: 'ok', broker: { failed_subscriptions: [] } });
    expect(validate('health', h)).toEqual([]);
  });

  it('is degraded and names topic and device when the broker refuses a subscription', () => {
    const failed = {
      topic: 'shellies/saw/relay/0/power',
      device_ids: ['saw'],
      reason: 'the broker closed the connection on SUBSCRIBE',
      failures: 2,
      retry_at: '2026-12-06T12:00:00.000Z',
    };
    const h = buildHealth(sources({ failed_subscriptions: [failed] }));
    expect(h.status).toBe('degraded');
    expect(h.broker.failed_subscriptions).toEqual([failed]);
    expect(validate('health', h)).toEqual([]);
  });
});
