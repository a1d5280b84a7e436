/**
 * Prometheus metrics (`GET /metrics`, read or admin token). A registry of its own (no prom-client
 * global), so tests and several workers in one process do not share counters. Values that other
 * modules already count (MQTT messages, parse errors, reconnects, outbox depth) are read at scrape
 * time through `MetricsSources`; only the sender's latency and the committed events are observed here.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HttpServer } from './server.ts';

export interface MetricsSources {
  mqtt(): { messages: number; parse_errors: number; reconnects: number; connected: boolean };
  outbox(): {
    depth: number;
    oldest_pending_ms: number | null;
    dead_letters: number;
    over_cap: boolean;
  };
  configVersion(): number;
  /** Discovery's counts; null when discovery is off (the metrics then read 0). */
  discovery?(): { meters: number; invalid: number; reported: number } | null;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'type'>;
  private readonly acked: Counter;
  private readonly sendLatency: Histogram<'outcome'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    /** A counter mirrored from a monotonic count kept elsewhere. */
    const mirrored = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    mirrored(
      'workshop_iot_mqtt_messages_total',
      'MQTT messages received',
      () => sources.mqtt().messages,
    );
    mirrored(
      'workshop_iot_parse_errors_total',
      'Bad payloads (not turned into events)',
      () => sources.mqtt().parse_errors,
    );
    mirrored(
      'workshop_iot_mqtt_reconnects_total',
      'MQTT reconnect attempts',
      () => sources.mqtt().reconnects,
    );
    gauge('workshop_iot_mqtt_connected', '1 when connected to the broker', () =>
      sources.mqtt().connected ? 1 : 0,
    );
    gauge(
      'workshop_iot_outbox_depth',
      'Events waiting in the outbox',
      () => sources.outbox().depth,
    );
    gauge(
      'workshop_iot_outbox_oldest_pending_seconds',
      'Age of the oldest pending event',
      () => (sources.outbox().oldest_pending_ms ?? 0) / 1000,
    );
    gauge('workshop_iot_outbox_over_cap', '1 when the outbox holds more than max_events', () =>
      sources.outbox().over_cap ? 1 : 0,
    );
    gauge(
      'workshop_iot_dead_letters',
      'Events Odoo rejected (dead-letter table)',
      () => sources.outbox().dead_letters,
    );
    gauge('workshop_iot_config_version', 'Applied config version', () => sources.configVersion());
    gauge(
      'workshop_iot_discovery_meters',
      'Meters discovery knows of (announced themselves)',
      () => sources.discovery?.()?.meters ?? 0,
    );
    mirrored(
      'workshop_iot_discovery_invalid_total',
      'Announcements discovery could not read',
      () => sources.discovery?.()?.invalid ?? 0,
    );
    mirrored(
      'workshop_iot_discovery_reported_total',
      'Discovered meters reported to Odoo',
      () => sources.discovery?.()?.reported ?? 0,
    );
    this.events = new Counter({
      name: 'workshop_iot_events_total',
      help: 'Events committed to the outbox',
      labelNames: ['type'],
      registers,
    });
    this.acked = new Counter({
      name: 'workshop_iot_events_delivered_total',
      help: 'Events acknowledged by Odoo',
      registers,
    });
    this.sendLatency = new Histogram({
      name: 'workshop_iot_send_latency_seconds',
      help: 'events.ingest round trip per batch',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  eventsCommitted(types: string[]): void {
    for (const t of types) this.events.inc({ type: t });
  }

  batchSent(seconds: number, ok: boolean): void {
    this.sendLatency.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
  }

  delivered(count: number): void {
    this.acked.inc(count);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export function registerMetricsRoute(server: HttpServer, metrics: WorkerMetrics): void {
  server.addRoute({
    method: 'GET',
    path: '/metrics',
    auth: 'read',
    handler: async ({ res }) => {
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    },
  });
}
