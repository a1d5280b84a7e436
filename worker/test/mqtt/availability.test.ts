/**
 * MachineSummaries on a simulated clock, with a recording publisher in place of the broker (the
 * real broker is in availability.mosquitto.test.ts): a summary goes out when it changes (not for
 * `last_seen_at` alone), at most once per machine per interval with the latest state at the end of
 * it, is cleared with an empty retained payload when its machine leaves the config, and everything
 * (clears included) is sent again after a reconnect when the broker was unreachable.
 */
import type { DeviceConfig, DeviceLiveState } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { MachineSummaries } from '../../src/mqtt/availability.ts';
import { BASE_MS, TestClock } from '../devices/harness.ts';
import { device } from './helpers/devices.ts';

const PREFIX = 'workshop-iot/w1';
const INTERVAL_MS = 5000;

function live(device_id: string, patch: Partial<DeviceLiveState> = {}): DeviceLiveState {
  return {
    device_id,
    state: 'idle',
    power_w: 0,
    session_id: null,
    session_started_at: null,
    session_working_s: 0,
    session_standby_s: 0,
    last_seen_at: new Date(BASE_MS).toISOString(),
    changed_at: new Date(BASE_MS).toISOString(),
    ...patch,
  };
}

function setup(devices: DeviceConfig[]) {
  const clock = new TestClock(BASE_MS);
  const states = new Map<string, DeviceLiveState>();
  const sent: { topic: string; payload: string; retain: boolean }[] = [];
  let connected = true;
  const summaries = new MachineSummaries({
    prefix: PREFIX,
    minIntervalMs: INTERVAL_MS,
    clock,
    liveState: (id) => states.get(id),
    publish: async (topic, payload, opts) => {
      if (!connected) return false;
      sent.push({ topic, payload, retain: opts.retain });
      return true;
    },
  });
  for (const d of devices) states.set(d.device_id, live(d.device_id));
  summaries.setMachines(devices);
  const change = (id: string, patch: Partial<DeviceLiveState>) => {
    states.set(id, { ...(states.get(id) ?? live(id)), ...patch });
    summaries.changed(id);
  };
  const json = () =>
    sent.map((s) => ({ topic: s.topic, body: s.payload && JSON.parse(s.payload) }));
  return {
    clock,
    sent,
    json,
    summaries,
    change,
    setConnected: (v: boolean) => {
      connected = v;
    },
  };
}

/** Lets the publish promises settle (they resolve in a microtask). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('machine summaries', () => {
  it('publishes a retained summary per machine with exactly the public fields', () => {
    const { sent, json } = setup([{ ...device('saw', 'tasmota'), area: 'Wood shop' }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: `${PREFIX}/machines/saw`, retain: true });
    expect(json()[0]?.body).toEqual({
      device_id: 'saw',
      name: 'Machine saw',
      area: 'Wood shop',
      state: 'idle',
      power_w: 0,
      session_running: false,
      session_started_at: null,
      last_seen_at: new Date(BASE_MS).toISOString(),
      changed_at: new Date(BASE_MS).toISOString(),
    });
  });

  it('publishes on change, not for last_seen alone; at most once per interval, the latest at its end', () => {
    const { clock, sent, json, change } = setup([device('saw', 'tasmota')]);
    expect(sent).toHaveLength(1);
    clock.advanceTo(BASE_MS + 10_000);
    change('saw', { last_seen_at: new Date(BASE_MS + 10_000).toISOString() });
    expect(sent).toHaveLength(1); // nothing but last_seen changed
    change('saw', { state: 'starting', power_w: 480 });
    expect(sent).toHaveLength(2); // the interval since the last publish is over: at once
    clock.advanceTo(BASE_MS + 11_000);
    change('saw', { state: 'working', power_w: 500, session_id: 'x' });
    change('saw', { power_w: 510 });
    expect(sent).toHaveLength(2); // within the interval: held back
    clock.advanceTo(BASE_MS + 14_999);
    expect(sent).toHaveLength(2);
    clock.advanceTo(BASE_MS + 15_000);
    expect(sent).toHaveLength(3);
    expect(json()[2]?.body).toMatchObject({
      state: 'working',
      power_w: 510,
      session_running: true,
    });
    // No change since: the next interval sends nothing.
    clock.advanceTo(BASE_MS + 60_000);
    expect(sent).toHaveLength(3);
  });

  it('clears the retained summary of a removed machine (empty payload) and no longer publishes it', () => {
    const { clock, sent, summaries, change } = setup([
      device('saw', 'tasmota'),
      device('lathe', 'tasmota'),
    ]);
    clock.advanceTo(BASE_MS + 1000);
    change('lathe', { state: 'working' }); // pending at the end of lathe's interval
    summaries.setMachines([device('saw', 'tasmota')]);
    expect(sent.at(-1)).toEqual({ topic: `${PREFIX}/machines/lathe`, payload: '', retain: true });
    const count = sent.length;
    clock.advanceTo(BASE_MS + 60_000);
    change('lathe', { state: 'idle' });
    expect(sent.slice(count).filter((s) => s.topic.endsWith('/lathe'))).toEqual([]);
  });

  it('after a reconnect: every summary again, and the clears that could not be sent', async () => {
    const { sent, summaries, setConnected, change } = setup([
      device('saw', 'tasmota'),
      device('lathe', 'tasmota'),
    ]);
    setConnected(false);
    summaries.setMachines([device('saw', 'tasmota')]);
    change('saw', { state: 'offline' });
    await settle();
    const before = sent.length;
    setConnected(true);
    summaries.connected();
    await settle();
    const after = sent.slice(before);
    expect(after.map((s) => s.topic).sort()).toEqual([
      `${PREFIX}/machines/lathe`,
      `${PREFIX}/machines/saw`,
    ]);
    expect(after.find((s) => s.topic.endsWith('/lathe'))?.payload).toBe('');
    expect(JSON.parse(after.find((s) => s.topic.endsWith('/saw'))?.payload ?? '')).toMatchObject({
      state: 'offline',
    });
    // The clear went through: the next reconnect does not send it again.
    summaries.connected();
    expect(sent.slice(before + 2).map((s) => s.topic)).toEqual([`${PREFIX}/machines/saw`]);
  });
});
