/**
 * Badge readers' emission (issue 16) on a simulated clock: one `badge_presented` event per
 * presentation, committed atomically with the reader's seq; the repeat window; config apply adding,
 * changing and removing readers; the seq continuing across a restart and a removal.
 */
import { validate } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { BadgeReaders, DEDUPE_WINDOW_MS } from '../../src/badges/badge-readers.ts';
import { DeviceRegistry, MemoryDeviceStore } from '../../src/devices/registry.ts';
import { BASE_MS, silentLog, TestClock } from '../devices/harness.ts';
import { device, reader } from '../mqtt/helpers/devices.ts';

const DOOR = reader('reader-saw', 'tasmota', 'tasmota_4A72B7', 'saw');
const LASER = reader('reader-laser', 'generic_json', 'laser/text_sensor/card/state', 'laser');

function setup(store = new MemoryDeviceStore(), clock = new TestClock(BASE_MS)) {
  const readers = new BadgeReaders({ workerUid: 'w-badges', store, clock, log: silentLog() });
  return { readers, store, clock };
}

describe('BadgeReaders', () => {
  it('a presentation is one valid badge_presented event of the reader, with its own seq', () => {
    const { readers, store, clock } = setup();
    expect(readers.apply([DOOR, LASER])).toEqual({
      added: ['reader-saw', 'reader-laser'],
      updated: [],
      removed: [],
    });
    readers.present('reader-saw', { card_id: 'E9F35959' });
    clock.advanceTo(BASE_MS + 10_000);
    readers.present('reader-laser', { card_id: '74103794' });
    readers.present('reader-saw', { card_id: '0043202D' });
    expect(store.events.map((e) => [e.device_id, e.seq, e.type, e.payload])).toEqual([
      ['reader-saw', 1, 'badge_presented', { card_id: 'E9F35959', machine_device_id: 'saw' }],
      ['reader-laser', 1, 'badge_presented', { card_id: '74103794', machine_device_id: 'laser' }],
      ['reader-saw', 2, 'badge_presented', { card_id: '0043202D', machine_device_id: 'saw' }],
    ]);
    expect(store.events[0]?.occurred_at).toBe(new Date(BASE_MS).toISOString());
    expect(store.events[0]?.worker_uid).toBe('w-badges');
    for (const event of store.events) expect(validate('event', event)).toEqual([]);
    // Event and seq in one commit: the snapshot holds the seq of the event it came with.
    expect(JSON.parse(store.snapshots.get('reader-saw') ?? 'null')).toMatchObject({ seq: 2 });
    expect(store.commits).toBe(3);
  });

  it(`the same card within ${DEDUPE_WINDOW_MS} ms of its last read is one presentation; after the window, two`, () => {
    const { readers, store, clock } = setup();
    readers.apply([DOOR]);
    readers.present('reader-saw', { card_id: 'E9F35959' });
    clock.advanceTo(BASE_MS + DEDUPE_WINDOW_MS - 1);
    expect(readers.present('reader-saw', { card_id: 'E9F35959' })).toBeNull();
    // The window slides with each read: the card left on the reader stays one presentation.
    clock.advanceTo(BASE_MS + 2 * DEDUPE_WINDOW_MS - 2);
    expect(readers.present('reader-saw', { card_id: 'E9F35959' })).toBeNull();
    expect(store.events).toHaveLength(1);
    clock.advanceTo(BASE_MS + 3 * DEDUPE_WINDOW_MS - 2);
    readers.present('reader-saw', { card_id: 'E9F35959' });
    expect(store.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(readers.stats()).toEqual({ presentations: 2, repeats: 2 });
  });

  it('another card, or the same card on another reader, is a presentation at once', () => {
    const { readers, store } = setup();
    readers.apply([DOOR, LASER]);
    readers.present('reader-saw', { card_id: 'E9F35959' });
    readers.present('reader-saw', { card_id: '0043202D' });
    readers.present('reader-laser', { card_id: '0043202D' });
    readers.present('reader-saw', { card_id: 'E9F35959' });
    expect(store.events.map((e) => [e.device_id, e.payload])).toHaveLength(4);
  });

  it("the reader's own time dates the event, never later than now", () => {
    const { readers, store, clock } = setup();
    readers.apply([DOOR]);
    clock.advanceTo(BASE_MS + 60_000);
    readers.present('reader-saw', { card_id: 'A1', at: BASE_MS + 1_000 });
    readers.present('reader-saw', { card_id: 'B2', at: BASE_MS + 3_600_000 });
    expect(store.events.map((e) => e.occurred_at)).toEqual([
      new Date(BASE_MS + 1_000).toISOString(),
      new Date(BASE_MS + 60_000).toISOString(),
    ]);
  });

  it('config apply: a changed pairing applies to the next presentation; a removed reader emits nothing', () => {
    const { readers, store } = setup();
    readers.apply([DOOR]);
    readers.present('reader-saw', { card_id: 'A1' });
    expect(readers.apply([{ ...DOOR, machine_device_id: 'lathe' }, LASER])).toEqual({
      added: ['reader-laser'],
      updated: ['reader-saw'],
      removed: [],
    });
    readers.present('reader-saw', { card_id: 'B2' });
    expect(readers.apply([LASER])).toEqual({ added: [], updated: [], removed: ['reader-saw'] });
    expect(readers.size).toBe(1);
    expect(readers.present('reader-saw', { card_id: 'C3' })).toBeNull();
    expect(store.events.map((e) => e.payload)).toEqual([
      { card_id: 'A1', machine_device_id: 'saw' },
      { card_id: 'B2', machine_device_id: 'lathe' },
    ]);
  });

  it('the seq continues across a restart and a removal (same store), never restarting at 1', () => {
    const store = new MemoryDeviceStore();
    const first = setup(store).readers;
    first.apply([DOOR]);
    first.present('reader-saw', { card_id: 'A1' });
    first.apply([]);
    const restarted = setup(store).readers;
    restarted.apply([DOOR]);
    restarted.present('reader-saw', { card_id: 'A1' });
    expect(store.eventsOf('reader-saw').map((e) => e.seq)).toEqual([1, 2]);
  });

  it("a reader's seq is a tombstone to the device registry: a device later using the id continues it", () => {
    const { readers, store, clock } = setup();
    readers.apply([DOOR]);
    readers.present('reader-saw', { card_id: 'A1' });
    const registry = new DeviceRegistry({
      workerUid: 'w-badges',
      store,
      clock,
      xstateClock: clock,
      log: silentLog(),
    });
    registry.apply([device('reader-saw', 'tasmota')]);
    registry.input('reader-saw', { kind: 'reading', power_w: 500, energy_wh: null });
    clock.advanceTo(BASE_MS + 20_000);
    registry.input('reader-saw', { kind: 'reading', power_w: 500, energy_wh: null });
    const deviceEvents = store.eventsOf('reader-saw').filter((e) => e.type !== 'badge_presented');
    expect(deviceEvents[0]?.seq).toBe(2);
    registry.stop({ closeSessions: false });
  });

  it('a store that refuses the commit: nothing counted, the next read is a presentation again', () => {
    const store = new MemoryDeviceStore();
    let refuse = true;
    const flaky = {
      commit: (...args: Parameters<MemoryDeviceStore['commit']>) => {
        if (refuse) throw new Error('disk full');
        store.commit(...args);
      },
      loadSnapshot: (id: string) => store.loadSnapshot(id),
    };
    const readers = new BadgeReaders({
      workerUid: 'w',
      store: flaky,
      clock: new TestClock(BASE_MS),
      log: silentLog(),
    });
    readers.apply([DOOR]);
    expect(() => readers.present('reader-saw', { card_id: 'A1' })).toThrow('disk full');
    refuse = false;
    readers.present('reader-saw', { card_id: 'A1' });
    expect(store.events.map((e) => e.seq)).toEqual([1]);
  });
});
