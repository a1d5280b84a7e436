/**
 * Prometheus metrics (`GET /metrics`, read or admin token). A registry of its own (no prom-client
 * global), so tests and several workers in one process do not share counters. Values that other
 * modules already count (MQTT messages, parse errors, reconnects, outbox depth) are read at scrape
 * time through `MetricsSources`; only the sender's latency and the committed events are observed here.
 *
 * Also: Node's default process metrics (`collectDefaultMetrics`, prefixed `workshop_iot_`) and
 * per-machine gauges with BOUNDED cardinality: `workshop_iot_machine_last_message_age_seconds` and
 * `workshop_iot_machine_state` (1 on the machine's current state only) for at most
 * `maxMachineSeries` machines (the first by device id); the rest are counted in
 * `workshop_iot_machine_series_omitted` and still in `workshop_iot_machines{state}` (all machines,
 * one series per state). Every scrape rebuilds these from the current machines, so the series of a
 * removed machine (or of a machine's previous state) are gone at the next scrape.
 */
import type { DeviceState } from '@workshop-iot/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
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
  /** Every configured machine's live state (for the per-machine gauges). */
  machines?(): readonly MachineSample[];
  now?(): number;
}

export interface MachineSample {
  device_id: string;
  state: DeviceState;
  last_seen_at: string | null;
}

export const METRICS_PREFIX = 'workshop_iot_';
export const DEFAULT_MAX_MACHINE_SERIES = 500;

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #events: Counter<'type'>;
  readonly #acked: Counter;
  readonly #sendLatency: Histogram<'outcome'>;

  constructor(sources: MetricsSources, maxMachineSeries = DEFAULT_MAX_MACHINE_SERIES) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
    registerMachineGauges(registers, sources, maxMachineSeries);
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
    this.#events = new Counter({
      name: 'workshop_iot_events_total',
      help: 'Events committed to the outbox',
      labelNames: ['type'],
      registers,
    });
    this.#acked = new Counter({
      name: 'workshop_iot_events_delivered_total',
      help: 'Events acknowledged by Odoo',
      registers,
    });
    this.#sendLatency = new Histogram({
      name: 'workshop_iot_send_latency_seconds',
      help: 'events.ingest round trip per batch',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  eventsCommitted(types: string[]): void {
    for (const t of types) this.#events.inc({ type: t });
  }

  batchSent(seconds: number, ok: boolean): void {
    this.#sendLatency.observe({ outcome: ok ? 'ok' : 'error' }, seconds);
  }

  delivered(count: number): void {
    this.#acked.inc(count);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The bounded per-machine gauges and the per-state totals, rebuilt at each scrape. */
function registerMachineGauges(registers: Registry[], sources: MetricsSources, cap: number): void {
  // Read at each collect (four per scrape): liveStates() is a walk over the machines in memory.
  const read = () => {
    const at = sources.now?.() ?? Date.now();
    const machines = [...(sources.machines?.() ?? [])].sort((a, b) =>
      a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0,
    );
    return { at, machines };
  };
  new Gauge({
    name: 'workshop_iot_machine_last_message_age_seconds',
    help: `Seconds since the machine's meter last sent a message (first ${cap} machines by device id; never-seen machines have none)`,
    labelNames: ['device_id'],
    registers,
    collect() {
      this.reset();
      const { at, machines } = read();
      for (const m of machines.slice(0, cap)) {
        if (m.last_seen_at === null) continue;
        const age = Math.max(0, at - Date.parse(m.last_seen_at)) / 1000;
        this.set({ device_id: m.device_id }, age);
      }
    },
  });
  new Gauge({
    name: 'workshop_iot_machine_state',
    help: `1 on the machine's current state (first ${cap} machines by device id)`,
    labelNames: ['device_id', 'state'],
    registers,
    collect() {
      this.reset();
      for (const m of read().machines.slice(0, cap))
        this.set({ device_id: m.device_id, state: m.state }, 1);
    },
  });
  new Gauge({
    name: 'workshop_iot_machine_series_omitted',
    help: 'Machines left out of the per-machine gauges (metrics.max_machine_series)',
    registers,
    collect() {
      this.set(Math.max(0, read().machines.length - cap));
    },
  });
  new Gauge({
    name: 'workshop_iot_machines',
    help: 'Machines per live state (all machines)',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const m of read().machines) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
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
