import { describe, expect, it } from 'vitest';
import { createParserRegistry, MAX_PAYLOAD_BYTES } from '../../../src/mqtt/parsers/index.ts';
import { buf, device } from '../helpers/devices.ts';

/** One representative topic per parser type, to run the payload classes every parser must reject. */
const CASES = [
  [device('a', 'shelly_gen2', 'shellypmminig3-1'), 'shellypmminig3-1/status/pm1:0'],
  [device('b', 'shelly_gen1', 'shellyplug-s-1'), 'shellies/shellyplug-s-1/relay/0/power'],
  [device('c', 'tasmota', 'tasmota_1'), 'tele/tasmota_1/SENSOR'],
  [device('d', 'generic_json', 'meters/d', { field_path: 'p', unit: 'W' }), 'meters/d'],
] as const;

describe('parser registry', () => {
  it('maps every parser_type to its own parser instance per registry', () => {
    const a = createParserRegistry();
    const b = createParserRegistry();
    expect(Object.keys(a).sort()).toEqual([
      'generic_json',
      'shelly_gen1',
      'shelly_gen2',
      'tasmota',
    ]);
    expect(a.shelly_gen2).not.toBe(b.shelly_gen2);
  });

  it.each(CASES)('rejects a payload over 64 KiB before parsing it (%s)', (dev, topic) => {
    const parser = createParserRegistry()[dev.parser_type];
    // Valid JSON with a valid power, padded: proves the size check runs before the parse.
    const big = Buffer.from(
      `{"apower":5,"p":5,"ENERGY":{"Power":5},"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}`,
    );
    const result = parser.parse(dev, topic, big);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toMatch(/payload too large/);
  });

  it.each(CASES)('never throws on hostile payloads (%s)', (dev, topic) => {
    const parser = createParserRegistry()[dev.parser_type];
    const hostile = [
      '',
      'null',
      '"text"',
      '42',
      '[]',
      '{"__proto__":{"apower":5}}',
      '{"apower":{"valueOf":1}}',
      Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('latin1'),
      '{"ENERGY":null,"p":[],"apower":true}',
    ];
    for (const payload of hostile) {
      expect(() => parser.parse(dev, topic, buf(payload))).not.toThrow();
      expect(['invalid', 'input', 'ignored']).toContain(
        parser.parse(dev, topic, buf(payload)).kind,
      );
    }
  });
});
