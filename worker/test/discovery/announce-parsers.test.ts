/**
 * The announce parsers on real announcements (fixtures.ts, source URL beside each): what each one
 * learns about a meter, what it asks the device, and what it must ignore quietly.
 */
import { describe, expect, it } from 'vitest';
import { parseShellyGen1 } from '../../src/discovery/shelly-gen1.ts';
import { parseShellyGen2, shellyGen2Channels } from '../../src/discovery/shelly-gen2.ts';
import { parseTasmota } from '../../src/discovery/tasmota.ts';
import type { AnnounceResult, Observation } from '../../src/discovery/types.ts';
import { parseZigbee2mqtt } from '../../src/discovery/zigbee2mqtt.ts';
import * as F from './fixtures.ts';

const buf = (s: string) => Buffer.from(s, 'utf8');
const observations = (r: AnnounceResult): Observation[] => {
  expect(r.kind).toBe('observed');
  return r.kind === 'observed' ? r.observations : [];
};

describe('Shelly Gen1 shellies/announce', () => {
  it('reads a 3EM as one three-phase channel under shellies/<id> when its id starts with shellies/', () => {
    expect(observations(parseShellyGen1('shellies/announce', buf(F.GEN1_3EM_ANNOUNCE)))).toEqual([
      {
        family: 'shelly_gen1',
        device_key: 'shellies/shellyem3',
        parser_type: 'shelly_gen1',
        topic: 'shellies/shellies/shellyem3',
        model: 'Shelly 3EM (SHEM-3)',
        name: null,
        channels: [{ channel: 0, component: 'emeter/0-2', measures: 'three_phase', energy: true }],
      },
    ]);
  });

  it('ignores a Shelly 1 quietly: it has no power meter', () => {
    expect(parseShellyGen1('shellies/announce', buf(F.GEN1_SHELLY1_ANNOUNCE))).toEqual({
      kind: 'ignored',
    });
  });

  it("ignores a Gen2+ device's GetDeviceInfo republished there by Shelly's compatibility script", () => {
    expect(parseShellyGen1('shellies/announce', buf(F.GEN2_SCRIPT_ON_GEN1_ANNOUNCE)).kind).toBe(
      'ignored',
    );
  });

  it('reads a Shelly 2.5 in relay mode as two relays, and not at all in roller mode', () => {
    // The 3EM announcement's fields with the 2.5's model and mode (no real 2.5 announce at hand).
    const relay = {
      ...JSON.parse(F.GEN1_3EM_ANNOUNCE),
      id: 'shellyswitch25-1',
      model: 'SHSW-25',
      mode: 'relay',
    };
    const [obs] = observations(parseShellyGen1('shellies/announce', buf(JSON.stringify(relay))));
    expect(obs?.topic).toBe('shellyswitch25-1');
    expect(obs?.channels?.map((c) => c.component)).toEqual(['relay/0', 'relay/1']);
    const roller = JSON.stringify({ ...relay, mode: 'roller' });
    expect(parseShellyGen1('shellies/announce', buf(roller)).kind).toBe('ignored');
  });

  it('refuses a payload that is not an announcement, naming what is wrong', () => {
    expect(parseShellyGen1('shellies/announce', buf('announce'))).toEqual({
      kind: 'invalid',
      reason: 'payload is not JSON',
    });
    expect(parseShellyGen1('shellies/announce', buf('{"model":"SHEM-3"}'))).toEqual({
      kind: 'invalid',
      reason: 'announce without id',
    });
  });
});

describe('Shelly Gen2+', () => {
  it('answers <prefix>/online true with GetDeviceInfo and GetStatus, src <prefix>/discovery', () => {
    const r = parseShellyGen2('shellyplus2pm-Einfahrt/online', buf('true'));
    expect(r).toEqual({
      kind: 'observed',
      observations: [],
      requests: [
        {
          topic: 'shellyplus2pm-Einfahrt/rpc',
          payload:
            '{"id":1,"src":"shellyplus2pm-Einfahrt/discovery","method":"Shelly.GetDeviceInfo"}',
          key: 'shellyplus2pm-Einfahrt',
        },
        {
          topic: 'shellyplus2pm-Einfahrt/rpc',
          payload: '{"id":2,"src":"shellyplus2pm-Einfahrt/discovery","method":"Shelly.GetStatus"}',
          key: 'shellyplus2pm-Einfahrt',
        },
      ],
    });
    expect(parseShellyGen2('shellyplus2pm-Einfahrt/online', buf('false')).kind).toBe('ignored');
  });

  it('reads the model from a GetDeviceInfo answer, keyed by the device id, topic = the prefix', () => {
    const answer = F.rpcAnswer(
      1,
      'shelly3em63g3-redacted',
      'em/discovery',
      F.GEN3_3EM63_DEVICE_INFO,
    );
    expect(observations(parseShellyGen2('em/discovery/rpc', buf(answer)))).toEqual([
      {
        family: 'shelly_gen2',
        device_key: 'shelly3em63g3-redacted',
        parser_type: 'shelly_gen2',
        topic: 'em',
        model: 'S3EMG3 (S3EM-003CXCEU63)',
        name: null,
      },
    ]);
  });

  it('reads each metering component of a GetStatus answer as its channel', () => {
    const status = `{"switch:0":${F.PLUS2PM_SWITCH0_STATUS},"switch:1":${F.PLUS2PM_SWITCH0_STATUS.replace('"id":0', '"id":1')},"input:0":{"id":0,"state":false},"sys":{"uptime":10}}`;
    const answer = F.rpcAnswer(2, 'shellyplus2pm-3ce90e2f7c34', 'p/discovery', status);
    const [obs] = observations(
      parseShellyGen2('shellyplus2pm-Einfahrt/discovery/rpc', buf(answer)),
    );
    expect(obs?.device_key).toBe('shellyplus2pm-3ce90e2f7c34');
    expect(obs?.topic).toBe('shellyplus2pm-Einfahrt');
    expect(obs?.channels).toEqual([
      { channel: 0, component: 'switch:0', measures: 'power', energy: true },
      { channel: 1, component: 'switch:1', measures: 'power', energy: true },
    ]);
  });

  it('reads a Pro 3EM em:0 as three-phase and Pro EM-50 em1:N as one clamp each', () => {
    expect(
      shellyGen2Channels({
        'em:0': JSON.parse(F.PRO3EM_EM0_STATUS),
        'emdata:0': { id: 0, total_act: 1 },
      }),
    ).toEqual([{ channel: 0, component: 'em:0', measures: 'three_phase', energy: true }]);
    expect(
      shellyGen2Channels({
        'em1:0': JSON.parse(F.PRO_EM50_EM1_0),
        'em1:1': JSON.parse(F.PRO_EM50_EM1_1),
      }),
    ).toEqual([
      { channel: 0, component: 'em1:0', measures: 'power', energy: false },
      { channel: 1, component: 'em1:1', measures: 'power', energy: false },
    ]);
  });

  it('reads a NotifyFullStatus and asks for the model; ignores NotifyStatus deltas quietly', () => {
    const full = `{"src":"shellyplus1pm-4417939341dc","dst":"shellies/plus1pm/events","method":"NotifyFullStatus","params":{"ts":1.61,"switch:0":${F.PLUS1PM_SWITCH0_STATUS},"mqtt":{"connected":true}}}`;
    const r = parseShellyGen2('plus1pm/events/rpc', buf(full));
    expect(observations(r)[0]?.channels).toEqual([
      { channel: 0, component: 'switch:0', measures: 'power', energy: true },
    ]);
    expect(r.kind === 'observed' && r.requests.map((q) => JSON.parse(q.payload).method)).toEqual([
      'Shelly.GetDeviceInfo',
    ]);
    expect(parseShellyGen2('x/events/rpc', buf(F.PLUS2PM_NOTIFY_STATUS)).kind).toBe('ignored');
    expect(parseShellyGen2('x/events/rpc', buf(F.PLUS1PM_NOTIFY_MQTT)).kind).toBe('ignored');
  });

  it('reports an error answer and a non-JSON frame as invalid with the reason', () => {
    const error =
      '{"id":2,"src":"shellypill-abcdef123456","dst":"p/discovery","error":{"code":401,"message":"Unauthorized"}}';
    expect(parseShellyGen2('p/discovery/rpc', buf(error))).toEqual({
      kind: 'invalid',
      reason: 'the device answered an error: Unauthorized',
    });
    const cut = '{"src":"shellyplus1pm-4417939341dc","method":"NotifyFullStatus","params":{"ts"';
    expect(parseShellyGen2('p/events/rpc', buf(cut))).toEqual({
      kind: 'invalid',
      reason: 'payload is not JSON',
    });
  });
});

describe('Tasmota tasmota/discovery/<MAC>/...', () => {
  it('reads config: MAC key, %topic%, module, default FullTopic left out', () => {
    expect(
      observations(
        parseTasmota('tasmota/discovery/DC4F220756C6/config', buf(F.TASMOTA_4CH_CONFIG)),
      ),
    ).toEqual([
      {
        family: 'tasmota',
        device_key: 'DC4F220756C6',
        parser_type: 'tasmota',
        topic: 'cv-ruimte',
        model: 'Technische Ruimte',
        name: 'CV-Ruimte',
        tasmota_full_topic: null,
      },
    ]);
  });

  it('keeps a custom FullTopic holding %prefix% and %topic%', () => {
    const custom = F.TASMOTA_4CH_CONFIG.replace(
      '"ft":"%prefix%/%topic%/"',
      '"ft":"home/%topic%/%prefix%/"',
    );
    const [obs] = observations(parseTasmota('tasmota/discovery/DC4F220756C6/config', buf(custom)));
    expect(obs?.tasmota_full_topic).toBe('home/%topic%/%prefix%/');
  });

  it('reads a Dual R3 sensors message as two channels, one per ENERGY.Power entry', () => {
    const topic = `tasmota/discovery/${F.TASMOTA_DUALR3_MAC}/sensors`;
    expect(observations(parseTasmota(topic, buf(F.TASMOTA_DUALR3_SENSORS)))).toEqual([
      {
        family: 'tasmota',
        device_key: '94B97E682B78',
        parser_type: 'tasmota',
        channels: [
          { channel: 0, component: 'ENERGY.Power[0]', measures: 'power', energy: true },
          { channel: 1, component: 'ENERGY.Power[1]', measures: 'power', energy: true },
        ],
      },
    ]);
  });

  it('ignores sensors without ENERGY quietly (temperature probes, switches)', () => {
    const topic = 'tasmota/discovery/DC4F220756C6/sensors';
    expect(parseTasmota(topic, buf(F.TASMOTA_4CH_SENSORS)).kind).toBe('ignored');
  });

  it('refuses a topic without a MAC and a config without a topic', () => {
    expect(parseTasmota('tasmota/discovery/kitchen/config', buf(F.TASMOTA_4CH_CONFIG))).toEqual({
      kind: 'invalid',
      reason: "'kitchen' in the topic is not a MAC address",
    });
    expect(
      parseTasmota('tasmota/discovery/DC4F220756C6/config', buf('{"mac":"DC4F220756C6"}')),
    ).toEqual({
      kind: 'invalid',
      reason: 'config without "t" (the device topic)',
    });
  });
});

describe('Zigbee2MQTT bridge/devices', () => {
  it('reads the plug that exposes power as a generic_json meter on zigbee2mqtt/<friendly_name>', () => {
    expect(
      observations(parseZigbee2mqtt('zigbee2mqtt/bridge/devices', buf(F.Z2M_BRIDGE_DEVICES))),
    ).toEqual([
      {
        family: 'zigbee2mqtt',
        device_key: '0x0017880104e45524',
        parser_type: 'generic_json',
        topic: 'zigbee2mqtt/power_plug',
        model: 'Xiaomi ZNCZ02LM',
        name: 'power_plug',
        channels: [
          {
            channel: 0,
            component: 'power',
            measures: 'power',
            energy: true,
            value_path: 'power',
            energy_path: 'energy',
          },
        ],
      },
    ]);
  });

  it('finds nothing in a list without meters (no exposes, definition null)', () => {
    expect(
      observations(parseZigbee2mqtt('zigbee2mqtt/bridge/devices', buf(F.Z2M_DOCS_NO_METERS))),
    ).toEqual([]);
  });

  it('keeps a friendly name with spaces in the topic', () => {
    const spaced = F.Z2M_BRIDGE_DEVICES.replace(
      '"friendly_name":"power_plug"',
      '"friendly_name":"Office Wall Plug"',
    );
    const [obs] = observations(parseZigbee2mqtt('zigbee2mqtt/bridge/devices', buf(spaced)));
    expect(obs?.topic).toBe('zigbee2mqtt/Office Wall Plug');
  });

  it('refuses a list that is not an array', () => {
    expect(parseZigbee2mqtt('zigbee2mqtt/bridge/devices', buf('{"devices":[]}'))).toEqual({
      kind: 'invalid',
      reason: 'bridge/devices is not a JSON array',
    });
  });
});
