/**
 * Issue 15: a Gen2/Gen3/Pro meter serves several machines, each on its own component (switch:N,
 * em1:N, em:N phase). Every frame that carries several components is read at this machine's only.
 * Fixtures: real payloads (./fixtures/real-payloads.ts, source URL beside each).
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { ShellyGen2Parser } from '../../../src/mqtt/parsers/shelly-gen2.ts';
import { buf, device } from '../helpers/devices.ts';
import {
  SHELLY_MINI_G3_NOTIFY_STATUS,
  SHELLY_PLUS_NOTIFY_EVENT_INPUT,
  SHELLY_PRO_EM50_GET_STATUS,
  SHELLY_PRO3EM_GET_STATUS,
  SHELLY_PRO3EM_STATUS_EM0,
  SHELLY_PRO3EM_STATUS_EMDATA0,
  SHELLY_PRO4PM_SWITCH_STATUS,
} from './fixtures/real-payloads.ts';

const on = (id: string, topic: string, extra: Partial<DeviceConfig> = {}): DeviceConfig => ({
  ...device(id, 'shelly_gen2', topic),
  ...extra,
});
/** A GetStatus result as the MQTT poll answer frame carries it (`<topic>/poll/rpc`). */
const pollAnswer = (src: string, result: string) =>
  Buffer.from(`{"id":1,"src":"${src}","dst":"${src}/poll","result":${result}}`);
const reading = (power_w: number, energy_wh: number | null) => ({
  kind: 'input',
  input: { kind: 'reading', power_w, energy_wh },
});
const ALIVE = { kind: 'input', input: { kind: 'alive' } };

describe('Shelly Gen2 channels (issue 15)', () => {
  const parser = () => new ShellyGen2Parser();

  it('subscribes the live status topics of the configured channel only', () => {
    const lathe = on('lathe', 'shellypro4pm-a', { channel: 2 });
    const topics = parser().subscriptions(lathe);
    expect(topics).toContain('shellypro4pm-a/status/switch:2');
    expect(topics).toContain('shellypro4pm-a/status/em1:2');
    expect(topics.some((t) => t.endsWith(':0'))).toBe(false);
  });

  it('a NotifyStatus of switch:0 is not power of the channel-2 machine (Mini Gen3 frame)', () => {
    const T = 'shelly1pmminig3-5432044edbc0';
    const frame = buf(SHELLY_MINI_G3_NOTIFY_STATUS);
    // Old code: channel 2's machine got 11.5 W, channel 0's load.
    expect(parser().parse(on('ch2', T, { channel: 2 }), `${T}/events/rpc`, frame)).toEqual(ALIVE);
    expect(parser().parse(on('ch0', T), `${T}/events/rpc`, frame)).toMatchObject({
      input: { kind: 'reading', power_w: 11.5, energy_wh: null },
    });
  });

  it('reads status/switch:N of a Pro 4PM channel with its energy', () => {
    const T = 'shellypro4pm-xxxx';
    const lathe = on('lathe', T, { channel: 2 });
    const status = SHELLY_PRO4PM_SWITCH_STATUS.replace('"id" : 0', '"id" : 2'); // channel 2's topic
    expect(parser().parse(lathe, `${T}/status/switch:2`, buf(status))).toEqual(
      reading(0, 718585.772),
    );
  });

  it('EM Gen3 / Pro EM-50: each clamp (em1:N) and its em1data counter from one poll answer', () => {
    const T = 'shellyproem50-08f9e0e67204';
    const answer = pollAnswer(T, SHELLY_PRO_EM50_GET_STATUS);
    expect(parser().parse(on('kiln', T, { channel: 1 }), `${T}/poll/rpc`, answer)).toEqual(
      reading(6769.3, 9671.54),
    );
    // Channel 0 reads em1:0 (0 W), not the unmetered switch:0 listed in the same answer.
    expect(parser().parse(on('saw', T), `${T}/poll/rpc`, answer)).toEqual(reading(0, 0));
  });

  it('a full status without the configured channel names the configuration error', () => {
    const T = 'shellyproem50-08f9e0e67204';
    const answer = pollAnswer(T, SHELLY_PRO_EM50_GET_STATUS);
    const result = parser().parse(on('x', T, { channel: 3 }), `${T}/poll/rpc`, answer);
    expect(result).toMatchObject({ kind: 'invalid' });
    expect(result.kind === 'invalid' && result.reason).toContain(
      'no meter component for channel 3',
    );
    expect(result.kind === 'invalid' && result.reason).toContain('em1:0, em1:1');
  });

  it('Pro 3EM status/em:0: total_act_power for a three-phase machine, a_act_power for phase A', () => {
    const T = 'shellypro3em';
    const em0 = buf(SHELLY_PRO3EM_STATUS_EM0);
    expect(parser().parse(on('compressor', T), `${T}/status/em:0`, em0)).toEqual(
      reading(594.006, null),
    );
    expect(parser().parse(on('drill', T, { phase: 'a' }), `${T}/status/em:0`, em0)).toEqual(
      reading(145.4, null),
    );
    expect(parser().parse(on('grinder', T, { phase: 'c' }), `${T}/status/em:0`, em0)).toEqual(
      reading(358.3, null),
    );
  });

  it('Pro 3EM status/emdata:0 gives energy per phase, with the last power of that phase', () => {
    const T = 'shellypro3em';
    const p = parser();
    const drill = on('drill', T, { phase: 'b' });
    const compressor = on('compressor', T);
    p.parse(drill, `${T}/status/em:0`, buf(SHELLY_PRO3EM_STATUS_EM0));
    p.parse(compressor, `${T}/status/em:0`, buf(SHELLY_PRO3EM_STATUS_EM0));
    const emdata = buf(SHELLY_PRO3EM_STATUS_EMDATA0);
    expect(p.parse(drill, `${T}/status/emdata:0`, emdata)).toEqual(reading(90.3, 118809.52));
    expect(p.parse(compressor, `${T}/status/emdata:0`, emdata)).toEqual(
      reading(594.006, 345628.03),
    );
  });

  it('Pro 3EM GetStatus answer: em:0 and emdata:0 in one reading per phase choice', () => {
    const T = 'shellypro3em-x';
    const answer = pollAnswer(T, SHELLY_PRO3EM_GET_STATUS);
    expect(parser().parse(on('compressor', T), `${T}/poll/rpc`, answer)).toEqual(
      reading(480.924, 1562384.2),
    );
    expect(parser().parse(on('drill', T, { phase: 'a' }), `${T}/poll/rpc`, answer)).toEqual(
      reading(266.5, 819087.5),
    );
  });

  it('input events (NotifyEvent) are a sign of life for every channel, never a parse error', () => {
    const T = 'shellyplus1pm-b22864';
    const p = parser();
    const event = buf(SHELLY_PLUS_NOTIFY_EVENT_INPUT);
    expect(p.parse(on('x', T), `${T}/events/rpc`, event)).toEqual(ALIVE);
    expect(p.parse(on('y', T, { channel: 1 }), `${T}/events/rpc`, event)).toEqual(ALIVE);
    expect(p.subscriptions(on('y', T, { channel: 1 }))).toContain(`${T}/status/switch:1`);
  });

  it('sys / wifi / mqtt / ble / cloud / input components are never read as power', () => {
    const T = 'shellyproem50-08f9e0e67204';
    const all = JSON.parse(SHELLY_PRO_EM50_GET_STATUS) as Record<string, unknown>;
    for (const key of ['sys', 'wifi', 'mqtt', 'ble', 'cloud', 'eth', 'switch:0']) {
      const frame = { method: 'NotifyStatus', params: { ts: 1707932870, [key]: all[key] } };
      expect(parser().parse(on('x', T), `${T}/events/rpc`, buf(frame)), key).toEqual(ALIVE);
    }
    // The same components around this machine's own clamp in one answer: only the clamp is read.
    const answer = pollAnswer(T, SHELLY_PRO_EM50_GET_STATUS);
    expect(parser().parse(on('x', T, { channel: 1 }), `${T}/poll/rpc`, answer)).toEqual(
      reading(6769.3, 9671.54),
    );
  });
});
