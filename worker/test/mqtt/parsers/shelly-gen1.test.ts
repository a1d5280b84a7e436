import { describe, expect, it } from 'vitest';
import { ShellyGen1Parser } from '../../../src/mqtt/parsers/shelly-gen1.ts';
import { buf, device } from '../helpers/devices.ts';
import { SHELLY_1PM_GEN1_STATUS } from './fixtures/real-payloads.ts';

const ID = 'shellyplug-s-7C87CEB4A1B2';
const B = `shellies/${ID}`;
const dev = device('drill', 'shelly_gen1', ID);

describe('ShellyGen1Parser', () => {
  const parser = () => new ShellyGen1Parser();

  it('subscribes under shellies/<id>/ when the topic has no prefix', () => {
    expect(parser().subscriptions(dev)).toEqual([
      `${B}/relay/0/power`,
      `${B}/relay/0/energy`,
      `${B}/relay/0`,
      `${B}/emeter/0/power`,
      `${B}/emeter/0/total`,
      `${B}/emeter/1/power`,
      `${B}/emeter/1/total`,
      `${B}/emeter/2/power`,
      `${B}/emeter/2/total`,
      `${B}/online`,
      `${B}/info`,
      `${B}/status`,
    ]);
  });

  it('accepts a topic that already starts with shellies/', () => {
    const prefixed = device('drill', 'shelly_gen1', B);
    expect(parser().subscriptions(prefixed)[0]).toBe(`${B}/relay/0/power`);
    expect(parser().poll(prefixed).topic).toBe(`${B}/command`);
  });

  it('reads relay/0/power as a plain number of watts', () => {
    expect(parser().parse(dev, `${B}/relay/0/power`, buf('43.21'))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 43.21, energy_wh: null },
    });
  });

  it('converts relay/0/energy from watt-minutes to Wh, paired with the last power', () => {
    const p = parser();
    expect(p.parse(dev, `${B}/relay/0/energy`, buf('12345'))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
    p.parse(dev, `${B}/relay/0/power`, buf('100'));
    expect(p.parse(dev, `${B}/relay/0/energy`, buf('12345'))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 100, energy_wh: 12345 / 60 },
    });
  });

  it('treats relay/0 on/off/overpower as alive', () => {
    for (const state of ['on', 'off', 'overpower']) {
      expect(parser().parse(dev, `${B}/relay/0`, buf(state))).toEqual({
        kind: 'input',
        input: { kind: 'alive' },
      });
    }
    expect(parser().parse(dev, `${B}/relay/0`, buf('toggle')).kind).toBe('invalid');
  });

  it('maps online to availability', () => {
    expect(parser().parse(dev, `${B}/online`, buf('false'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: false },
    });
  });

  it('reads meters[0] from the full status on info (total in watt-minutes)', () => {
    const status = {
      wifi_sta: { connected: true, ssid: 'Workshop', ip: '192.168.1.50', rssi: -61 },
      relays: [{ ison: true, has_timer: false, overpower: false }],
      meters: [
        {
          power: 1510.4,
          overpower: 0,
          is_valid: true,
          timestamp: 1700000000,
          counters: [1509.1, 1511.0, 1508.7],
          total: 60000,
        },
      ],
      temperature: 38.5,
      uptime: 86400,
    };
    expect(parser().parse(dev, `${B}/info`, buf(status))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 1510.4, energy_wh: 1000 },
    });
    expect(parser().parse(dev, `${B}/status`, buf({ uptime: 5 }))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it('polls with `update` on shellies/<id>/command (Gen1 API "Common MQTT commands")', () => {
    // https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands: "`update` will cause all
    // Shellies to publish their state". `status_update` is no Gen1 command; the device ignores it.
    expect(parser().poll(dev)).toEqual({ topic: `${B}/command`, payload: 'update' });
  });

  it('reads a real Shelly 1PM /status (the info payload) as the poll answer', () => {
    // meters[0]: power 455.85 W, total 145827 Wmin = 2430.45 Wh.
    expect(parser().parse(dev, `${B}/info`, buf(SHELLY_1PM_GEN1_STATUS))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 455.85, energy_wh: 145827 / 60 },
    });
  });

  it.each([
    ['text power', 'relay/0/power', 'abc', 'not a plain number'],
    ['empty power', 'relay/0/power', '', 'not a plain number'],
    ['hex power', 'relay/0/power', '0x10', 'not a plain number'],
    ['NaN power', 'relay/0/power', 'NaN', 'not finite'],
    ['Infinity power', 'relay/0/power', 'Infinity', 'not finite'],
    ['negative power', 'relay/0/power', '-30', 'negative'],
    ['absurd power', 'relay/0/power', '5000000', 'absurd'],
    ['negative energy', 'relay/0/energy', '-60', 'negative'],
    ['info not JSON', 'info', '<html>', 'not JSON'],
    ['meters not an array', 'info', { meters: {} }, 'meters is not an array'],
    ['meter power missing', 'info', { meters: [{ total: 5 }] }, 'meters[0].power is not a number'],
  ])('rejects %s', (_label, suffix, payload, reason) => {
    const result = parser().parse(dev, `${B}/${suffix}`, buf(payload));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toContain(reason);
  });
});
