/**
 * `/metrics` exposition (prom-client text format, read through the registry the route serves):
 * Node's default process metrics under the worker's prefix, and the per-machine gauges with their
 * cardinality cap: at most `maxMachineSeries` machines get series, the rest are counted as omitted
 * (and in the per-state totals), and a removed machine's series (or a machine's previous state) are
 * gone at the next scrape.
 */
import type { DeviceState } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { type MachineSample, WorkerMetrics } from '../../src/http/metrics.ts';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');

function metricsFor(machines: MachineSample[], cap: number) {
  return new WorkerMetrics(
    {
      mqtt: () => ({ messages: 0, parse_errors: 0, reconnects: 0, connected: true }),
      outbox: () => ({ depth: 0, oldest_pending_ms: null, dead_letters: 0, over_cap: false }),
      configVersion: () => 1,
      machines: () => machines,
      now: () => NOW,
    },
    cap,
  );
}

const machine = (
  device_id: string,
  state: DeviceState,
  secondsAgo: number | null,
): MachineSample => ({
  device_id,
  state,
  last_seen_at: secondsAgo === null ? null : new Date(NOW - secondsAgo * 1000).toISOString(),
});

/** The sample lines of one metric (`name{labels} value`). */
const samples = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('/metrics exposition', () => {
  it('carries the default process metrics under the workshop_iot_ prefix', async () => {
    const text = await metricsFor([], 10).text();
    for (const name of [
      'workshop_iot_process_cpu_user_seconds_total',
      'workshop_iot_process_resident_memory_bytes',
      'workshop_iot_process_start_time_seconds',
      'workshop_iot_nodejs_heap_size_used_bytes',
      'workshop_iot_nodejs_eventloop_lag_seconds',
      'workshop_iot_nodejs_version_info',
    ])
      expect(samples(text, name).length, name).toBeGreaterThan(0);
  });

  it('per machine: last-message age and the current state, one series each', async () => {
    const text = await metricsFor(
      [
        machine('saw', 'working', 12.5),
        machine('lathe', 'idle', 60),
        machine('new', 'unknown', null),
      ],
      10,
    ).text();
    expect(samples(text, 'workshop_iot_machine_last_message_age_seconds').sort()).toEqual([
      'workshop_iot_machine_last_message_age_seconds{device_id="lathe"} 60',
      'workshop_iot_machine_last_message_age_seconds{device_id="saw"} 12.5',
    ]);
    expect(samples(text, 'workshop_iot_machine_state').sort()).toEqual([
      'workshop_iot_machine_state{device_id="lathe",state="idle"} 1',
      'workshop_iot_machine_state{device_id="new",state="unknown"} 1',
      'workshop_iot_machine_state{device_id="saw",state="working"} 1',
    ]);
    expect(samples(text, 'workshop_iot_machine_series_omitted')).toEqual([
      'workshop_iot_machine_series_omitted 0',
    ]);
  });

  it('caps the per-machine series: machines beyond the cap are counted, not exposed', async () => {
    const machines = Array.from({ length: 25 }, (_, i) =>
      machine(`m${String(i).padStart(2, '0')}`, i % 2 ? 'working' : 'idle', i),
    );
    const text = await metricsFor(machines, 10).text();
    const ages = samples(text, 'workshop_iot_machine_last_message_age_seconds');
    const states = samples(text, 'workshop_iot_machine_state');
    expect(ages).toHaveLength(10);
    expect(states).toHaveLength(10);
    // The first ten by device id, deterministically.
    expect(states.map((l) => /device_id="(m\d+)"/.exec(l)?.[1])).toEqual(
      machines.slice(0, 10).map((m) => m.device_id),
    );
    expect(samples(text, 'workshop_iot_machine_series_omitted')).toEqual([
      'workshop_iot_machine_series_omitted 15',
    ]);
    // The per-state totals still count every machine.
    expect(samples(text, 'workshop_iot_machines').sort()).toEqual([
      'workshop_iot_machines{state="idle"} 13',
      'workshop_iot_machines{state="working"} 12',
    ]);
    // A cap of 0 exposes no per-machine series at all.
    const none = await metricsFor(machines, 0).text();
    expect(samples(none, 'workshop_iot_machine_state')).toEqual([]);
    expect(samples(none, 'workshop_iot_machine_series_omitted')).toEqual([
      'workshop_iot_machine_series_omitted 25',
    ]);
  });

  it("drops a removed machine's series and a machine's previous state at the next scrape", async () => {
    const machines = [machine('saw', 'working', 1), machine('lathe', 'idle', 2)];
    const metrics = metricsFor(machines, 10);
    expect(samples(await metrics.text(), 'workshop_iot_machine_state')).toHaveLength(2);
    machines.splice(1, 1); // lathe removed from the config
    machines[0] = machine('saw', 'stopping', 1);
    const text = await metrics.text();
    expect(samples(text, 'workshop_iot_machine_state')).toEqual([
      'workshop_iot_machine_state{device_id="saw",state="stopping"} 1',
    ]);
    expect(samples(text, 'workshop_iot_machine_last_message_age_seconds')).toEqual([
      'workshop_iot_machine_last_message_age_seconds{device_id="saw"} 1',
    ]);
    expect(text).not.toContain('lathe');
  });
});
