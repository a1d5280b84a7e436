/**
 * Issue 15: per-attribute topics whose payload is a bare number (no field path): Zigbee2MQTT
 * attribute output and ESPHome sensor states. Fixtures: real payloads (./fixtures/real-payloads.ts,
 * source URL beside each).
 */
import { describe, expect, it } from 'vitest';
import { GenericJsonParser } from '../../../src/mqtt/parsers/generic-json.ts';
import { buf, device } from '../helpers/devices.ts';
import {
  ESPHOME_NAN_STATE,
  ESPHOME_SENSOR_STATES,
  Z2M_ATTRIBUTE_OUTPUT,
} from './fixtures/real-payloads.ts';

const bare = (id: string, topic: string) => device(id, 'generic_json', topic, { unit: 'W' });
const payloadOf = (list: [string, string][], topic: string) =>
  buf(list.find(([t]) => t === topic)?.[1] ?? '');

describe('Generic meter with bare-number payloads (issue 15)', () => {
  const parser = () => new GenericJsonParser();

  it('Zigbee2MQTT attribute output zigbee2mqtt/<name>/power "0" is a reading of 0 W', () => {
    const topic = 'zigbee2mqtt/z1/power';
    expect(
      parser().parse(bare('plug', topic), topic, payloadOf(Z2M_ATTRIBUTE_OUTPUT, topic)),
    ).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 0, energy_wh: null },
    });
  });

  it('ESPHome <node>/sensor/<name>/state "190" is a reading of 190 W', () => {
    const topic = 'attic-powerwall/sensor/inverter0_power_demand/state';
    expect(
      parser().parse(bare('inv', topic), topic, payloadOf(ESPHOME_SENSOR_STATES, topic)),
    ).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 190, energy_wh: null },
    });
  });

  it('a friendly name with spaces works as the topic', () => {
    const topic = 'zigbee2mqtt/Office Wall Light Switch/power';
    expect(parser().subscriptions(bare('light', topic))).toEqual([topic]);
    expect(parser().parse(bare('light', topic), topic, buf('12.5'))).toMatchObject({
      input: { power_w: 12.5 },
    });
  });

  it('kW unit converts a bare number', () => {
    const dev = device('cnc', 'generic_json', 'plant/cnc/kw', { unit: 'kW' });
    expect(parser().parse(dev, 'plant/cnc/kw', buf('1.5'))).toMatchObject({
      input: { power_w: 1500 },
    });
  });

  it('text on a bare-number topic is a parse error that quotes the payload', () => {
    const topic = 'attic-powerwall/sensor/firstfloor_inverter_operation_mode/state';
    const result = parser().parse(bare('x', topic), topic, payloadOf(ESPHOME_SENSOR_STATES, topic));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toContain('"Normal"');
    const nan = parser().parse(
      bare('y', 'a/sensor/p/state'),
      'a/sensor/p/state',
      buf(ESPHOME_NAN_STATE),
    );
    expect(nan).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('not finite') });
  });

  it('JSON null (not reported yet) is a sign of life', () => {
    expect(parser().parse(bare('p', 'z/p/power'), 'z/p/power', buf('null'))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });
});
