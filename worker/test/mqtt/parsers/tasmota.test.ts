import { describe, expect, it } from 'vitest';
import { TasmotaParser } from '../../../src/mqtt/parsers/tasmota.ts';
import { buf, device } from '../helpers/devices.ts';

const T = 'tasmota_8E4A2F';
const dev = device('saw', 'tasmota', T);

// tele/<topic>/SENSOR of a Sonoff POW R2 / Athom plug (Tasmota energy driver).
const ENERGY = {
  TotalStartTime: '2023-05-01T12:00:00',
  Total: 12.345,
  Yesterday: 0.456,
  Today: 0.123,
  Period: 5,
  Power: 85,
  ApparentPower: 90,
  ReactivePower: 30,
  Factor: 0.94,
  Voltage: 231,
  Current: 0.389,
};

describe('TasmotaParser', () => {
  const parser = () => new TasmotaParser();

  it('subscribes SENSOR, STATE, LWT and the STATUS8/STATUS10 answers', () => {
    expect(parser().subscriptions(dev)).toEqual([
      `tele/${T}/SENSOR`,
      `tele/${T}/STATE`,
      `tele/${T}/LWT`,
      `stat/${T}/STATUS8`,
      `stat/${T}/STATUS10`,
    ]);
  });

  it('reads ENERGY.Power (W) and ENERGY.Total (kWh -> Wh) from tele SENSOR', () => {
    const sensor = { Time: '2024-03-01T10:15:00', ENERGY };
    expect(parser().parse(dev, `tele/${T}/SENSOR`, buf(sensor))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 85, energy_wh: 12345 },
    });
  });

  it('reads StatusSNS.ENERGY from the STATUS8 and STATUS10 answers', () => {
    const answer = { StatusSNS: { Time: '2024-03-01T10:15:00', ENERGY: { ...ENERGY, Power: 0 } } };
    for (const topic of [`stat/${T}/STATUS8`, `stat/${T}/STATUS10`]) {
      expect(parser().parse(dev, topic, buf(answer))).toEqual({
        kind: 'input',
        input: { kind: 'reading', power_w: 0, energy_wh: 12345 },
      });
    }
  });

  it('reads only the configured channel of a multi-channel device, never the sum', () => {
    const sensor = { Time: 'x', ENERGY: { ...ENERGY, Power: [40, 60], Total: [1.5, 0.5] } };
    expect(parser().parse(dev, `tele/${T}/SENSOR`, buf(sensor))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 40, energy_wh: 1500 },
    });
    const second = { ...dev, channel: 1 };
    expect(parser().parse(second, `tele/${T}/SENSOR`, buf(sensor))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 60, energy_wh: 500 },
    });
  });

  it('treats SENSOR without ENERGY (a plain relay) and STATE as alive', () => {
    const sensor = { Time: '2024-03-01T10:15:00', ANALOG: { Temperature: 31.2 }, TempUnit: 'C' };
    const state = { Time: '2024-03-01T10:15:00', Uptime: '1T02:03:04', POWER: 'ON' };
    expect(parser().parse(dev, `tele/${T}/SENSOR`, buf(sensor))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
    expect(parser().parse(dev, `tele/${T}/STATE`, buf(state))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it('maps LWT Online/Offline to availability', () => {
    expect(parser().parse(dev, `tele/${T}/LWT`, buf('Online'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: true },
    });
    expect(parser().parse(dev, `tele/${T}/LWT`, buf('Offline'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: false },
    });
  });

  it('polls with STATUS 8 on cmnd/<topic>/STATUS', () => {
    expect(parser().poll(dev)).toEqual({ topic: `cmnd/${T}/STATUS`, payload: '8' });
  });

  it.each([
    ['not JSON', `tele/${T}/SENSOR`, 'ENERGY=85', 'not JSON'],
    ['ENERGY not an object', `tele/${T}/SENSOR`, { ENERGY: 85 }, 'ENERGY is not an object'],
    ['Power missing', `tele/${T}/SENSOR`, { ENERGY: { Total: 1 } }, 'ENERGY.Power missing'],
    ['Power as string', `tele/${T}/SENSOR`, { ENERGY: { Power: '85' } }, 'not a number'],
    ['negative Power', `tele/${T}/SENSOR`, { ENERGY: { Power: -20 } }, 'negative'],
    ['absurd Power', `tele/${T}/SENSOR`, { ENERGY: { Power: 1e7 } }, 'absurd'],
    ['Power array with text', `tele/${T}/SENSOR`, { ENERGY: { Power: ['x', 1] } }, 'not a number'],
    ['Total as string', `tele/${T}/SENSOR`, { ENERGY: { Power: 1, Total: 'a' } }, 'ENERGY.Total'],
    ['STATUS8 without StatusSNS', `stat/${T}/STATUS8`, { Status: {} }, 'StatusSNS missing'],
    ['LWT garbage', `tele/${T}/LWT`, 'online', 'neither'],
    ['STATE not JSON', `tele/${T}/STATE`, 'up', 'not JSON'],
  ])('rejects %s', (_label, topic, payload, reason) => {
    const result = parser().parse(dev, topic, buf(payload));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toContain(reason);
  });
});

describe('TasmotaParser device time', () => {
  const energy = { Power: 640, Total: 1.5 };
  const atOf = (r: ReturnType<TasmotaParser['parse']>) =>
    r.kind === 'input' && r.input.kind === 'reading' ? r.input.at : 'no reading';

  it('stamps SENSOR and STATUS8 with Time when it carries a UTC offset (SetOption52 1)', () => {
    const p = new TasmotaParser();
    const sensor = { Time: '2024-01-01T12:00:05+01:00', ENERGY: energy };
    expect(atOf(p.parse(dev, `tele/${T}/SENSOR`, buf(sensor)))).toBe(
      Date.UTC(2024, 0, 1, 11, 0, 5),
    );
    const status = { StatusSNS: { Time: '2024-01-01T11:00:06Z', ENERGY: energy } };
    expect(atOf(p.parse(dev, `stat/${T}/STATUS8`, buf(status)))).toBe(
      Date.UTC(2024, 0, 1, 11, 0, 6),
    );
  });

  it('uses no device time for a zone-less Time (local time of an unknown zone)', () => {
    const p = new TasmotaParser();
    const sensor = { Time: '2024-01-01T12:00:05', ENERGY: energy };
    expect(atOf(p.parse(dev, `tele/${T}/SENSOR`, buf(sensor)))).toBeUndefined();
  });
});
