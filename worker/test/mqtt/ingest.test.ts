import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceInput } from '../../src/devices/types.ts';
import { Ingest, type InputMeta } from '../../src/mqtt/ingest.ts';
import { captureLog } from '../helpers/log.ts';
import { buf, device } from './helpers/devices.ts';

type Delivered = [string, DeviceInput, InputMeta];

function setup(logIntervalMs?: number) {
  const delivered: Delivered[] = [];
  const log = captureLog();
  const ingest = new Ingest({
    onInput: (id, input, meta) => delivered.push([id, input, meta]),
    log: log.log,
    ...(logIntervalMs ? { logIntervalMs } : {}),
  });
  return { ingest, delivered, lines: log.lines };
}

const DEVICES = [
  device('lathe', 'shelly_gen2', 'shellyplus1pm-a1'),
  device('drill', 'shelly_gen1', 'shellyplug-s-b2'),
  device('saw', 'tasmota', 'tasmota_c3'),
  device('cnc', 'generic_json', 'plant/cnc/power', { field_path: 'p', unit: 'kW' }),
];

const badPayloadLines = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.reason !== undefined);

describe('Ingest', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-05T08:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('returns the exact topics of every device to subscribe', () => {
    const { ingest } = setup();
    const topics = ingest.setDevices(DEVICES);
    expect(topics.size).toBe(9 + 12 + 5 + 1);
    expect(topics).toContain('shellyplus1pm-a1/status/switch:0');
    expect(topics).toContain('shellies/shellyplug-s-b2/relay/0/power');
    expect(topics).toContain('tele/tasmota_c3/SENSOR');
    expect(topics).toContain('plant/cnc/power');
    for (const topic of topics) expect(topic).not.toMatch(/[+#]/);
  });

  it('routes each message to its device and passes the retained flag through', () => {
    const { ingest, delivered } = setup();
    ingest.setDevices(DEVICES);
    ingest.handle('shellyplus1pm-a1/online', buf('true'), true);
    ingest.handle('shellies/shellyplug-s-b2/relay/0/power', buf('12.5'), false);
    ingest.handle('tele/tasmota_c3/SENSOR', buf({ ENERGY: { Power: 300, Total: 1 } }), false);
    ingest.handle('plant/cnc/power', buf({ p: 1.5 }), false);
    expect(delivered).toEqual([
      ['lathe', { kind: 'availability', online: true }, { retained: true }],
      ['drill', { kind: 'reading', power_w: 12.5, energy_wh: null }, { retained: false }],
      ['saw', { kind: 'reading', power_w: 300, energy_wh: 1000 }, { retained: false }],
      ['cnc', { kind: 'reading', power_w: 1500, energy_wh: null }, { retained: false }],
    ]);
  });

  it('counts unknown topics without delivering or throwing', () => {
    const { ingest, delivered } = setup();
    ingest.setDevices(DEVICES);
    ingest.handle('shellyplus1pm-zz/online', buf('true'), false);
    ingest.handle('', buf(''), false);
    expect(delivered).toEqual([]);
    expect(ingest.stats()).toMatchObject({ messages: 2, unknown_topic: 2, inputs: 0 });
  });

  it('counts messages, inputs and parse errors per device and in total', () => {
    const { ingest } = setup();
    ingest.setDevices(DEVICES);
    ingest.handle('tele/tasmota_c3/SENSOR', buf({ ENERGY: { Power: 1 } }), false);
    ingest.handle('tele/tasmota_c3/SENSOR', buf('garbage'), false);
    ingest.handle('plant/cnc/power', buf({ p: -1 }), false);
    const stats = ingest.stats();
    expect(stats).toMatchObject({ messages: 3, inputs: 1, parse_errors: 2, unknown_topic: 0 });
    expect(stats.devices.saw).toMatchObject({
      messages: 2,
      inputs: 1,
      parse_errors: 1,
      last_error: 'payload is not JSON',
      last_message_at: Date.parse('2026-01-05T08:00:00Z'),
    });
    expect(stats.devices.cnc?.parse_errors).toBe(1);
    expect(stats.devices.lathe).toMatchObject({ messages: 0, last_message_at: null });
  });

  it('logs a bad payload at most once per device per interval and reports the suppressed count', () => {
    const { ingest, delivered, lines } = setup(60_000);
    ingest.setDevices(DEVICES);
    for (let i = 0; i < 5; i++) ingest.handle('plant/cnc/power', buf('nope'), false);
    ingest.handle('tele/tasmota_c3/SENSOR', buf('nope'), false); // another device: own budget
    expect(badPayloadLines(lines).map((l) => l.device_id)).toEqual(['cnc', 'saw']);
    expect(badPayloadLines(lines)[0]).toMatchObject({
      device_id: 'cnc',
      topic: 'plant/cnc/power',
      reason: 'payload is not JSON',
      suppressed: 0,
      level: 40,
    });

    vi.advanceTimersByTime(59_999);
    ingest.handle('plant/cnc/power', buf('nope'), false);
    expect(badPayloadLines(lines)).toHaveLength(2);

    vi.advanceTimersByTime(1);
    ingest.handle('plant/cnc/power', buf({ p: 'x' }), false);
    expect(badPayloadLines(lines)).toHaveLength(3);
    expect(badPayloadLines(lines)[2]).toMatchObject({
      device_id: 'cnc',
      reason: 'p is not a number',
      suppressed: 5,
    });
    expect(ingest.stats()).toMatchObject({ parse_errors: 8, suppressed_logs: 5 });
    expect(ingest.stats().devices.cnc?.suppressed_logs).toBe(5);
    expect(delivered).toEqual([]);
  });

  it('keeps counters of devices that stay and drops removed ones on setDevices', () => {
    const { ingest, delivered } = setup();
    ingest.setDevices(DEVICES);
    ingest.handle('tele/tasmota_c3/SENSOR', buf({ ENERGY: { Power: 1 } }), false);
    const topics = ingest.setDevices([DEVICES[2]!, device('new', 'tasmota', 'tasmota_d4')]);
    expect(topics).not.toContain('plant/cnc/power');
    expect(topics).toContain('tele/tasmota_d4/LWT');
    ingest.handle('plant/cnc/power', buf({ p: 1 }), false);
    expect(Object.keys(ingest.stats().devices).sort()).toEqual(['new', 'saw']);
    expect(ingest.stats().devices.saw?.messages).toBe(1);
    expect(ingest.stats().unknown_topic).toBe(1);
    expect(delivered).toHaveLength(1);
  });

  it('follows a topic change of a device', () => {
    const { ingest, delivered } = setup();
    ingest.setDevices([device('saw', 'tasmota', 'old')]);
    ingest.setDevices([device('saw', 'tasmota', 'renamed')]);
    ingest.handle('tele/old/LWT', buf('Online'), false);
    ingest.handle('tele/renamed/LWT', buf('Online'), false);
    expect(delivered).toEqual([
      ['saw', { kind: 'availability', online: true }, { retained: false }],
    ]);
  });

  it('delivers to every device when two share a topic', () => {
    const { ingest, delivered } = setup();
    ingest.setDevices([
      device('a', 'generic_json', 'shared/t', { field_path: 'p', unit: 'W' }),
      device('b', 'generic_json', 'shared/t', { field_path: 'q', unit: 'W' }),
    ]);
    ingest.handle('shared/t', buf({ p: 1, q: 2 }), false);
    expect(delivered.map(([id, input]) => [id, input])).toEqual([
      ['a', { kind: 'reading', power_w: 1, energy_wh: null }],
      ['b', { kind: 'reading', power_w: 2, energy_wh: null }],
    ]);
  });

  it('routes one meter topic to every machine on it, each reading its own channel', () => {
    const { ingest, delivered } = setup();
    const T = 'shellypro4pm-a';
    const saw = device('saw', 'shelly_gen2', T);
    const lathe = { ...device('lathe', 'shelly_gen2', T), channel: 2 };
    ingest.setDevices([saw, lathe]);
    expect(ingest.devicesFor(`${T}/events/rpc`)).toEqual(['saw', 'lathe']);
    ingest.handle(
      `${T}/events/rpc`,
      buf({
        method: 'NotifyStatus',
        params: { 'switch:0': { apower: 10 }, 'switch:2': { apower: 700 } },
      }),
      false,
    );
    expect(delivered.map(([id, input]) => [id, input])).toEqual([
      ['saw', { kind: 'reading', power_w: 10, energy_wh: null }],
      ['lathe', { kind: 'reading', power_w: 700, energy_wh: null }],
    ]);
    expect(ingest.stats().parse_errors).toBe(0);
  });

  it("forgets a machine's last power when it is moved to another channel", () => {
    const { ingest, delivered } = setup();
    const T = 'shellypro4pm-a';
    const lathe = device('lathe', 'shelly_gen2', T);
    ingest.setDevices([lathe]);
    ingest.handle(
      `${T}/status/switch:0`,
      buf({ id: 0, apower: 900, aenergy: { total: 5 } }),
      false,
    );
    expect(ingest.setDevices([{ ...lathe, channel: 1 }])).toContain(`${T}/status/switch:1`);
    // An energy-only delta of the new channel: no power known for it yet, so only a sign of life
    // (the old channel's 900 W must not be paired with channel 1's counter).
    ingest.handle(
      `${T}/events/rpc`,
      buf({ method: 'NotifyStatus', params: { 'switch:1': { aenergy: { total: 7 } } } }),
      false,
    );
    expect(delivered.map(([, input]) => input).at(-1)).toEqual({ kind: 'alive' });
  });

  it('survives a throwing input handler and counts it', () => {
    const log = captureLog();
    const ingest = new Ingest({
      onInput: () => {
        throw new Error('actor exploded');
      },
      log: log.log,
    });
    ingest.setDevices(DEVICES);
    expect(() => ingest.handle('tele/tasmota_c3/LWT', buf('Online'), false)).not.toThrow();
    expect(ingest.stats().handler_errors).toBe(1);
    expect(log.lines.some((l) => l.msg === 'Device input handler threw')).toBe(true);
  });

  it('returns the poll request of each parser family, null for generic and unknown devices', () => {
    const { ingest } = setup();
    ingest.setDevices(DEVICES);
    expect(ingest.pollRequest('lathe')?.topic).toBe('shellyplus1pm-a1/rpc');
    expect(ingest.pollRequest('drill')).toEqual({
      topic: 'shellies/shellyplug-s-b2/command',
      payload: 'update',
    });
    expect(ingest.pollRequest('saw')).toEqual({ topic: 'cmnd/tasmota_c3/STATUS', payload: '8' });
    expect(ingest.pollRequest('cnc')).toBeNull();
    expect(ingest.pollRequest('ghost')).toBeNull();
  });

  it('routes 10,000 devices with one lookup per message', () => {
    const { ingest, delivered } = setup();
    const many = Array.from({ length: 10_000 }, (_, i) => device(`d${i}`, 'tasmota', `t${i}`));
    expect(ingest.setDevices(many).size).toBe(50_000);
    ingest.handle('tele/t9999/LWT', buf('Offline'), false);
    expect(delivered).toEqual([
      ['d9999', { kind: 'availability', online: false }, { retained: false }],
    ]);
  });
});
