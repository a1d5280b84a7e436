/**
 * The simulator's badge readers (issue 16): a PN532 on a simulated Tasmota plug and an ESPHome
 * text sensor publish what the real ones do, on demand (`presentCard`) or at simulated seconds
 * (`presentations`, CLI `--present`), and the worker's intake reads them as cards (embedded broker,
 * manual clock).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, USAGE } from '../../../scripts/sim/args.ts';
import { Simulator } from '../../../scripts/sim/simulator.ts';
import { type ConnectionEvent, MqttConnection } from '../../src/mqtt/client.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import { Recorder } from './helpers/wait.ts';

describe('simulated badge readers', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('parses --readers and --present, refusing what it cannot run', () => {
    expect(USAGE).toContain('--present');
    const cli = parseCli([
      '--readers',
      'tasmota-pn532,esphome-reader',
      '--present',
      '0:E9F35959@30',
      '--present',
      '1:74-10-37-94@0',
    ]);
    expect(cli).toMatchObject({
      kind: 'run',
      options: {
        readers: ['tasmota-pn532', 'esphome-reader'],
        presentations: [
          { reader: 0, uid: 'E9F35959', at_s: 30 },
          { reader: 1, uid: '74-10-37-94', at_s: 0 },
        ],
      },
    });
    expect(parseCli(['--readers', 'nfc'])).toEqual({
      kind: 'error',
      message: "unknown reader kind 'nfc'",
    });
    expect(parseCli(['--readers', 'esphome-reader', '--present', 'E9F35959'])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('expected <reader>:<uid>@<second>'),
    });
    expect(parseCli(['--readers', 'esphome-reader', '--present', '1:A1@0'])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('no reader 1'),
    });
  });

  it('presents cards at their simulated second and on demand; the worker reads them', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const sim = new Simulator({
      brokerUrl: url,
      scenario: 'working',
      families: ['tasmota'],
      devices: 1,
      readers: ['tasmota-pn532', 'esphome-reader'],
      presentations: [
        { reader: 1, uid: '74-10-37-94', at_s: 0 },
        { reader: 0, uid: 'E9F35959', at_s: 5 },
      ],
      autoTick: false,
    });
    const [plug] = sim.deviceConfigs();
    expect(sim.readerConfigs()).toEqual([
      {
        reader_id: 'sim-pn532-0001',
        name: 'Simulated tasmota-pn532 sim-pn532-0001',
        parser_type: 'tasmota',
        topic: plug?.topic,
        machine_device_id: plug?.device_id,
      },
      {
        reader_id: 'sim-esphome-reader-0002',
        name: 'Simulated esphome-reader sim-esphome-reader-0002',
        parser_type: 'generic_json',
        topic: 'sim-esphome-reader-0002/text_sensor/badge/state',
        machine_device_id: plug?.device_id,
      },
    ]);
    const cards = new Recorder<[string, string]>();
    const ingest = new Ingest({
      onInput: () => undefined,
      onCard: (id, card) => cards.push([id, card.card_id]),
    });
    const events = new Recorder<ConnectionEvent>();
    const connection = new MqttConnection({
      broker: { url },
      onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
      onEvent: events.push,
    });
    cleanup.push(() => connection.stop());
    ingest.setDevices(sim.deviceConfigs());
    connection.setSubscriptions(ingest.setBadgeReaders(sim.readerConfigs()));
    connection.start();
    await events.waitFor((e) => e.type === 'ready', 'worker subscribed');
    cleanup.push(() => sim.stop());
    await sim.start();
    await cards.waitFor(() => true, 'the card at 0 s');
    await sim.advance(6);
    await cards.waitFor(([id]) => id === 'sim-pn532-0001', 'the card at 5 s');
    await sim.presentCard(1, '04:A1:B2:C3');
    await cards.waitFor(([, card]) => card === '04A1B2C3', 'the card presented on demand');
    expect(cards.items).toEqual([
      ['sim-esphome-reader-0002', '74103794'],
      ['sim-pn532-0001', 'E9F35959'],
      ['sim-esphome-reader-0002', '04A1B2C3'],
    ]);
    expect(sim.stats().cards_presented).toBe(3);
    // The plug's meter read the PN532's SENSOR too, without a parse error.
    expect(ingest.stats().parse_errors).toBe(0);
    await expect(sim.presentCard(7, 'A1')).rejects.toThrow('no reader 7 (2 simulated)');
  });
});
