import { describe, expect, it, vi } from 'vitest';
import type { DashboardMachine } from '../../src/data/machine.ts';
import { DEVICE_STATE_NOTIFICATION, OdooDataSource } from '../../src/data/odoo-data-source.ts';
import type { BusService, OrmService } from '../../src/data/odoo-services.ts';
import { machine } from '../helpers/machines.ts';

/** Stand-in for Odoo's bus_service: notification and connection listeners by type. */
function fakeBus() {
  const subs = new Map<string, Set<(payload: unknown, meta: { id: number }) => void>>();
  const events = new EventTarget();
  const bus: BusService = {
    subscribe: (type, cb) => {
      subs.set(type, (subs.get(type) ?? new Set()).add(cb));
    },
    unsubscribe: (type, cb) => {
      subs.get(type)?.delete(cb);
    },
    addEventListener: (type, cb) => events.addEventListener(type, cb as EventListener),
    removeEventListener: (type, cb) => events.removeEventListener(type, cb as EventListener),
    start: vi.fn(async () => {}),
  };
  const notify = (type: string, payload: unknown) => {
    for (const cb of subs.get(type) ?? []) cb(payload, { id: 1 });
  };
  const emit = (type: string) => events.dispatchEvent(new CustomEvent(type));
  return { bus, notify, emit, subs };
}

describe('OdooDataSource', () => {
  it('loads machines through workshop.device.dashboard_machines', async () => {
    const orm: OrmService = { call: vi.fn(async () => [machine()]) as OrmService['call'] };
    const source = new OdooDataSource(orm, fakeBus().bus);
    expect(await source.listMachines()).toHaveLength(1);
    expect(orm.call).toHaveBeenCalledWith('workshop.device', 'dashboard_machines', []);
  });

  it('passes workshop_iot/device_state notifications on until unsubscribed', () => {
    const { bus, notify, subs } = fakeBus();
    const source = new OdooDataSource({ call: vi.fn() }, bus);
    const received: DashboardMachine[] = [];
    const off = source.subscribe((m) => received.push(m));
    notify(DEVICE_STATE_NOTIFICATION, machine({ state: 'working' }));
    notify('some_other/type', machine({ state: 'idle' }));
    off();
    notify(DEVICE_STATE_NOTIFICATION, machine({ state: 'standby' }));
    expect(received.map((m) => m.state)).toEqual(['working']);
    expect(subs.get(DEVICE_STATE_NOTIFICATION)?.size).toBe(0);
    expect(bus.start).toHaveBeenCalled();
  });

  it('maps the bus disconnect/reconnect events to connection changes', () => {
    const { bus, emit } = fakeBus();
    const source = new OdooDataSource({ call: vi.fn() }, bus);
    const changes: boolean[] = [];
    const off = source.onConnectionChange((online) => changes.push(online));
    emit('connect');
    emit('disconnect');
    emit('reconnecting');
    emit('reconnect');
    off();
    emit('disconnect');
    expect(changes).toEqual([false, true]);
  });
});
