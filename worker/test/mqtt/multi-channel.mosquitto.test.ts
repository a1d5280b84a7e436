/**
 * Issue 15 against a real mosquitto: two machines on channels 0 and 2 of ONE Shelly Pro 4PM. Each
 * gets exactly its own power and its own sessions, whether the meter reports through live
 * `status/switch:N` updates, NotifyStatus / NotifyFullStatus frames (every channel in one frame) or
 * the answer to our Shelly.GetStatus poll. On the old code channel 2 was never subscribed and every
 * frame carrying several switches was read as channel 0's power, for both machines.
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto, requireBinaries } from '../../../scripts/lib/mosquitto.ts';
import { DeviceRegistry, MemoryDeviceStore } from '../../src/devices/registry.ts';
import { type ConnectionEvent, MqttConnection } from '../../src/mqtt/client.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import { BASE_MS, silentLog, TestClock } from '../devices/harness.ts';
import { device } from './helpers/devices.ts';
import { Recorder } from './helpers/wait.ts';
import { answer, FAST_RECONNECT, perTest } from './helpers/worker.ts';
import { SHELLY_PRO4PM_SWITCH_STATUS } from './parsers/fixtures/real-payloads.ts';

const T = 'shellypro4pm-30c6f78400e8';
const SAW = { ...device('saw', 'shelly_gen2', T), channel: 0 };
const LATHE = { ...device('lathe', 'shelly_gen2', T), channel: 2 };

/**
 * One `switch:N` status in the shape a real Pro 4PM reports it (fixture SHELLY_PRO4PM_SWITCH_STATUS,
 * source URL there), with this step's id, power and counter.
 */
function switchStatus(id: number, apower: number, totalWh: number) {
  const status = JSON.parse(SHELLY_PRO4PM_SWITCH_STATUS) as Record<string, unknown>;
  return {
    ...status,
    id,
    output: apower > 0,
    apower,
    aenergy: { total: totalWh, by_minute: [0, 0, 0], minute_ts: 1752771000 },
  };
}
/** All four channels, as NotifyFullStatus params and the Shelly.GetStatus result carry them. */
function allChannels(
  watts: [number, number, number, number],
  totals: [number, number, number, number],
) {
  const components: Record<string, unknown> = {
    sys: { mac: '30C6F78400E8', restart_required: false, uptime: 1200 },
    'input:0': { id: 0, state: false },
    'input:2': { id: 2, state: true },
  };
  watts.forEach((w, i) => {
    components[`switch:${i}`] = switchStatus(i, w, totals[i] ?? 0);
  });
  return components;
}

type Reading = [string, number];

describe('two machines on one Pro 4PM (mosquitto child process)', () => {
  const { cleanup, meter } = perTest();
  beforeAll(() => requireBinaries());

  it('channels 0 and 2 each get their own power and sessions: live updates, notifications, poll answers', async () => {
    const broker = new Mosquitto();
    cleanup.push(() => broker.dispose());
    await broker.start();

    const clock = new TestClock(BASE_MS);
    const store = new MemoryDeviceStore();
    const readings = new Recorder<Reading>();
    const events = new Recorder<ConnectionEvent>();
    const registry = new DeviceRegistry({
      workerUid: 'worker-multi-channel',
      store,
      clock,
      xstateClock: clock,
      log: silentLog(),
    });
    registry.apply([SAW, LATHE]);
    const ingest = new Ingest({
      onInput: (id, input, meta) => {
        registry.input(id, input, meta);
        if (input.kind === 'reading') readings.push([id, input.power_w]);
      },
    });
    const connection = new MqttConnection({
      broker: { url: broker.url, ...FAST_RECONNECT },
      onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
      onEvent: events.push,
    });
    cleanup.push(() => connection.stop());
    const topics = ingest.setDevices([SAW, LATHE]);
    connection.setSubscriptions(topics);
    // One subscription per topic, fanned out: the shared events/rpc is one filter for both.
    expect(topics).toContain(`${T}/status/switch:0`);
    expect(topics).toContain(`${T}/status/switch:2`);
    expect([...topics].filter((t) => t === `${T}/events/rpc`)).toHaveLength(1);
    connection.start();
    await events.waitFor((e) => e.type === 'ready', 'every subscription answered');

    // The meter: answers Shelly.GetStatus on <src>/rpc with whatever its channels draw now.
    const pro4pm = await meter(broker.url);
    let now: { watts: [number, number, number, number]; totals: [number, number, number, number] } =
      {
        watts: [0, 0, 0, 0],
        totals: [5000, 0, 20000, 0],
      };
    await pro4pm.subscribeAsync(`${T}/rpc`);
    pro4pm.on('message', (_topic, payload) => {
      const request = JSON.parse(payload.toString()) as { id: number; src: string; method: string };
      if (request.method !== 'Shelly.GetStatus') return;
      const reply = {
        id: request.id,
        src: T,
        dst: request.src,
        result: allChannels(now.watts, now.totals),
      };
      answer(pro4pm, `${request.src}/rpc`, JSON.stringify(reply), { qos: 1 });
    });
    const waitFor = (id: string, w: number, what: string) =>
      readings.waitFor(([d, p]) => d === id && p === w, what);
    const since = (n: number) => readings.items.slice(n);

    // 1. Live update of channel 2 only: the lathe starts drawing 1200 W; the saw hears nothing.
    let mark = readings.items.length;
    await pro4pm.publishAsync(
      `${T}/status/switch:2`,
      JSON.stringify(switchStatus(2, 1200, 20000)),
      { qos: 1 },
    );
    await waitFor('lathe', 1200, 'lathe live 1200 W');
    expect(since(mark)).toEqual([['lathe', 1200]]);

    // 2. A NotifyStatus delta for switch:0: the saw starts at 900 W; the lathe is not touched.
    clock.advanceTo(BASE_MS + 5_000);
    mark = readings.items.length;
    const notify = {
      src: T,
      dst: `${T}/events`,
      method: 'NotifyStatus',
      params: { ts: (BASE_MS + 5_000) / 1000, 'switch:0': { id: 0, apower: 900 } },
    };
    await pro4pm.publishAsync(`${T}/events/rpc`, JSON.stringify(notify), { qos: 1 });
    await waitFor('saw', 900, 'saw NotifyStatus 900 W');
    // Same subscriber, same publisher: a lathe reading would have arrived before this one.
    await pro4pm.publishAsync(
      `${T}/status/switch:2`,
      JSON.stringify(switchStatus(2, 1201, 20001)),
      { qos: 1 },
    );
    await waitFor('lathe', 1201, 'lathe live 1201 W');
    expect(since(mark)).toEqual([
      ['saw', 900],
      ['lathe', 1201],
    ]);

    // Both confirmed: two sessions, one per machine, started at their own times.
    clock.advanceTo(BASE_MS + 30_000);
    const started = store.events.filter((e) => e.type === 'session_started');
    expect(
      started.map((e) => [e.device_id, (e.payload as { started_at: string }).started_at]),
    ).toEqual([
      ['lathe', new Date(BASE_MS).toISOString()],
      ['saw', new Date(BASE_MS + 5_000).toISOString()],
    ]);

    // 3. NotifyFullStatus (every channel): the saw reads switch:0 (0 W), the lathe switch:2 (1200 W).
    mark = readings.items.length;
    const full = {
      src: T,
      dst: `${T}/events`,
      method: 'NotifyFullStatus',
      params: {
        ts: (BASE_MS + 30_000) / 1000,
        ...allChannels([0, 15, 1200, 40], [5100, 7, 20100, 9]),
      },
    };
    await pro4pm.publishAsync(`${T}/events/rpc`, JSON.stringify(full), { qos: 1 });
    await readings.waitFor(() => since(mark).length >= 2, 'both machines read the full status');
    expect(since(mark).sort()).toEqual([
      ['lathe', 1200],
      ['saw', 0],
    ]);

    // 4. The poll (the worker asks after silence): the meter answers with every channel; the
    //    lathe has stopped, channel 1 and 3 draw power that belongs to no machine here.
    now = { watts: [0, 15, 0, 40], totals: [5100, 7, 20200, 9] };
    clock.advanceTo(BASE_MS + 60_000);
    mark = readings.items.length;
    const request = ingest.pollRequest('lathe');
    expect(request?.topic).toBe(`${T}/rpc`);
    await connection.publish(request?.topic ?? '', request?.payload ?? '');
    await readings.waitFor(() => since(mark).length >= 2, 'both machines read the poll answer');
    expect(since(mark).sort()).toEqual([
      ['lathe', 0],
      ['saw', 0],
    ]);

    // Both stop after their debounce: each machine exactly one session, its own.
    clock.advanceTo(BASE_MS + 60_000 + LATHE.session_config.stop_debounce_s * 1000 + 1000);
    const sessions = (id: string) =>
      store.events
        .filter(
          (e: WorkshopEvent) =>
            e.device_id === id && (e.type === 'session_started' || e.type === 'session_stopped'),
        )
        .map((e) => [e.type, (e.payload as { started_at: string }).started_at]);
    expect(sessions('lathe')).toEqual([
      ['session_started', new Date(BASE_MS).toISOString()],
      ['session_stopped', new Date(BASE_MS).toISOString()],
    ]);
    expect(sessions('saw')).toEqual([
      ['session_started', new Date(BASE_MS + 5_000).toISOString()],
      ['session_stopped', new Date(BASE_MS + 5_000).toISOString()],
    ]);
    // The saw's session ended at the full status (0 W at 30 s), the lathe's at the poll (60 s).
    const endedAt = (id: string) => {
      const stopped = store.events.find((e) => e.device_id === id && e.type === 'session_stopped');
      return (stopped?.payload as { ended_at?: string } | undefined)?.ended_at;
    };
    expect(endedAt('saw')).toBe(new Date(BASE_MS + 30_000).toISOString());
    expect(endedAt('lathe')).toBe(new Date(BASE_MS + 60_000).toISOString());
    registry.stop({ closeSessions: false });
  });
});
