/**
 * The noise band rule, the same in every parser: a power in [-band, 0] reads as 0 W, below -band it
 * is rejected. `band` = the device's `negative_noise_w`, default 1 W.
 */
import type { DeviceConfig, ParserType } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NEGATIVE_NOISE_W } from '../../../src/mqtt/parsers/common.ts';
import { createParserRegistry } from '../../../src/mqtt/parsers/index.ts';
import { buf, device } from '../helpers/devices.ts';

/** One power message per parser family: [parser, device topic, message topic, payload for `w`]. */
const FAMILIES: [ParserType, string, string, (w: number) => Buffer][] = [
  ['shelly_gen2', 'plus1pm', 'plus1pm/status/switch:0', (w) => buf({ id: 0, apower: w })],
  ['shelly_gen1', 'plug-s', 'shellies/plug-s/relay/0/power', (w) => buf(String(w))],
  ['shelly_gen1', 'plug-s', 'shellies/plug-s/info', (w) => buf({ meters: [{ power: w }] })],
  ['tasmota', 'tasmota_1', 'tele/tasmota_1/SENSOR', (w) => buf({ ENERGY: { Power: w } })],
  ['generic_json', 'z2m/plug', 'z2m/plug', (w) => buf({ power: w })],
];

function deviceOf(parser: ParserType, topic: string, band?: number): DeviceConfig {
  const dev = device('meter', parser, topic, { field_path: 'power', unit: 'W' });
  return band === undefined ? dev : { ...dev, negative_noise_w: band };
}

function parse(
  parser: ParserType,
  topic: string,
  msgTopic: string,
  payload: Buffer,
  band?: number,
) {
  return createParserRegistry()[parser].parse(deviceOf(parser, topic, band), msgTopic, payload);
}

const reading = (power_w: number) => ({
  kind: 'input',
  input: { kind: 'reading', power_w, energy_wh: null },
});

describe.each(FAMILIES)('noise band: %s on %s', (parser, topic, msgTopic, payload) => {
  it(`reads -${DEFAULT_NEGATIVE_NOISE_W} W .. 0 W as 0 W by default`, () => {
    expect(parse(parser, topic, msgTopic, payload(-0.3))).toEqual(reading(0));
    expect(parse(parser, topic, msgTopic, payload(-DEFAULT_NEGATIVE_NOISE_W))).toEqual(reading(0));
    expect(parse(parser, topic, msgTopic, payload(0))).toEqual(reading(0));
  });

  it('rejects a reading below the default band, naming the value and the band', () => {
    const result = parse(parser, topic, msgTopic, payload(-5));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toMatch(
      /is negative \(-5 W, noise band 1 W\)/,
    );
  });

  it('uses the per-device band: 5 W reads -4 W as 0; 0 W rejects -0.1 W', () => {
    expect(parse(parser, topic, msgTopic, payload(-4), 5)).toEqual(reading(0));
    expect(parse(parser, topic, msgTopic, payload(-5.5), 5).kind).toBe('invalid');
    expect(parse(parser, topic, msgTopic, payload(-0.1), 0).kind).toBe('invalid');
    expect(parse(parser, topic, msgTopic, payload(12), 0)).toEqual(reading(12));
  });
});
