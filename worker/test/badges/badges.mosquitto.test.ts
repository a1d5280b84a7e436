/**
 * Badge check-in over a real mosquitto (issue 16). The simulator's PN532 reader on a simulated
 * Tasmota plug publishes on the plug's own `tele/<t>/SENSOR`: one subscription feeds the meter and
 * the reader. Each presentation lands in the real SQLite outbox as exactly one `badge_presented`
 * event (normalized card id, the paired machine); a repeat within the window adds nothing, a read
 * after it adds a second event (the window runs on a simulated clock: no sleeping). Then the
 * whole worker (App): readers added and removed by a live config apply, counted in its health.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerConfig, WorkshopEvent } from '@workshop-iot/shared';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto, requireBinaries } from '../../../scripts/lib/mosquitto.ts';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { Simulator } from '../../../scripts/sim/simulator.ts';
import { App } from '../../src/app.ts';
import { BadgeReaders, DEDUPE_WINDOW_MS } from '../../src/badges/badge-readers.ts';
import { DeviceRegistry } from '../../src/devices/registry.ts';
import type { DeviceInput } from '../../src/devices/types.ts';
import { type ConnectionEvent, MqttConnection } from '../../src/mqtt/client.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import { Outbox } from '../../src/outbox/outbox.ts';
import { BASE_MS, silentLog, TestClock } from '../devices/harness.ts';
import { captureLog } from '../helpers/log.ts';
import { Recorder } from '../mqtt/helpers/wait.ts';
import { FAST_RECONNECT } from '../mqtt/helpers/worker.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function mosquitto(): Promise<Mosquitto> {
  const broker = new Mosquitto();
  cleanup.push(() => broker.dispose());
  await broker.start();
  return broker;
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'badges-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function simulator(brokerUrl: string): Promise<Simulator> {
  const sim = new Simulator({
    brokerUrl,
    scenario: 'working',
    families: ['tasmota'],
    devices: 1,
    readers: ['tasmota-pn532', 'esphome-reader'],
    prefix: 'badge',
    autoTick: false,
  });
  await sim.start();
  cleanup.push(() => sim.stop());
  return sim;
}

const badgeEvents = (outbox: Outbox): WorkshopEvent[] => {
  outbox.flush();
  return outbox
    .peek(10_000)
    .filter((p) => p.type === 'badge_presented')
    .map((p) => p.event);
};

describe('badge check-in over a real mosquitto', () => {
  beforeAll(() => requireBinaries());

  it('a card on a PN532 of a Tasmota plug: one event; a repeat in the window: still one; after it: two', async () => {
    const broker = await mosquitto();
    const sim = await simulator(broker.url);
    const [plug] = sim.deviceConfigs();
    const [pn532] = sim.readerConfigs();
    if (!plug || !pn532) throw new Error('the simulator has a plug and a reader');
    // The reader shares the plug's topic: the meter and the reader read one SENSOR.
    expect(pn532).toMatchObject({ parser_type: 'tasmota', topic: plug.topic });

    const outbox = new Outbox({ dir: tempDir(), log: silentLog(), groupCommit: false });
    cleanup.push(() => outbox.close());
    const clock = new TestClock(BASE_MS);
    const registry = new DeviceRegistry({
      workerUid: 'w-badge',
      store: outbox,
      clock,
      xstateClock: clock,
      log: silentLog(),
    });
    cleanup.push(() => registry.stop({ closeSessions: false }));
    registry.apply([plug]);
    const badges = new BadgeReaders({
      workerUid: 'w-badge',
      store: outbox,
      clock,
      log: silentLog(),
    });
    badges.apply([pn532]);
    const inputs = new Recorder<[string, DeviceInput]>();
    const reads = new Recorder<string>();
    const ingest = new Ingest({
      onInput: (id, input, meta) => {
        registry.input(id, input, meta);
        inputs.push([id, input]);
      },
      onCard: (id, card) => {
        badges.present(id, card);
        reads.push(card.card_id);
      },
    });
    const events = new Recorder<ConnectionEvent>();
    const connection = new MqttConnection({
      broker: { url: broker.url, ...FAST_RECONNECT },
      onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
      onEvent: events.push,
    });
    cleanup.push(() => connection.stop());
    ingest.setDevices([plug]);
    connection.setSubscriptions(ingest.setBadgeReaders([pn532]));
    connection.start();
    await events.waitFor((e) => e.type === 'ready', 'subscriptions answered');

    const present = async (uid: string) => {
      const read = reads.next(() => true, `the read of ${uid}`);
      await sim.presentCard(0, uid);
      await read;
    };
    await present('E9F35959');
    const first = badgeEvents(outbox);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      type: 'badge_presented',
      device_id: pn532.reader_id,
      worker_uid: 'w-badge',
      seq: 1,
      occurred_at: new Date(BASE_MS).toISOString(),
      payload: { card_id: 'E9F35959', machine_device_id: plug.device_id },
    });
    // The same message reached the plug's meter: a SENSOR without ENERGY is its sign of life.
    expect(inputs.items).toContainEqual([plug.device_id, { kind: 'alive' }]);

    clock.advanceTo(BASE_MS + DEDUPE_WINDOW_MS - 1);
    await present('E9F35959');
    expect(badgeEvents(outbox)).toHaveLength(1);

    clock.advanceTo(BASE_MS + 2 * DEDUPE_WINDOW_MS);
    await present('E9F35959');
    const all = badgeEvents(outbox);
    expect(all.map((e) => [e.seq, e.payload])).toEqual([
      [1, { card_id: 'E9F35959', machine_device_id: plug.device_id }],
      [2, { card_id: 'E9F35959', machine_device_id: plug.device_id }],
    ]);
    expect(all[1]?.occurred_at).toBe(new Date(BASE_MS + 2 * DEDUPE_WINDOW_MS).toISOString());
  });

  it('the worker: readers added by a live config apply emit, are counted in health, and stop when removed', async () => {
    const broker = await mosquitto();
    const sim = await simulator(broker.url);
    const devices = sim.deviceConfigs();
    const readers = sim.readerConfigs();
    const esphome = readers[1];
    if (!esphome) throw new Error('the simulator has an ESPHome reader');
    const dir = tempDir();
    const config = (version: number, badge_readers = readers): WorkerConfig => ({
      version,
      broker: { url: broker.url, reconnect_min_ms: 100, reconnect_max_ms: 400 },
      devices,
      badge_readers,
    });
    const settings = path.join(dir, 'settings.json');
    fs.writeFileSync(
      settings,
      JSON.stringify({
        worker_uid: 'badge-worker',
        data_dir: path.join(dir, 'data'),
        http: { port: 0, token: 'badge-admin-token-0123456789abcdef' },
        config: { ...config(1), badge_readers: [] },
      }),
    );
    const logged = captureLog('info');
    const app = await App.start({
      argv: ['--config', settings],
      env: {},
      cwd: dir,
      log: logged.log,
    });
    cleanup.push(() => app.stop());
    const subscribed = (n: number) => () => {
      const s = app.mqtt.status();
      return s.connected && s.subscriptions === n && s.subscribed === n;
    };
    const meterTopics = app.mqtt.status().subscriptions;
    await waitFor(subscribed(meterTopics), 'the meter topics subscribed');
    expect(app.health().badge_readers).toBe(0);

    const applied = await app.configs.apply(config(2), 'rpc');
    expect(applied.applied).toBe(true);
    expect(app.health().badge_readers).toBe(2);
    // The PN532 shares the plug's SENSOR topic: only the ESPHome reader adds a subscription.
    await waitFor(subscribed(meterTopics + 1), "the ESPHome reader's topic subscribed");

    await sim.presentCard(1, '74-10-37-94');
    await waitFor(() => badgeEvents(app.outbox).length === 1, 'the badge_presented event');
    expect(badgeEvents(app.outbox)[0]).toMatchObject({
      device_id: esphome.reader_id,
      seq: 1,
      payload: { card_id: '74103794', machine_device_id: esphome.machine_device_id },
    });

    await app.configs.apply(config(3, []), 'rpc');
    expect(app.health().badge_readers).toBe(0);
    await waitFor(subscribed(meterTopics), "the ESPHome reader's topic unsubscribed");
    // The PN532's read still reaches the plug's meter, but no reader is configured: no event.
    const plugId = devices[0]?.device_id ?? '';
    const before = app.ingest.stats().devices[plugId]?.messages ?? 0;
    await sim.presentCard(0, 'E9F35959');
    await waitFor(
      () => (app.ingest.stats().devices[plugId]?.messages ?? 0) > before,
      'the PN532 read at the meter',
    );
    expect(badgeEvents(app.outbox)).toHaveLength(1);
    expect(logged.lines.some((l) => l.msg === 'Badge readers applied')).toBe(true);
  });
});
