import { describe, expect, it } from 'vitest';
import {
  DashboardModel,
  SILENCE_FACTOR,
  SILENCE_SLACK_S,
} from '../../src/model/dashboard-model.ts';
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

  it('tells "no machine at all" from "the filter hides them"', () => {
    const model = new DashboardModel(T0);
    expect(model.emptyState()).toBeNull(); // still loading
    model.replaceAll([], T0);
    expect(model.emptyState()).toBe('no-machines');
    model.setFilter('working');
    expect(model.emptyState()).toBe('no-machines'); // a filter never hides the first-machine help
    model.replaceAll([machine({ state: 'idle' })], T0);
    expect(model.emptyState()).toBe('no-match');
    model.setFilter('all');
    expect(model.emptyState()).toBeNull();
  });

  it('shows no power for a machine never heard from, whatever the sender put there', () => {
    const model = new DashboardModel(T0);
    model.replaceAll([machine({ state: 'unknown', power_w: 0, last_seen_at: null })], T0);
    const view = model.groups()[0]?.machines[0];
    expect(view?.powerW).toBeNull();
    expect(view?.lastSeenAt).toBeNull();
    expect(view?.silent).toBe(false);
  });
});

describe('DashboardModel: a meter that goes silent (issue 14, finding 7)', () => {
  // A standby session started 10 min before T0; the meter's last message at T0; usual interval
  // 60 s. The sender accounted the session up to T0 + 30 s (a report built 30 s after the last
  // message) and today's standby holds the same 30 s past it.
  const silentAfterS = SILENCE_FACTOR * 60 + SILENCE_SLACK_S;
  const standby = () =>
    machine({
      state: 'standby',
      session_id: SESSION,
      session_started_at: iso(T0 - 600_000),
      session_working_s: 0,
      session_standby_s: 630,
      today_standby_s: 1000,
      last_seen_at: iso(T0),
      changed_at: iso(T0 - 600_000),
      expected_interval_s: 60,
    });

  it('keeps counting while the meter is within its usual interval', () => {
    const model = new DashboardModel(T0);
    model.replaceAll([standby()], T0 + 30_000);
    model.tick(T0 + (silentAfterS - 1) * 1000);
    const view = model.groups()[0]?.machines[0];
    expect(view?.silent).toBe(false);
    expect(view?.sessionS).toBe(600 + silentAfterS - 1);
    expect(view?.todayStandbyS).toBe(1000 + silentAfterS - 1 - 30);
  });

  it('stops session and today time at the last message once silent, and resumes on news', () => {
    const model = new DashboardModel(T0);
    model.replaceAll([standby()], T0 + 30_000);
    model.tick(T0 + (silentAfterS + 1) * 1000);
    let view = model.groups()[0]?.machines[0];
    expect(view?.silent).toBe(true);
    expect(view?.sessionS).toBe(600); // start -> last message
    expect(view?.todayStandbyS).toBe(970); // the 30 s accounted past the last message come off
    model.tick(T0 + 3600_000);
    view = model.groups()[0]?.machines[0];
    expect([view?.sessionS, view?.todayStandbyS]).toEqual([600, 970]); // nothing grows
    // The meter speaks again: counting resumes from the fresh dict.
    const fresh = { ...standby(), last_seen_at: iso(T0 + 3600_000), changed_at: iso(T0) };
    model.applyUpdate(fresh, T0 + 3600_000);
    model.tick(T0 + 3605_000);
    view = model.groups()[0]?.machines[0];
    expect(view?.silent).toBe(false);
    expect(view?.sessionS).toBe(4205);
  });

  it('flags an idle meter too, but never an offline one or a sender without the interval', () => {
    const model = new DashboardModel(T0);
    model.replaceAll(
      [
        machine({ device_id: 'idle', state: 'idle', expected_interval_s: 300 }),
        machine({ device_id: 'offline', state: 'offline', expected_interval_s: 300 }),
        machine({ device_id: 'old-sender', state: 'idle' }),
      ],
      T0,
    );
    model.tick(T0 + (SILENCE_FACTOR * 300 + SILENCE_SLACK_S + 1) * 1000);
    const silent = Object.fromEntries(
      (model.groups()[0]?.machines ?? []).map((m) => [m.key, m.silent]),
    );
    expect(silent).toEqual({ idle: true, offline: false, 'old-sender': false });
  });
});
