/**
 * Issue 15: Tasmota multi-channel devices (one machine per relay) and a custom FullTopic. Fixtures:
 * real payloads (./fixtures/real-payloads.ts, source URL beside each).
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { TasmotaParser } from '../../../src/mqtt/parsers/tasmota.ts';
import { buf, device } from '../helpers/devices.ts';
import {
  TASMOTA_DUAL_R3_SENSOR,
  TASMOTA_STATUS10_CUSTOM_FULLTOPIC,
} from './fixtures/real-payloads.ts';

const on = (id: string, topic: string, extra: Partial<DeviceConfig> = {}): DeviceConfig => ({
  ...device(id, 'tasmota', topic),
  ...extra,
});

describe('Tasmota channels and FullTopic (issue 15)', () => {
  const parser = () => new TasmotaParser();
  const T = 'tasmota_DAA58C';

  it('Dual R3: each machine gets its own channel of "Power":[114,25], never the 139 W sum', () => {
    const sensor = buf(TASMOTA_DUAL_R3_SENSOR);
    expect(parser().parse(on('heater', T), `tele/${T}/SENSOR`, sensor)).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 114, energy_wh: null },
    });
    expect(parser().parse(on('pump', T, { channel: 1 }), `tele/${T}/SENSOR`, sensor)).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 25, energy_wh: null },
    });
  });

  it('a channel the device does not have is an error naming it', () => {
    const result = parser().parse(
      on('x', T, { channel: 3 }),
      `tele/${T}/SENSOR`,
      buf(TASMOTA_DUAL_R3_SENSOR),
    );
    expect(result).toEqual({
      kind: 'invalid',
      reason: 'ENERGY.Power has 2 channel(s), channel 3 is configured',
    });
  });

  it('custom FullTopic: subscriptions, poll and the STATUS10 answer follow the template', () => {
    const dev = on('valve', 'CieploShelly1PM', { tasmota_full_topic: 'tasmota/%prefix%/%topic%/' });
    const p = parser();
    expect(p.subscriptions(dev)).toEqual([
      'tasmota/tele/CieploShelly1PM/SENSOR',
      'tasmota/tele/CieploShelly1PM/STATE',
      'tasmota/tele/CieploShelly1PM/LWT',
      'tasmota/stat/CieploShelly1PM/STATUS8',
      'tasmota/stat/CieploShelly1PM/STATUS10',
    ]);
    expect(p.poll(dev)).toEqual({ topic: 'tasmota/cmnd/CieploShelly1PM/STATUS', payload: '8' });
    const answer = buf(TASMOTA_STATUS10_CUSTOM_FULLTOPIC);
    expect(p.parse(dev, 'tasmota/stat/CieploShelly1PM/STATUS10', answer)).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 2, energy_wh: 557 },
    });
  });

  it('custom FullTopic: the LWT on the template topic is availability', () => {
    const dev = on('saw', 'sonoff_009', { tasmota_full_topic: 'sonoff/%topic%/%prefix%/' });
    expect(parser().parse(dev, 'sonoff/sonoff_009/tele/LWT', buf('Offline'))).toEqual({
      kind: 'input',
      input: { kind: 'availability', online: false },
    });
  });

  it('a FullTopic without the trailing slash is the same template (Tasmota appends it)', () => {
    const dev = on('saw', 'sonoff_009', { tasmota_full_topic: 'sonoff/%topic%/%prefix%' });
    expect(parser().subscriptions(dev)[0]).toBe('sonoff/sonoff_009/tele/SENSOR');
  });
});
