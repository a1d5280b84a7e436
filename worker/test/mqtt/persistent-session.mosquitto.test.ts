/**
 * Issue 13 finding 9 against a real mosquitto (Debian's, a child process on its own port, with the
 * dev stack's queue settings; the system broker's config does not queue QoS 0 for absent clients): what meters publish while the worker is away
 * reaches it when it returns, in order and with the device's own time where the payload has one;
 * a stale subscription the broker kept is dropped; and a restarted worker polls every meter, so a
 * session left `working` ends as soon as the meter says 0 W (not after the silence timeout).
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERSISTENT_SESSION_SETTINGS } from '../../../scripts/dev/mosquitto.ts';
import { Mosquitto, requireBinaries } from '../../../scripts/lib/mosquitto.ts';
import { DeviceRegistry, MemoryDeviceStore } from '../../src/devices/registry.ts';
import { brokerEventsTo } from '../../src/mqtt/broker-events.ts';
import { type ConnectionEvent, MqttConnection } from '../../src/mqtt/client.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import { BASE_MS, silentLog, TestClock } from '../devices/harness.ts';
import { device } from './helpers/devices.ts';
import { Recorder } from './helpers/wait.ts';
import { answer, FAST_RECONNECT, perTest } from './helpers/worker.ts';

/** The dev stack's settings (the same as deploy/mosquitto/mosquitto.conf, which check-config.sh checks). */
const QUEUE_SETTINGS = [...PERSISTENT_SESSION_SETTINGS];
const PLUG = device('plug', 'shelly_gen2', 'shellyplus1pm-a8032ab1');
const DRILL = device('drill', 'shelly_gen1', 'shellyplug-s-drill');
const OLD = device('old', 'shelly_gen1', 'shellyplug-s-old');
const SAW = device('saw', 'tasmota', 'tasmota_saw');
const CLIENT_ID = 'wiot-test-persistent';

const notify = (ts: number, apower: number) =>
  JSON.stringify({ method: 'NotifyStatus', params: { ts, 'switch:0': { id: 0, apower } } });

describe('persistent MQTT session (mosquitto child process)', () => {
  const { cleanup, meter, side } = perTest();
  beforeAll(() => requireBinaries());

  async function broker(): Promise<Mosquitto> {
    const m = new Mosquitto({ extra: QUEUE_SETTINGS });
    cleanup.push(() => m.dispose());
    return m.start();
  }
  /** The worker's MQTT side with the fixed client id; returns once its subscriptions are answered. */
  async function worker(url: string, devices = [PLUG, DRILL]) {
    const ws = side({ url, ...FAST_RECONNECT }, devices, undefined, {
      defaultClientId: CLIENT_ID,
    });
    ws.connection.start();
    return ws;
  }

  it('delivers what meters published while the worker was away, in order, with their own time', async () => {
    const m = await broker();
    const first = await worker(m.url);
    await first.events.waitFor((e) => e.type === 'subscribed', 'first connection subscribed');
    await first.connection.stop();

    const plug = await meter(m.url);
    await plug.publishAsync('shellyplus1pm-a8032ab1/events/rpc', notify(1_700_000_000.25, 800));
    await plug.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '55');
    await plug.publishAsync('shellyplus1pm-a8032ab1/events/rpc', notify(1_700_000_004.5, 0));
    // QoS 1: its PUBACK says the broker has handled (queued) everything published before it.
    await plug.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '0', { qos: 1 });

    const back = await worker(m.url);
    await back.inputs.waitFor(
      (d) => d.deviceId === 'drill' && d.input.kind === 'reading' && d.input.power_w === 0,
      'the last queued reading',
    );
    expect(back.events.items.find((e) => e.type === 'connected')).toMatchObject({
      session_present: true,
    });
    expect(back.inputs.items.filter((d) => !d.retained).map((d) => [d.deviceId, d.input])).toEqual([
      ['plug', { kind: 'reading', power_w: 800, energy_wh: null, at: 1_700_000_000_250 }],
      ['drill', { kind: 'reading', power_w: 55, energy_wh: null }],
      ['plug', { kind: 'reading', power_w: 0, energy_wh: null, at: 1_700_000_004_500 }],
      ['drill', { kind: 'reading', power_w: 0, energy_wh: null }],
    ]);
  });

  it('decodes the PUBLISHes itself, in order, and acknowledges QoS 1: a resumed session gets none again', async () => {
    const m = await broker();
    const first = await worker(m.url, [DRILL]);
    await first.events.waitFor((e) => e.type === 'ready', 'first connection ready');
    const plug = await meter(m.url);
    const topic = 'shellies/shellyplug-s-drill/relay/0/power';
    const sent = Array.from({ length: 60 }, (_, i) => i + 1);
    await Promise.all(sent.map((w) => plug.publishAsync(topic, String(w), { qos: w % 2 ? 1 : 0 })));
    const powers = (s: typeof first) =>
      s.inputs.items.map((d) => (d.input.kind === 'reading' ? d.input.power_w : null));
    await first.inputs.waitFor(() => first.inputs.items.length === 60, 'all 60 readings');
    // The broker keeps each QoS's order (QoS 1 may wait for the in-flight window, QoS 0 does not).
    const odd = (w: number | null) => (w ?? 0) % 2 === 1;
    expect(powers(first).filter(odd)).toEqual(sent.filter(odd));
    expect(powers(first).filter((w) => !odd(w))).toEqual(sent.filter((w) => !odd(w)));
    // The worker read them, not mqtt.js (which would have acknowledged them itself).
    expect(first.connection.inboundCounts().decoded).toBe(60);
    await first.connection.stop();

    // Unacknowledged QoS 1 messages the broker would send again to the resumed session.
    await plug.publishAsync(topic, '99', { qos: 1 });
    const second = await worker(m.url, [DRILL]);
    await second.inputs.waitFor(
      (d) => d.input.kind === 'reading' && d.input.power_w === 99,
      'the one queued reading',
    );
    await second.events.waitFor((e) => e.type === 'ready', 'second connection ready');
    expect(second.events.items.find((e) => e.type === 'connected')).toMatchObject({
      session_present: true,
    });
    expect(powers(second)).toEqual([99]);
  });

  it('unsubscribes a topic the broker kept for a device removed while the worker was down', async () => {
    const m = await broker();
    const first = await worker(m.url, [DRILL, OLD]);
    await first.events.waitFor((e) => e.type === 'subscribed', 'first connection subscribed');
    await first.connection.stop();
    const plug = await meter(m.url);
    await plug.publishAsync('shellies/shellyplug-s-old/relay/0/power', '10', { qos: 1 });

    const second = await worker(m.url, [DRILL]);
    await second.events.waitFor(
      (e) =>
        e.type === 'stale_unsubscribed' && e.topic === 'shellies/shellyplug-s-old/relay/0/power',
      'the stale topic unsubscribed',
    );
    await second.events.waitFor((e) => e.type === 'subscribed', 'second connection subscribed');
    expect(second.ingest.stats().unknown_topic).toBe(0);
    await second.connection.stop();

    // The broker no longer holds it: nothing of the old device is queued for the next start.
    await plug.publishAsync('shellies/shellyplug-s-old/relay/0/power', '11', { qos: 1 });
    await plug.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '12', { qos: 1 });
    const third = await worker(m.url, [DRILL]);
    await third.inputs.waitFor(
      (d) => d.input.kind === 'reading' && d.input.power_w === 12,
      'the queued drill reading',
    );
    expect(third.events.items.filter((e) => e.type === 'stale_unsubscribed')).toEqual([]);
  });

  it('discards the old session on a broker switched to (no days-old queued readings)', async () => {
    const a = await broker();
    const b = await broker();
    const earlier = await worker(b.url, [DRILL]);
    await earlier.events.waitFor((e) => e.type === 'subscribed', 'subscribed on b');
    await earlier.connection.stop();
    const plug = await meter(b.url);
    await plug.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '77', { qos: 1 });

    const w = await worker(a.url, [DRILL]);
    await w.events.waitFor((e) => e.type === 'ready', 'ready on a');
    w.connection.setBroker({ url: b.url, ...FAST_RECONNECT });
    await w.events.waitFor((e) => e.type === 'ready' && e.url === b.url, 'ready on b');
    await plug.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '78', { qos: 1 });
    await w.inputs.waitFor((d) => d.input.kind === 'reading' && d.input.power_w === 78, '78 W');
    const powers = w.inputs.items.map((d) => (d.input.kind === 'reading' ? d.input.power_w : null));
    expect(powers).toEqual([78]);
  });

  it('polls every meter after a restart: a session left working ends when the meter reads 0 W', async () => {
    const m = await broker();
    const store = new MemoryDeviceStore();
    const config = SAW;
    const { start_debounce_s, stop_debounce_s, message_timeout_s } = config.session_config;

    // Before the restart: 800 W long enough to confirm a working session, then the worker stops.
    const before = new TestClock(BASE_MS);
    const r1 = registry(store, before);
    r1.apply([config]);
    r1.input('saw', { kind: 'reading', power_w: 800, energy_wh: 1500 });
    before.advanceTo(BASE_MS + (start_debounce_s + 1) * 1000);
    expect(types(store.events)).toContain('session_started');
    r1.stop({ closeSessions: false });

    // The saw stopped while the worker was down; at steady 0 W a Tasmota meter is silent until
    // its TelePeriod, but it answers `STATUS 8`.
    const saw = await meter(m.url);
    await saw.subscribeAsync('cmnd/tasmota_saw/STATUS');
    saw.on('message', (topic) => {
      if (topic !== 'cmnd/tasmota_saw/STATUS') return;
      const reply = {
        StatusSNS: { Time: '2026-01-05T08:01:00', ENERGY: { Power: 0, Total: 1.6 } },
      };
      answer(saw, 'stat/tasmota_saw/STATUS8', JSON.stringify(reply));
    });

    const restartAt = BASE_MS + 60_000;
    const after = new TestClock(restartAt);
    const live = new Recorder<number | null>();
    // The registry's polls go out through the connection, as in app.ts.
    const poll = (id: string) => {
      const request = ingest.pollRequest(id);
      if (request) void connection.publish(request.topic, request.payload);
      return request !== null;
    };
    const r2 = registry(store, after, (s) => live.push(s.power_w), poll);
    r2.apply([config]);
    const ingest = new Ingest({ onInput: (id, input, meta) => r2.input(id, input, meta) });
    const connection = new MqttConnection({
      broker: { url: m.url, ...FAST_RECONNECT },
      onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
      onEvent: brokerEventsTo(r2),
    });
    cleanup.push(() => connection.stop());
    connection.setSubscriptions(ingest.setDevices([config]));
    connection.start();

    await live.waitFor((power) => power === 0, 'the poll answer: 0 W');
    after.advanceTo(restartAt + stop_debounce_s * 1000);
    const stopped = store.events.find((e) => e.type === 'session_stopped');
    expect(stopped?.payload).toMatchObject({ reason: 'power_off' });
    // The job ended when the poll answered at the restart, not after the silence timeout.
    expect(stopped?.payload.ended_at).toBe(new Date(restartAt).toISOString());
    expect(stop_debounce_s).toBeLessThan(message_timeout_s);
    r2.stop({ closeSessions: false });
  });

  it('replays what the meter did during a restart at its own times: a drop, then a whole job', async () => {
    const m = await broker();
    const first = await worker(m.url, [PLUG]);
    await first.events.waitFor((e) => e.type === 'subscribed', 'the persistent session subscribed');
    await first.connection.stop();
    const store = new MemoryDeviceStore();
    const { start_debounce_s, stop_debounce_s } = PLUG.session_config;

    // Before the restart: a working session (confirmed at 10 s), last reading at 60 s.
    const before = new TestClock(BASE_MS);
    const r1 = registry(store, before);
    r1.apply([PLUG]);
    r1.input('plug', { kind: 'reading', power_w: 800, energy_wh: null });
    before.advanceTo(BASE_MS + 60_000);
    r1.input('plug', { kind: 'reading', power_w: 800, energy_wh: null });
    r1.stop({ closeSessions: false });

    // While the worker is down the meter reports, with its own time: 0 W at T1, a job T2..T3.
    const t1 = BASE_MS + 120_000;
    const t2 = BASE_MS + 300_000;
    const t3 = BASE_MS + 600_000;
    const restartAt = BASE_MS + 900_000;
    expect(t2 - t1).toBeGreaterThan(stop_debounce_s * 1000);
    expect(t3 - t2).toBeGreaterThan(start_debounce_s * 1000);
    const plug = await meter(m.url);
    await plug.publishAsync('shellyplus1pm-a8032ab1/events/rpc', notify(t1 / 1000, 0));
    await plug.publishAsync('shellyplus1pm-a8032ab1/events/rpc', notify(t2 / 1000, 900));
    await plug.publishAsync('shellyplus1pm-a8032ab1/events/rpc', notify(t3 / 1000, 0), { qos: 1 });

    // The restart, wired as app.ts: a registry holding the backlog, the persistent client.
    const after = new TestClock(restartAt);
    const r2 = registry(store, after, undefined, undefined, true);
    r2.apply([PLUG]);
    const delivered = new Recorder<number>();
    const ingest = new Ingest({
      onInput: (id, input, meta) => {
        r2.input(id, input, meta);
        if (input.kind === 'reading') delivered.push(input.power_w);
      },
    });
    const events = new Recorder<ConnectionEvent>();
    const toRegistry = brokerEventsTo(r2);
    const connection = new MqttConnection({
      broker: { url: m.url, ...FAST_RECONNECT },
      onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
      onEvent: (event) => {
        toRegistry(event);
        events.push(event);
      },
      defaultClientId: CLIENT_ID,
    });
    cleanup.push(() => connection.stop());
    connection.setSubscriptions(ingest.setDevices([PLUG]));
    connection.start();
    await events.waitFor((e) => e.type === 'ready', 'the subscriptions answered');
    expect(delivered.items).toEqual([0, 900, 0]);
    // Past any debounce the restart itself would have started: nothing changes any more.
    after.advanceTo(restartAt + stop_debounce_s * 1000);

    const sessions = store.events
      .filter((e) => e.type === 'session_started' || e.type === 'session_stopped')
      .map((e) => {
        const p = e.payload as { session_id: string; started_at: string; ended_at?: string };
        const ended = 'reason' in e.payload ? [p.ended_at, e.payload.reason] : [];
        return [e.type, p.session_id, p.started_at, ...ended];
      });
    const iso = (t: number) => new Date(t).toISOString();
    const [first_, second] = [sessions[0]?.[1], sessions[2]?.[1]];
    expect(sessions).toEqual([
      ['session_started', first_, iso(BASE_MS)],
      ['session_stopped', first_, iso(BASE_MS), iso(t1), 'power_off'],
      ['session_started', second, iso(t2)],
      ['session_stopped', second, iso(t2), iso(t3), 'power_off'],
    ]);
    expect(second).not.toBe(first_);
    // Session 2's heartbeat came due while it was stopping (as it would have live).
    expect(types(store.events)).toEqual([
      'session_started',
      'session_stopped',
      'session_started',
      'session_heartbeat',
      'session_stopped',
    ]);
    r2.stop({ closeSessions: false });
  });
});

const types = (events: WorkshopEvent[]) => events.map((e) => e.type);

function registry(
  store: MemoryDeviceStore,
  clock: TestClock,
  onLive?: (s: { power_w: number | null }) => void,
  onPoll?: (id: string) => boolean,
  backlog = false,
): DeviceRegistry {
  return new DeviceRegistry({
    backlog,
    workerUid: 'worker-persistent',
    store,
    clock,
    xstateClock: clock,
    log: silentLog(),
    ...(onLive ? { onLiveState: onLive } : {}),
    ...(onPoll ? { onPoll } : {}),
  });
}
