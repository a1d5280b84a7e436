/**
 * The discovery store and reporter: merge of partial announcements, deduplication, the cap with
 * eviction, ignored meters, and the reporter's debounce and retry while Odoo is down (fake timers).
 */
import type { DiscoveredMeter, DiscoveryReportResult } from '@workshop-iot/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Discovery } from '../../src/discovery/discovery.ts';
import { DiscoveryReporter } from '../../src/discovery/reporter.ts';
import { DiscoveryStore } from '../../src/discovery/store.ts';
import type { Observation } from '../../src/discovery/types.ts';
import { WorkerError } from '../../src/errors.ts';
import * as F from './fixtures.ts';

const dualR3Config: Observation = {
  family: 'tasmota',
  device_key: '94B97E682B78',
  parser_type: 'tasmota',
  topic: 'tasmota_682B78',
  model: 'Sonoff Dual R3',
  name: 'Dual',
  tasmota_full_topic: null,
};
const dualR3Sensors: Observation = {
  family: 'tasmota',
  device_key: '94B97E682B78',
  parser_type: 'tasmota',
  channels: [
    { channel: 0, component: 'ENERGY.Power[0]', measures: 'power', energy: true },
    { channel: 1, component: 'ENERGY.Power[1]', measures: 'power', energy: true },
  ],
};
const plug = (n: number): Observation => ({
  family: 'zigbee2mqtt',
  device_key: `0x00000000000000${String(n).padStart(2, '0')}`,
  parser_type: 'generic_json',
  topic: `zigbee2mqtt/plug ${n}`,
  channels: [
    { channel: 0, component: 'power', measures: 'power', energy: false, value_path: 'power' },
  ],
});

describe('DiscoveryStore', () => {
  let now = 0;
  const store = (o: { cap?: number; refreshMs?: number } = {}) =>
    new DiscoveryStore({ now: () => now, ...o });

  it('merges config and sensors of one Tasmota into one meter, reportable once both are known', () => {
    const s = store();
    expect(s.observe(dualR3Config)).toBe(false); // a topic but no channel yet
    expect(s.due(10)).toEqual([]);
    expect(s.observe(dualR3Sensors)).toBe(true);
    expect(s.due(10)).toEqual([
      {
        family: 'tasmota',
        device_key: '94B97E682B78',
        parser_type: 'tasmota',
        topic: 'tasmota_682B78',
        model: 'Sonoff Dual R3',
        name: 'Dual',
        channels: dualR3Sensors.channels,
      },
    ]);
  });

  it('deduplicates: the same announcement again is not due; a change or a late re-announce is', () => {
    const s = store({ refreshMs: 60_000 });
    s.observe(plug(1));
    s.reported(s.due(10));
    now = 1000;
    expect(s.observe(plug(1))).toBe(false);
    expect(s.due(10)).toEqual([]);
    expect(s.observe({ ...plug(1), topic: 'zigbee2mqtt/renamed plug' })).toBe(true);
    s.reported(s.due(10));
    now = 61_000;
    expect(s.observe({ ...plug(1), topic: 'zigbee2mqtt/renamed plug' })).toBe(true); // refresh
  });

  it('holds at most `cap` meters, evicting the one heard of least recently', () => {
    const s = store({ cap: 3 });
    for (const n of [1, 2, 3]) s.observe(plug(n));
    s.observe(plug(1)); // heard again: now the most recent
    s.observe(plug(4));
    expect(s.size).toBe(3);
    expect(s.evicted).toBe(1);
    expect(s.list().map((m) => m.device_key)).toEqual([
      '0x0000000000000003',
      '0x0000000000000001',
      '0x0000000000000004',
    ]);
  });

  it('never reports an ignored meter again, whatever it announces', () => {
    const s = store();
    s.observe(plug(1));
    s.ignore([{ family: 'zigbee2mqtt', device_key: '0x0000000000000001' }]);
    expect(s.observe({ ...plug(1), topic: 'zigbee2mqtt/moved' })).toBe(false);
    expect(s.due(10)).toEqual([]);
  });

  it('leaves out a meter whose topic breaks the contract instead of failing the whole report', () => {
    const s = store();
    s.observe({ ...plug(1), topic: 'zigbee2mqtt/bad\u0001name' });
    s.observe(plug(2));
    expect(s.due(10).map((m) => m.device_key)).toEqual(['0x0000000000000002']);
  });
});

describe('DiscoveryReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('debounces a burst into one report and retries with backoff while Odoo is down', async () => {
    const s = new DiscoveryStore();
    const calls: DiscoveredMeter[][] = [];
    let down = true;
    const reporter = new DiscoveryReporter({
      store: s,
      debounceMs: 1000,
      retry: { baseMs: 5000, maxMs: 5000 },
      random: () => 1,
      report: async (meters): Promise<DiscoveryReportResult> => {
        calls.push(meters);
        if (down)
          throw new WorkerError('ODOO_UNREACHABLE', { reason: 'ECONNREFUSED' }, undefined, {
            retryable: true,
          });
        return { ok: true, ignored: [{ family: 'zigbee2mqtt', device_key: '0x0000000000000002' }] };
      },
    });
    for (const n of [1, 2, 3]) {
      s.observe(plug(n));
      reporter.poke();
    }
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.length)).toEqual([3]); // one call, failed
    down = false;
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.length)).toEqual([3, 3]); // the retry carries all three
    expect(reporter.stats()).toEqual({ sent: 3, failures: 0 });
    // Nothing new: no call. The ignored plug stays silent even when it changes.
    s.observe({ ...plug(2), topic: 'zigbee2mqtt/elsewhere' });
    reporter.poke();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);
    reporter.stop();
  });
});

describe('Discovery (routing and requests)', () => {
  it('routes by topic, asks a Shelly once per interval and counts what it cannot read', () => {
    let now = 0;
    const published: [string, string][] = [];
    const store = new DiscoveryStore();
    const pokes: number[] = [];
    const d = new Discovery({
      store,
      reporter: { poke: () => pokes.push(1) },
      publish: (t, p) => published.push([t, p]),
      now: () => now,
      requestIntervalMs: 60_000,
    });
    expect(d.matches('shellypro4pm-1/online')).toBe(true);
    expect(d.matches('shellypro4pm-1/status/switch:0')).toBe(false);
    expect(d.matches('tele/plug/SENSOR')).toBe(false);
    d.handle('shellypro4pm-1/online', Buffer.from('true'));
    d.handle('shellypro4pm-1/online', Buffer.from('true'));
    expect(published.map(([t]) => t)).toEqual(['shellypro4pm-1/rpc', 'shellypro4pm-1/rpc']);
    now = 60_000;
    d.handle('shellypro4pm-1/online', Buffer.from('true'));
    expect(published).toHaveLength(4);
    d.handle('zigbee2mqtt/bridge/devices', Buffer.from(F.Z2M_BRIDGE_DEVICES));
    expect(pokes).toHaveLength(1);
    expect(store.due(10).map((m) => m.topic)).toEqual(['zigbee2mqtt/power_plug']);
    d.handle('tasmota/discovery/nomac/config', Buffer.from('{}'));
    expect(d.stats()).toMatchObject({
      invalid: 1,
      last_error: "tasmota/discovery/nomac/config: 'nomac' in the topic is not a MAC address",
    });
    d.connected();
    expect(published.at(-1)).toEqual(['shellies/command', 'announce']);
  });
});

describe('Discovery (a meter that cannot be reported)', () => {
  it('says why instead of leaving it out silently', () => {
    const store = new DiscoveryStore();
    const d = new Discovery({ store, reporter: { poke: () => {} }, publish: () => {} });
    const bad = F.Z2M_BRIDGE_DEVICES.replace(
      '"friendly_name":"power_plug"',
      '"friendly_name":"plug+1"',
    );
    d.handle('zigbee2mqtt/bridge/devices', Buffer.from(bad));
    expect(d.stats().invalid).toBe(1);
    expect(d.stats().last_error).toMatch(
      /^zigbee2mqtt\/bridge\/devices: 0x0017880104e45524 cannot be reported: \/topic /,
    );
  });
});
