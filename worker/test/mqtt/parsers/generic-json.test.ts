import { describe, expect, it } from 'vitest';
import { GenericJsonParser } from '../../../src/mqtt/parsers/generic-json.ts';
import { buf, device } from '../helpers/devices.ts';
import {
  Z2M_FULL_REPORT,
  Z2M_POWER_WITH_ENERGY_NULL,
  Z2M_STATE_ONLY,
} from './fixtures/real-payloads.ts';

const T = 'workshop/cnc-router/meter';

describe('GenericJsonParser', () => {
  const parser = () => new GenericJsonParser();

  it('subscribes exactly the configured topic and cannot be polled', () => {
    const dev = device('cnc', 'generic_json', T, { field_path: 'power', unit: 'W' });
    expect(parser().subscriptions(dev)).toEqual([T]);
    expect(parser().matches(dev, T)).toBe(true);
    expect(parser().matches(dev, `${T}/x`)).toBe(false);
    expect(parser().poll()).toBeNull();
  });

  it('reads a dotted path in W', () => {
    const dev = device('cnc', 'generic_json', T, { field_path: 'ENERGY.Power', unit: 'W' });
    expect(parser().parse(dev, T, buf({ ENERGY: { Power: 250.5 } }))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 250.5, energy_wh: null },
    });
  });

  it('indexes arrays with numeric segments and converts kW to W', () => {
    const dev = device('cnc', 'generic_json', T, { field_path: 'meters.1.power', unit: 'kW' });
    const payload = { meters: [{ power: 0.1 }, { power: 1.25 }] };
    expect(parser().parse(dev, T, buf(payload))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 1250, energy_wh: null },
    });
  });

  it('reads an optional energy path in kWh', () => {
    const dev = device('cnc', 'generic_json', T, {
      field_path: 'p',
      unit: 'W',
      energy_path: 'e.total',
      energy_unit: 'kWh',
    });
    expect(parser().parse(dev, T, buf({ p: 10, e: { total: 2.5 } }))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 10, energy_wh: 2500 },
    });
    // A message without the energy field still carries the power.
    expect(parser().parse(dev, T, buf({ p: 10 }))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 10, energy_wh: null },
    });
  });

  it('rejects an absurd value only after the kW conversion', () => {
    const dev = device('cnc', 'generic_json', T, { field_path: 'p', unit: 'kW' });
    expect(parser().parse(dev, T, buf({ p: 999 })).kind).toBe('input');
    expect(parser().parse(dev, T, buf({ p: 1001 })).kind).toBe('invalid');
  });

  it.each([
    ['not JSON', 'power=5', 'not JSON'],
    ['a bare number', '5', 'not a JSON object'],
    ['string field', { p: '5' }, 'p is not a number'],
    ['negative', { p: -12 }, 'negative'],
    ['energy wrong type', { p: 1, e: 'x' }, 'e is not a number'],
  ])('rejects %s', (_label, payload, reason) => {
    const dev = device('cnc', 'generic_json', T, { field_path: 'p', unit: 'W', energy_path: 'e' });
    const result = parser().parse(dev, T, buf(payload));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toContain(reason);
  });

  describe('Zigbee2MQTT plugs (real payloads, see fixtures/real-payloads.ts)', () => {
    const Z = 'zigbee2mqtt/plug';
    const z2m = device('plug', 'generic_json', Z, {
      field_path: 'power',
      unit: 'W',
      energy_path: 'energy',
      energy_unit: 'kWh',
    });

    it('reads a full report (energy kWh -> Wh)', () => {
      expect(parser().parse(z2m, Z, buf(Z2M_FULL_REPORT))).toEqual({
        kind: 'input',
        input: { kind: 'reading', power_w: 3, energy_wh: 8420 },
      });
    });

    it('takes the power of a report whose energy is still null', () => {
      expect(parser().parse(z2m, Z, buf(Z2M_POWER_WITH_ENERGY_NULL))).toEqual({
        kind: 'input',
        input: { kind: 'reading', power_w: 0, energy_wh: null },
      });
    });

    it('reads a state-only message as a sign of life, not a parse error', () => {
      expect(parser().parse(z2m, Z, buf(Z2M_STATE_ONLY))).toEqual({
        kind: 'input',
        input: { kind: 'alive' },
      });
      // `"power": null` (not reported yet) is the same: no power, but the device is there.
      expect(parser().parse(z2m, Z, buf({ power: null, linkquality: 40 }))).toEqual({
        kind: 'input',
        input: { kind: 'alive' },
      });
    });
  });

  it('rejects a device without generic settings', () => {
    const dev = device('cnc', 'generic_json', T);
    expect(parser().parse(dev, T, buf({ p: 1 }))).toEqual({
      kind: 'invalid',
      reason: 'generic_json device without generic settings',
    });
  });
});
