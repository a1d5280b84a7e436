/**
 * The simulator's meter kinds (scripts/sim/meters.ts) speak as the real devices do: what they
 * announce is what discovery reads, and they answer the worker's polls and discovery's questions on
 * the documented topics. Pure: no broker, no clock.
 */
import { describe, expect, it } from 'vitest';
import {
  EsphomeSensor,
  GEN2_MODELS,
  ShellyGen1ThreeEm,
  ShellyGen2Meter,
  TasmotaDualR3,
  Zigbee2mqttPlug,
} from '../../../scripts/sim/meters.ts';
import { parseShellyGen1 } from '../../src/discovery/shelly-gen1.ts';
import { parseShellyGen2, shellyGen2Requests } from '../../src/discovery/shelly-gen2.ts';
import { parseTasmota } from '../../src/discovery/tasmota.ts';
import { parseZigbee2mqtt } from '../../src/discovery/zigbee2mqtt.ts';
import { ShellyGen2Parser } from '../../src/mqtt/parsers/shelly-gen2.ts';
import { TasmotaParser } from '../../src/mqtt/parsers/tasmota.ts';

const buf = (s: string) => Buffer.from(s);

describe('simulated Shelly Gen2+ meters', () => {
  it('a Pro 4PM announces itself and answers GetDeviceInfo / GetStatus with its four switches', () => {
    const pro = new ShellyGen2Meter('shellypro4pm-a8032a000001', GEN2_MODELS.pro4pm);
    const first = pro.tick(0, 500, true, [500, 0, 1200, 30]);
    expect(first.map((m) => m.topic).slice(0, 2)).toEqual([
      'shellypro4pm-a8032a000001/online',
      'shellypro4pm-a8032a000001/events/rpc',
    ]);
    expect(first.filter((m) => m.topic.includes('/status/')).map((m) => m.topic)).toEqual(
      [0, 1, 2, 3].map((c) => `shellypro4pm-a8032a000001/status/switch:${c}`),
    );
    const [info, status] = shellyGen2Requests('shellypro4pm-a8032a000001').map((q) => {
      const [answer] = pro.command(q.topic, q.payload);
      expect(answer?.topic).toBe('shellypro4pm-a8032a000001/discovery/rpc');
      return parseShellyGen2(answer?.topic ?? '', buf(answer?.payload ?? ''));
    });
    expect(info?.kind === 'observed' && info.observations[0]?.model).toBe(
      'Pro4PM (SPSW-004PE16EU)',
    );
    expect(status?.kind === 'observed' && status.observations[0]?.channels?.length).toBe(4);
    expect(pro.status()['switch:2']).toMatchObject({ apower: 1200 });
  });

  it("answers the worker's poll (Shelly.GetStatus on <id>/rpc) on <src>/rpc, read as channel 0's power", () => {
    const plus = new ShellyGen2Meter('shellyplus2pm-a8032a000002', GEN2_MODELS.plus2pm);
    plus.tick(0, 800, true, [800, 40]);
    const parser = new ShellyGen2Parser();
    const config = plus.configs({
      standby_threshold_w: 10,
      working_threshold_w: 100,
      start_debounce_s: 10,
      stop_debounce_s: 30,
      message_timeout_s: 360,
      heartbeat_interval_s: 300,
    })[0]!;
    const poll = parser.poll(config);
    const [answer] = plus.command(poll.topic, poll.payload);
    expect(answer?.topic).toBe('shellyplus2pm-a8032a000002/poll/rpc');
    const parsed = parser.parse(config, answer?.topic ?? '', buf(answer?.payload ?? ''));
    expect(parsed).toMatchObject({ kind: 'input', input: { kind: 'reading', power_w: 800 } });
  });

  it('a Pro 3EM reports em:0 with the sum of its phases; an EM Gen3 two em1 clamps', () => {
    const em = new ShellyGen2Meter('shellypro3em-a8032a000003', GEN2_MODELS.pro3em);
    em.tick(0, 1000, true, [1000, 1100, 900]);
    expect(em.status()['em:0']).toMatchObject({
      a_act_power: 1000,
      b_act_power: 1100,
      c_act_power: 900,
      total_act_power: 3000,
    });
    const emg3 = new ShellyGen2Meter('shellyemg3-a8032a000004', GEN2_MODELS.emg3);
    emg3.tick(0, 300, true, [300, 0]);
    expect(Object.keys(emg3.status()).filter((k) => k.startsWith('em1'))).toEqual([
      'em1:0',
      'em1data:0',
      'em1:1',
      'em1data:1',
    ]);
  });
});

describe('other simulated meter kinds', () => {
  it('a Gen1 3EM announces on shellies/announce (also when asked) and answers update per emeter', () => {
    const em3 = new ShellyGen1ThreeEm('shellyem3-0005');
    const first = em3.tick(0, 400, true, [400, 500, 600]);
    const announce = first.find((m) => m.topic === 'shellies/announce');
    expect(parseShellyGen1(announce?.topic ?? '', buf(announce?.payload ?? '')).kind).toBe(
      'observed',
    );
    expect(em3.command('shellies/command', 'announce').map((m) => m.topic)).toContain(
      'shellies/announce',
    );
    const update = em3.command('shellies/shellyem3-0005/command', 'update');
    expect(
      update.filter((m) => m.topic.endsWith('/power')).map((m) => [m.topic, m.payload]),
    ).toEqual([
      ['shellies/shellyem3-0005/emeter/0/power', '400.00'],
      ['shellies/shellyem3-0005/emeter/1/power', '500.00'],
      ['shellies/shellyem3-0005/emeter/2/power', '600.00'],
    ]);
  });

  it('a Dual R3 publishes Tasmota discovery and answers STATUS 8 with ENERGY.Power as an array', () => {
    const dual = new TasmotaDualR3('dualr3-0006', '94B97E000006', 300);
    const first = dual.tick(0, 114, true, [114, 25]);
    const sensors = first.find((m) => m.topic === 'tasmota/discovery/94B97E000006/sensors');
    const r = parseTasmota(sensors?.topic ?? '', buf(sensors?.payload ?? ''));
    expect(r.kind === 'observed' && r.observations[0]?.channels?.length).toBe(2);
    const poll = new TasmotaParser().poll({
      device_id: 'dualr3-0006:1',
      name: 'x',
      parser_type: 'tasmota',
      topic: 'dualr3-0006',
      session_config: {
        standby_threshold_w: 10,
        working_threshold_w: 100,
        start_debounce_s: 10,
        stop_debounce_s: 30,
        message_timeout_s: 360,
        heartbeat_interval_s: 300,
      },
    });
    const [answer] = dual.command(poll.topic, poll.payload);
    expect(answer?.topic).toBe('stat/dualr3-0006/STATUS8');
    expect(JSON.parse(answer?.payload ?? '{}').StatusSNS.ENERGY.Power).toEqual([114, 25]);
  });

  it('a Zigbee2MQTT plug has a bridge/devices entry discovery reads and answers /get', () => {
    const plug = new Zigbee2mqttPlug('z2m-plug-0007', 'Saw Plug', '0x00158d0001000007');
    plug.tick(0, 60, true);
    const list = JSON.stringify([plug.bridgeEntry()]);
    const r = parseZigbee2mqtt('zigbee2mqtt/bridge/devices', buf(list));
    expect(r.kind === 'observed' && r.observations[0]?.topic).toBe('zigbee2mqtt/Saw Plug');
    expect(
      plug.command('zigbee2mqtt/Saw Plug/get').map((m) => JSON.parse(m.payload).power),
    ).toEqual([60]);
  });

  it('an ESPHome sensor publishes the bare value on <node>/sensor/power/state', () => {
    const node = new EsphomeSensor('esphome-0008', 'esphome-0008');
    expect(node.tick(0, 190, true)).toEqual([
      { topic: 'esphome-0008/status', payload: 'online', retain: true },
      { topic: 'esphome-0008/sensor/power/state', payload: '190.0' },
    ]);
  });
});
