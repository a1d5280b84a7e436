import { describe, expect, it } from 'vitest';
import { DashboardModel } from '../../src/model/dashboard-model.ts';
import { iso, machine, SESSION, T0 } from '../helpers/machines.ts';

describe('DashboardModel', () => {
  it('ticks the session timer from the session start time', () => {
    const model = new DashboardModel(T0);
    const started = T0 - 65_000;
    model.replaceAll(
      [machine({ state: 'working', session_id: SESSION, session_started_at: iso(started) })],
      T0,
    );
    expect(model.groups()[0]?.machines[0]?.sessionS).toBe(65);
    model.tick(T0 + 3000);
    expect(model.groups()[0]?.machines[0]?.sessionS).toBe(68);
  });

  it('accrues today counters for the current state from the time the dict arrived', () => {
    const model = new DashboardModel(T0);
    model.replaceAll(
      [
        machine({ state: 'working', today_working_s: 100, today_standby_s: 50 }),
        machine({
          device_id: 'b',
          name: 'Mill',
          state: 'standby',
          today_working_s: 10,
          today_standby_s: 20,
        }),
      ],
      T0,
    );
    model.tick(T0 + 10_000);
    const [working, standby] = model.groups()[0]?.machines ?? [];
    expect([working?.todayWorkingS, working?.todayStandbyS]).toEqual([110, 50]);
    expect([standby?.todayWorkingS, standby?.todayStandbyS]).toEqual([10, 30]);
  });

  it('shows no session timer when the machine is idle or offline', () => {
    const model = new DashboardModel(T0);
    model.replaceAll([machine({ state: 'offline', session_id: null })], T0);
    expect(model.groups()[0]?.machines[0]?.sessionS).toBeNull();
  });

  it('drops an update older than the shown state and adds unknown devices', () => {
    const model = new DashboardModel(T0);
    model.replaceAll([machine({ state: 'working', changed_at: iso(T0) })], T0);
    expect(model.applyUpdate(machine({ state: 'idle', changed_at: iso(T0 - 1000) }), T0)).toBe(
      false,
    );
    expect(model.applyUpdate(machine({ state: 'standby', changed_at: iso(T0) }), T0)).toBe(true);
    model.applyUpdate(machine({ device_id: 'new', name: 'Saw' }), T0);
    expect(model.counts()).toMatchObject({ standby: 1, idle: 1, working: 0 });
  });

  it('filters by state and offers chips only for present states plus the selected one', () => {
    const model = new DashboardModel(T0);
    model.replaceAll(
      [
        machine({ device_id: 'a', state: 'working' }),
        machine({ device_id: 'b', state: 'offline' }),
      ],
      T0,
    );
    expect(model.filterOptions()).toEqual(['all', 'working', 'offline']);
    model.setFilter('idle');
    expect(model.filterOptions()).toEqual(['all', 'working', 'idle', 'offline']);
    expect(model.groups()).toEqual([]);
    model.setFilter('offline');
    expect(model.groups().flatMap((g) => g.machines.map((m) => m.key))).toEqual(['b']);
  });

  it('groups by area A-Z with machines without area last, names in natural order', () => {
    const model = new DashboardModel(T0);
    model.replaceAll(
      [
        machine({ device_id: 'a', name: 'Saw 10', area: 'Wood' }),
        machine({ device_id: 'b', name: 'Saw 9', area: 'Wood' }),
        machine({ device_id: 'c', name: 'Printer', area: null }),
        machine({ device_id: 'd', name: 'Lathe', area: 'Metal' }),
      ],
      T0,
    );
    expect(model.groups().map((g) => [g.area, g.machines.map((m) => m.name)])).toEqual([
      ['Metal', ['Lathe']],
      ['Wood', ['Saw 9', 'Saw 10']],
      [null, ['Printer']],
    ]);
    model.setGroupByArea(false);
    expect(model.groups().map((g) => g.machines.length)).toEqual([4]);
  });

  it('keeps the machines of an earlier load when a reload fails', () => {
    const model = new DashboardModel(T0);
    model.setLoadFailed();
    expect(model.status).toBe('error');
    model.replaceAll([machine()], T0);
    model.setLoadFailed();
    expect(model.status).toBe('ready');
  });
});
