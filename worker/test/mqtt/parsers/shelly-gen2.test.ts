import { describe, expect, it } from 'vitest';
import { ShellyGen2Parser } from '../../../src/mqtt/parsers/shelly-gen2.ts';
import { buf, device } from '../helpers/devices.ts';

const T = 'shellyplus1pm-441793d69718';
const dev = device('lathe', 'shelly_gen2', T);

// Shapes as documented for Switch.GetStatus / PM1.GetStatus and NotifyStatus (Shelly Gen2 API docs).
const SWITCH_STATUS = {
  id: 0,
  source: 'init',
  output: true,
  apower: 8.9,
  voltage: 237.5,
  current: 0.068,
  aenergy: { total: 6.532, by_minute: [45.199, 47.141, 88.397], minute_ts: 1654511972 },
  temperature: { tC: 23.5, tF: 74.4 },
};
const PM1_STATUS = {
  id: 0,
  voltage: 229.9,
  current: 0.298,
  apower: 59.3,
  freq: 50,
  aenergy: { total: 1234.567, by_minute: [990.1, 1001.4, 980.0], minute_ts: 1700000040 },
  ret_aenergy: { total: 0, by_minute: [0, 0, 0], minute_ts: 1700000040 },
};
/** The frames' own time (`params.ts`, Unix seconds), carried on the reading as epoch ms. */
const NOTIFY_AT = 1654512000120;
const notify = (params: object, method = 'NotifyStatus') => ({
  src: T,
  dst: `${T}/events`,
  method,
  params: { ts: 1654512000.12, ...params },
});

describe('ShellyGen2Parser', () => {
  const parser = () => new ShellyGen2Parser();

  it('subscribes the status, events, online and poll-answer topics of the prefix', () => {
    expect(parser().subscriptions(dev)).toEqual([
      `${T}/status/em:0`,
      `${T}/status/em1:0`,
      `${T}/status/pm1:0`,
      `${T}/status/switch:0`,
      `${T}/status/em1data:0`,
      `${T}/status/emdata:0`,
      `${T}/events/rpc`,
      `${T}/online`,
      `${T}/poll/rpc`,
    ]);
    expect(parser().matches(dev, `${T}/online`)).toBe(true);
    expect(parser().matches(dev, `${T}/status/sys`)).toBe(false);
  });

  it('reads apower and aenergy.total from status/switch:0 (Plus 1PM)', () => {
    expect(parser().parse(dev, `${T}/status/switch:0`, buf(SWITCH_STATUS))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 8.9, energy_wh: 6.532 },
    });
  });

  it('reads apower and aenergy.total from status/pm1:0 (PM Mini Gen3)', () => {
    expect(parser().parse(dev, `${T}/status/pm1:0`, buf(PM1_STATUS))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 59.3, energy_wh: 1234.567 },
    });
  });

  it('treats a status/switch:0 without apower (Plus 1, no meter) as alive', () => {
    const plus1 = { id: 0, source: 'init', output: false, temperature: { tC: 40, tF: 104 } };
    expect(parser().parse(dev, `${T}/status/switch:0`, buf(plus1))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it('rejects a status/pm1:0 without apower', () => {
    const { apower: _, ...noPower } = PM1_STATUS;
    expect(parser().parse(dev, `${T}/status/pm1:0`, buf(noPower))).toEqual({
      kind: 'invalid',
      reason: 'apower missing',
    });
  });

  it('reads a NotifyStatus that carries only apower (energy null)', () => {
    const frame = notify({ 'switch:0': { id: 0, apower: 120.5, current: 0.52 } });
    expect(parser().parse(dev, `${T}/events/rpc`, buf(frame))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 120.5, energy_wh: null, at: NOTIFY_AT },
    });
  });

  it('reads small negative no-load noise (-0.3 W) as 0 W instead of rejecting it', () => {
    const frame = notify({ 'switch:0': { id: 0, apower: -0.3 } });
    expect(parser().parse(dev, `${T}/events/rpc`, buf(frame))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 0, energy_wh: null, at: NOTIFY_AT },
    });
  });

  it('pairs an energy-only NotifyStatus with the last known power', () => {
    const p = parser();
    const energyOnly = notify({
      'pm1:0': { id: 0, aenergy: { by_minute: [1, 2, 3], minute_ts: 1654512060, total: 7.012 } },
    });
    expect(p.parse(dev, `${T}/events/rpc`, buf(energyOnly))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
    p.parse(dev, `${T}/status/pm1:0`, buf(PM1_STATUS));
    expect(p.parse(dev, `${T}/events/rpc`, buf(energyOnly))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 59.3, energy_wh: 7.012, at: NOTIFY_AT },
    });
    p.forget('lathe');
    expect(p.parse(dev, `${T}/events/rpc`, buf(energyOnly))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it('treats a NotifyStatus without meter fields (output toggled) as alive', () => {
    const frame = notify({ 'switch:0': { id: 0, output: false, source: 'button' } });
    expect(parser().parse(dev, `${T}/events/rpc`, buf(frame))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it('treats NotifyEvent and NotifyStatus of other components as alive', () => {
    const event = notify(
      { events: [{ component: 'input:0', id: 0, event: 'single_push', ts: 1654512000.1 }] },
      'NotifyEvent',
    );
    const wifi = notify({ wifi: { rssi: -58 } });
    for (const frame of [event, wifi]) {
      expect(parser().parse(dev, `${T}/events/rpc`, buf(frame))).toEqual({
        kind: 'input',
        input: { kind: 'alive' },
      });
    }
  });

  it('reads the meter from a NotifyFullStatus', () => {
    const frame = notify({ 'switch:0': SWITCH_STATUS, sys: { uptime: 10 } }, 'NotifyFullStatus');
    expect(parser().parse(dev, `${T}/events/rpc`, buf(frame))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 8.9, energy_wh: 6.532, at: NOTIFY_AT },
    });
  });

  it('maps online "true"/"false" to availability', () => {
    expect(parser().parse(dev, `${T}/online`, buf('true'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: true },
    });
    expect(parser().parse(dev, `${T}/online`, buf('false'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: false },
    });
    expect(parser().parse(dev, `${T}/online`, buf('maybe')).kind).toBe('invalid');
  });

  it('polls with Shelly.GetStatus on <topic>/rpc with src <topic>/poll', () => {
    const poll = parser().poll(dev);
    expect(poll.topic).toBe(`${T}/rpc`);
    expect(JSON.parse(poll.payload)).toEqual({
      id: 1,
      src: `${T}/poll`,
      method: 'Shelly.GetStatus',
    });
  });

  it('reads the poll answer published on <src>/rpc', () => {
    const answer = {
      id: 1,
      src: T,
      dst: `${T}/poll`,
      result: {
        ble: {},
        cloud: { connected: false },
        'input:0': { id: 0, state: false },
        mqtt: { connected: true },
        'switch:0': SWITCH_STATUS,
        sys: { mac: 'A8032AB1', uptime: 33 },
      },
    };
    expect(parser().parse(dev, `${T}/poll/rpc`, buf(answer))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 8.9, energy_wh: 6.532 },
    });
  });

  it('treats an RPC error answer as alive (the device answered)', () => {
    const answer = { id: 1, src: T, dst: `${T}/poll`, error: { code: -103, message: 'busy' } };
    expect(parser().parse(dev, `${T}/poll/rpc`, buf(answer))).toEqual({
      kind: 'input',
      input: { kind: 'alive' },
    });
  });

  it.each([
    ['not JSON', `${T}/status/switch:0`, '{"apower":', 'payload is not JSON'],
    ['a JSON array', `${T}/status/switch:0`, '[1,2]', 'payload is not a JSON object'],
    ['apower as string', `${T}/status/switch:0`, { apower: '12' }, 'apower is not a number'],
    ['negative apower', `${T}/status/pm1:0`, { apower: -50 }, 'apower is negative (-50 W'],
    ['absurd apower', `${T}/status/pm1:0`, { apower: 2e6 }, 'apower is absurd'],
    ['aenergy not an object', `${T}/status/pm1:0`, { apower: 1, aenergy: 5 }, 'aenergy is not'],
    ['negative energy', `${T}/status/pm1:0`, { apower: 1, aenergy: { total: -1 } }, 'negative'],
    ['frame without method', `${T}/events/rpc`, { params: {} }, 'RPC frame without method'],
    ['NotifyStatus without params', `${T}/events/rpc`, { method: 'NotifyStatus' }, 'params'],
    ['component not an object', `${T}/events/rpc`, notify({ 'switch:0': 3 }), 'not an object'],
    ['answer without result', `${T}/poll/rpc`, { id: 1 }, 'without result or error'],
  ])('rejects %s', (_label, topic, payload, reason) => {
    const result = parser().parse(dev, topic, buf(payload));
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toContain(reason);
  });

  it('rejects an apower of 1e999 (Infinity after JSON.parse)', () => {
    const result = parser().parse(dev, `${T}/status/pm1:0`, buf('{"apower":1e999}'));
    expect(result).toEqual({ kind: 'invalid', reason: 'apower is not finite' });
  });
});

describe('ShellyGen2Parser device time', () => {
  it('stamps a NotifyStatus reading with its own params.ts, a status topic reading without', () => {
    const p = new ShellyGen2Parser();
    const frame = notify({ 'pm1:0': { id: 0, apower: 42 } });
    expect(p.parse(dev, `${T}/events/rpc`, buf(frame))).toMatchObject({
      input: { kind: 'reading', power_w: 42, at: NOTIFY_AT },
    });
    const status = p.parse(dev, `${T}/status/pm1:0`, buf(PM1_STATUS));
    expect(status.kind === 'input' && 'at' in status.input).toBe(false);
  });

  it('ignores a missing or implausible ts (arrival time is used)', () => {
    const p = new ShellyGen2Parser();
    for (const ts of [null, 'soon', -1, 0]) {
      const frame = { method: 'NotifyStatus', params: { ts, 'pm1:0': { id: 0, apower: 42 } } };
      const r = p.parse(dev, `${T}/events/rpc`, buf(frame));
      expect(r.kind === 'input' && 'at' in r.input).toBe(false);
    }
  });
});
