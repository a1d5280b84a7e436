import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ScriptedDataSource } from '../../src/data/fake/scripted-data-source.ts';
import { DashboardModel } from '../../src/model/dashboard-model.ts';
import { DashboardSync } from '../../src/model/dashboard-sync.ts';
import { iso, machine, SESSION, T0 } from '../helpers/machines.ts';

function setup(machines = [machine()]) {
  const source = new ScriptedDataSource(machines);
  const model = new DashboardModel(Date.now());
  const sync = new DashboardSync(source, model);
  return { source, model, sync };
}

const stateOf = (model: DashboardModel, id = 'shelly-lathe') => model.entries[id]?.machine.state;

describe('DashboardSync', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('loads the list, applies live updates and ticks every second', async () => {
    const { source, model, sync } = setup();
    await sync.start();
    expect(model.status).toBe('ready');
    source.push(
      machine({
        state: 'working',
        session_id: SESSION,
        session_started_at: iso(T0),
        changed_at: iso(T0),
      }),
    );
    expect(stateOf(model)).toBe('working');
    vi.advanceTimersByTime(5000);
    expect(model.nowMs).toBe(T0 + 5000);
    expect(model.groups()[0]?.machines[0]?.sessionS).toBe(5);
    sync.stop();
  });

  it('reloads the list when the live channel comes back after a drop', async () => {
    const { source, model, sync } = setup();
    await sync.start();
    source.setOnline(false);
    expect(model.online).toBe(false);
    // An update missed while offline: only a reload brings it.
    source.machines = [machine({ state: 'standby', changed_at: iso(T0 + 1000) })];
    source.setOnline(true);
    await vi.runOnlyPendingTimersAsync();
    expect(source.loadCount).toBe(2);
    expect(model.online).toBe(true);
    expect(stateOf(model)).toBe('standby');
    sync.stop();
  });

  it('applies updates received during a reload unless the list is newer', async () => {
    const { source, model, sync } = setup([machine({ changed_at: iso(T0) })]);
    const release = source.holdLoads();
    const started = sync.start();
    source.push(machine({ state: 'working', changed_at: iso(T0 + 2000) }));
    // This one is older than what the list will return for device b.
    source.machines.push(machine({ device_id: 'b', state: 'standby', changed_at: iso(T0 + 5000) }));
    source.push(machine({ device_id: 'b', state: 'idle', changed_at: iso(T0 + 4000) }));
    source.machines = source.machines.map((m) =>
      m.device_id === 'b'
        ? machine({ device_id: 'b', state: 'standby', changed_at: iso(T0 + 5000) })
        : m,
    );
    expect(model.status).toBe('loading');
    release();
    await started;
    expect(stateOf(model)).toBe('working');
    expect(stateOf(model, 'b')).toBe('standby');
    sync.stop();
  });

  it('retries a failed load with backoff and then shows the machines', async () => {
    const { source, model, sync } = setup();
    source.failNextLoads(2);
    await sync.start();
    expect(model.status).toBe('error');
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.loadCount).toBe(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(source.loadCount).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.loadCount).toBe(3);
    expect(model.status).toBe('ready');
    sync.stop();
  });

  it('reloads when the source asks for it', async () => {
    const { source, sync } = setup();
    await sync.start();
    source.requestReload();
    await vi.runOnlyPendingTimersAsync();
    expect(source.loadCount).toBe(2);
    sync.stop();
  });

  it('releases every listener and timer on stop and cannot be restarted', async () => {
    const { source, model, sync } = setup();
    await sync.start();
    sync.stop();
    expect(source.listenerCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    source.push(machine({ state: 'working', changed_at: iso(T0 + 1) }));
    expect(stateOf(model)).toBe('idle');
    await expect(sync.start()).rejects.toThrow('cannot be restarted');
  });
});
