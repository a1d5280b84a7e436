/**
 * DeviceRegistry through its public API: config diffs, the hot path's write economy, live states,
 * polls, store failures, invalid events, removal and stop.
 */
import {
  DeviceLiveState,
  type DeviceLiveState as LiveState,
  validateSchema,
  type WorkshopEvent,
} from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import {
  type DeviceRegistryOptions,
  type DeviceStore,
  MemoryDeviceStore,
} from '../../src/devices/registry.ts';
import { isWorkerError } from '../../src/errors.ts';
import { BASE_MS, DEVICE_ID, deviceConfig, TestClock, testRegistry } from './harness.ts';

function setup(options: Partial<DeviceRegistryOptions> = {}) {
  const clock = new TestClock();
  const store = new MemoryDeviceStore();
  const live: LiveState[] = [];
  const registry = testRegistry(store, clock, {
    onLiveState: (s) => live.push(s),
    ...options,
  });
  const at = (ms: number) => clock.advanceTo(BASE_MS + ms);
  const reading = (power_w: number, energy_wh: number | null = null, id = DEVICE_ID) =>
    registry.input(id, { kind: 'reading', power_w, energy_wh });
  return { clock, store, registry, live, at, reading };
}

const other = (id: string) => ({ ...deviceConfig(), device_id: id, topic: id });

describe('DeviceRegistry.apply', () => {
  it('diffs by device_id: added, updated only on a real change, removed', () => {
    const { registry } = setup();
    expect(registry.apply([deviceConfig(), other('m2')])).toEqual({
      added: [DEVICE_ID, 'm2'],
      updated: [],
      removed: [],
    });
    expect(registry.apply([deviceConfig(), other('m2')])).toEqual({
      added: [],
      updated: [],
      removed: [],
    });
    const renamed = { ...other('m2'), name: 'Lathe' };
    expect(registry.apply([renamed, other('m3')])).toEqual({
      added: ['m3'],
      updated: ['m2'],
      removed: [DEVICE_ID],
    });
    expect(registry.size).toBe(2);
  });

  it('keeps the open session when the session config changes', () => {
    const { registry, store, at, reading } = setup();
    registry.apply([deviceConfig()]);
    reading(500);
    at(10_000);
    registry.apply([deviceConfig({ working_threshold_w: 600 })]);
    expect(registry.liveState(DEVICE_ID)?.state).toBe('working');
    at(11_000);
    reading(500);
    expect(registry.liveState(DEVICE_ID)?.state).toBe('standby');
    expect(store.eventsOf(DEVICE_ID).map((e) => e.type)).toEqual(['session_started']);
  });

  it('removes a device: closes its session, keeps only its seq; re-adding continues the seq', () => {
    const { registry, store, at, reading } = setup();
    registry.apply([deviceConfig()]);
    reading(500);
    at(10_000);
    registry.apply([]);
    expect(store.loadSnapshot(DEVICE_ID)).toEqual({ tombstone: true, deviceId: DEVICE_ID, seq: 2 });
    registry.apply([deviceConfig()]);
    reading(500);
    at(30_000);
    const [first, stopped, second] = store.eventsOf(DEVICE_ID) as [
      WorkshopEvent,
      WorkshopEvent,
      WorkshopEvent,
    ];
    expect([first.type, stopped.type, second.type]).toEqual([
      'session_started',
      'session_stopped',
      'session_started',
    ]);
    expect(stopped.payload).toMatchObject({ reason: 'removed' });
    // A re-added device is a new actor whose seq continues (Odoo sees no gap, no reuse) and whose
    // session id cannot collide with the old one.
    expect([first.seq, stopped.seq, second.seq]).toEqual([1, 2, 3]);
    expect(
      (second.payload as { session_id: string }).session_id !==
        (first.payload as { session_id: string }).session_id,
    ).toBe(true);
  });

  it('cannot be used after stop', () => {
    const { registry, store, reading } = setup();
    registry.apply([deviceConfig()]);
    registry.stop({ closeSessions: false });
    reading(500);
    expect(() => registry.apply([deviceConfig()])).toThrow(/Internal error/);
    expect(store.events).toEqual([]);
  });
});

describe('DeviceRegistry.input', () => {
  it('ignores unknown devices', () => {
    const { registry, store, reading } = setup();
    registry.apply([deviceConfig()]);
    reading(500, null, 'nobody');
    expect(store.events).toEqual([]);
  });

  it('does not write a snapshot for readings that change nothing persistent', () => {
    const { registry, store, at, reading } = setup();
    registry.apply([deviceConfig({ heartbeat_interval_s: 3600 })]);
    reading(500, 1);
    at(10_000);
    const before = store.commits;
    for (let i = 1; i <= 1000; i++) {
      at(10_000 + i * 100);
      reading(500 + (i % 7), 1 + i / 1000);
    }
    // 100 s of readings every 100 ms: one last-seen refresh per 60 s at most.
    expect(store.commits - before).toBeLessThanOrEqual(2);
  });

  it('rethrows an invalid event as a catalogued error and never hands it on', () => {
    const { registry, store, at, reading } = setup();
    registry.apply([deviceConfig({ start_debounce_s: 0 })]);
    let caught: unknown;
    try {
      reading(2_000_000);
    } catch (err) {
      caught = err;
    }
    expect(isWorkerError(caught) && caught.code).toBe('EVENT_INVALID');
    at(1000);
    expect(store.events.every((e) => e.type !== 'session_started')).toBe(true);
  });

  it('keeps events whose commit failed and commits them, in order, with the next step', () => {
    const inner = new MemoryDeviceStore();
    let failing = true;
    const store: DeviceStore = {
      commit: (id, events, snapshot) => {
        if (failing) throw new Error('disk full');
        inner.commit(id, events, snapshot);
      },
      loadSnapshot: (id) => inner.loadSnapshot(id),
      deleteSnapshot: (id) => inner.deleteSnapshot(id),
    };
    const { registry, at, reading } = setup({ store });
    registry.apply([deviceConfig()]);
    reading(500);
    at(10_000);
    failing = false;
    at(11_000);
    reading(0);
    expect(inner.events.map((e) => [e.type, e.seq])).toEqual([['session_started', 1]]);
  });
});

describe('DeviceRegistry liveness callbacks', () => {
  it('calls onPoll and waits for an answer; with no poll support goes offline at once', () => {
    const polled: string[] = [];
    const a = setup({ onPoll: (id) => void polled.push(id) });
    a.registry.apply([deviceConfig({ message_timeout_s: 30 })]);
    a.at(30_000);
    expect(polled).toEqual([DEVICE_ID]);
    expect(a.registry.liveState(DEVICE_ID)?.state).toBe('unknown');
    a.at(40_000);
    expect(a.store.events.map((e) => e.payload)).toEqual([
      { reason: 'poll_unanswered', last_seen_at: null },
    ]);

    const b = setup({ onPoll: () => false });
    b.registry.apply([deviceConfig({ message_timeout_s: 30 })]);
    b.at(30_000);
    expect(b.store.events.map((e) => e.payload)).toEqual([
      { reason: 'silence', last_seen_at: null },
    ]);
  });

  it('publishes valid live states on changes and on demand', () => {
    const { registry, live, at, reading } = setup();
    registry.apply([deviceConfig(), other('m2')]);
    reading(50);
    at(10_000);
    reading(500);
    at(15_000);
    expect(live.map((s) => [s.state, s.power_w])).toEqual([
      ['starting', 50],
      ['standby', 50],
      ['working', 500],
    ]);
    const states = registry.liveStates();
    expect(states.map((s) => s.device_id)).toEqual([DEVICE_ID, 'm2']);
    expect(states[0]).toMatchObject({
      state: 'working',
      session_started_at: new Date(BASE_MS).toISOString(),
      session_standby_s: 10,
      session_working_s: 5,
      changed_at: new Date(BASE_MS + 10_000).toISOString(),
    });
    expect(states[1]).toMatchObject({ state: 'unknown', power_w: null, last_seen_at: null });
    for (const s of [...states, ...live]) {
      const errors: unknown[] = [];
      validateSchema(DeviceLiveState, s, '', errors as never);
      expect(errors).toEqual([]);
    }
  });
});

describe('DeviceRegistry robustness', () => {
  it('revives a device whose snapshot kills its actor, without disturbing the others', () => {
    const { registry, store, at, reading } = setup();
    registry.apply([deviceConfig(), other('m2')]);
    reading(500);
    at(10_000);
    registry.stop({ closeSessions: false });
    // Corrupt the snapshot: a session state without a session (resuming its timers throws).
    const snap = JSON.parse(store.snapshots.get(DEVICE_ID)!);
    snap.context.session = null;
    store.snapshots.set(DEVICE_ID, JSON.stringify(snap));

    const next = setup({ store });
    next.registry.apply([deviceConfig(), other('m2')]);
    next.at(20_000);
    next.reading(50);
    next.reading(50, null, 'm2');
    next.at(40_000);
    expect(next.registry.liveState(DEVICE_ID)?.state).toBe('standby');
    expect(next.registry.liveState('m2')?.state).toBe('standby');
    // The fresh actor continues the device's seq: no number is used twice across both lives.
    const seqs = store.eventsOf(DEVICE_ID).map((e) => e.seq);
    expect(seqs.length).toBeGreaterThan(1);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('DeviceRegistry.input with the device time (a reading the broker queued)', () => {
  it('keeps the own time within [device time, now]: never backwards, never in the future', () => {
    const { registry, at } = setup();
    registry.apply([deviceConfig()]);
    at(10_000);
    registry.setReplaying(true);
    const seen = (own: number) => {
      registry.input(DEVICE_ID, {
        kind: 'reading',
        power_w: 5,
        energy_wh: null,
        at: BASE_MS + own,
      });
      return Date.parse(registry.liveState(DEVICE_ID)?.last_seen_at ?? '') - BASE_MS;
    };
    expect(seen(4_000)).toBe(4_000); // queued while the worker was away: its own time
    expect(seen(2_000)).toBe(4_000); // older than the device's time: counted at that time
    expect(seen(60_000)).toBe(10_000); // a device clock ahead: now
  });

  it('uses the arrival time for a live message (replay over): a device clock may be off', () => {
    const { registry, at } = setup();
    registry.apply([deviceConfig()]);
    at(10_000);
    const reading = { kind: 'reading', power_w: 5, energy_wh: null, at: 86_400_000 } as const;
    registry.input(DEVICE_ID, reading); // a Shelly before its SNTP sync: 1970-01-02
    expect(registry.liveState(DEVICE_ID)?.last_seen_at).toBe(
      new Date(BASE_MS + 10_000).toISOString(),
    );
    registry.setReplaying(true);
    at(12_000);
    registry.input(DEVICE_ID, { ...reading, at: BASE_MS + 11_000 });
    expect(registry.liveState(DEVICE_ID)?.last_seen_at).toBe(
      new Date(BASE_MS + 11_000).toISOString(),
    );
  });

  it('pollAll polls every pollable device once and skips the others', () => {
    const polled: string[] = [];
    const onPoll = (id: string) => {
      polled.push(id);
      return id !== 'm2';
    };
    const { registry } = setup({ onPoll });
    registry.apply([deviceConfig(), other('m2')]);
    expect(registry.pollAll()).toEqual([DEVICE_ID]);
    expect(polled).toEqual([DEVICE_ID, 'm2']);
  });
});

describe('DeviceRegistry: the usual interval of a meter in its live state', () => {
  it('publishes the learnt interval; retained replays and broker outages do not count', () => {
    const { registry, at, live } = setup();
    registry.apply([deviceConfig()]); // message_timeout_s 300
    const alive = (ms: number, meta?: { retained: boolean }) => {
      at(ms);
      registry.input(DEVICE_ID, { kind: 'alive' }, meta);
    };
    alive(0);
    expect(registry.liveState(DEVICE_ID)?.expected_interval_s).toBe(300); // nothing learnt yet
    for (let t = 90_000; t <= 900_000; t += 90_000) alive(t);
    expect(registry.liveState(DEVICE_ID)?.expected_interval_s).toBe(90);
    // A retained message at 200 s after the last one, then 250 s across a broker outage.
    alive(1_100_000, { retained: true });
    registry.setBrokerConnected(false);
    at(1_300_000);
    registry.setBrokerConnected(true);
    alive(1_350_000);
    alive(1_440_000);
    expect(registry.liveState(DEVICE_ID)?.expected_interval_s).toBe(90);
    // Pushed with every live-state notification too (here: the device's first state change).
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 500, energy_wh: null });
    expect(live.at(-1)?.expected_interval_s).toBe(90);
    const errors: unknown[] = [];
    validateSchema(DeviceLiveState, live.at(-1), '', errors as never);
    expect(errors).toEqual([]);
  });
});
