/**
 * Issue 15: Shelly Gen1 relay channels (2.5), EM clamps and the 3EM's three phases. Fixtures: real
 * payloads (./fixtures/real-payloads.ts, source URL beside each).
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import type { ParseResult } from '../../../src/mqtt/parsers/index.ts';
import { ShellyGen1Parser } from '../../../src/mqtt/parsers/shelly-gen1.ts';
import { buf, device } from '../helpers/devices.ts';
import {
  SHELLY_3EM_GEN1_BURST,
  SHELLY_3EM_GEN1_STATUS,
  SHELLY_25_RELAY1,
  SHELLY_EM_GEN1_BURST,
} from './fixtures/real-payloads.ts';

const on = (id: string, topic: string, extra: Partial<DeviceConfig> = {}): DeviceConfig => ({
  ...device(id, 'shelly_gen1', topic),
  ...extra,
});
const readings = (results: ParseResult[]) =>
  results.flatMap((r) => (r.kind === 'input' && r.input.kind === 'reading' ? [r.input] : []));

/** Feeds a burst through the parser for `dev`, only the topics it subscribes (as Ingest routes). */
function feed(p: ShellyGen1Parser, dev: DeviceConfig, id: string, burst: [string, string][]) {
  const subscribed = new Set(p.subscriptions(dev));
  const results: ParseResult[] = [];
  for (const [suffix, payload] of burst) {
    const topic = `shellies/${id}/${suffix}`;
    if (subscribed.has(topic)) results.push(p.parse(dev, topic, buf(payload)));
  }
  return results;
}

describe('Shelly Gen1 meters (issue 15)', () => {
  it('Shelly 2.5: the channel-1 machine reads relay/1, energy in watt-minutes', () => {
    const p = new ShellyGen1Parser();
    const dev = on('tv', 'NAPPALITV', { channel: 1 });
    const results = feed(p, dev, 'NAPPALITV', SHELLY_25_RELAY1);
    expect(results.map((r) => r.kind)).toEqual(['input', 'input', 'input']);
    expect(readings(results)).toEqual([
      { kind: 'reading', power_w: 0, energy_wh: null },
      { kind: 'reading', power_w: 0, energy_wh: 0 },
    ]);
    // Old code never subscribed relay/1: the machine on the second relay got nothing.
    expect(p.subscriptions(dev)).toContain('shellies/NAPPALITV/relay/1/power');
    expect(p.subscriptions(dev)).not.toContain('shellies/NAPPALITV/relay/0/power');
  });

  it('3EM: phase total is the sum of one burst, emitted once all three phases are in', () => {
    const p = new ShellyGen1Parser();
    const id = 'shellyem3-68C63AFAF952';
    const results = feed(p, on('compressor', id), id, SHELLY_3EM_GEN1_BURST);
    expect(results.every((r) => r.kind === 'input')).toBe(true);
    // Never phase A alone, never a partial sum: exactly one reading, 120.11 + 116.23 + 76.46.
    const [sum, ...rest] = readings(results);
    expect(rest).toEqual([]);
    expect(sum?.power_w).toBeCloseTo(312.8, 6);
  });

  it('3EM: a phase that repeats before the round is complete starts a new round (no mixed bursts)', () => {
    const p = new ShellyGen1Parser();
    const id = 'shellyem3-68C63AFAF952';
    const dev = on('compressor', id);
    feed(p, dev, id, SHELLY_3EM_GEN1_BURST); // learns: three phases
    const lostPhaseC = SHELLY_3EM_GEN1_BURST.filter(([t]) => !t.startsWith('emeter/2'));
    expect(readings(feed(p, dev, id, lostPhaseC))).toEqual([]);
    const next = feed(p, dev, id, SHELLY_3EM_GEN1_BURST);
    expect(readings(next).map((r) => r.power_w)).toHaveLength(1);
    expect(readings(next)[0]?.power_w).toBeCloseTo(312.8, 6);
  });

  it('3EM: phase a/b/c reads that phase alone, immediately', () => {
    const id = 'shellyem3-68C63AFAF952';
    const p = new ShellyGen1Parser();
    expect(readings(feed(p, on('drill', id, { phase: 'b' }), id, SHELLY_3EM_GEN1_BURST))).toEqual([
      { kind: 'reading', power_w: 116.23, energy_wh: null },
    ]);
  });

  it('EM: clamp 1 read alone; clamp 0 (channel 0) once the device shows it is not a 3EM', () => {
    const id = 'shellyem-123456789012';
    const p = new ShellyGen1Parser();
    expect(readings(feed(p, on('kiln', id, { channel: 1 }), id, SHELLY_EM_GEN1_BURST))).toEqual([
      { kind: 'reading', power_w: 0, energy_wh: null },
    ]);
    const saw = on('saw', id);
    // First burst: EM or 3EM is not known yet, nothing is billed to channel 0 (no wrong reading).
    expect(readings(feed(p, saw, id, SHELLY_EM_GEN1_BURST))).toEqual([]);
    // Next burst starts without a phase C in the previous one: a two-clamp EM, clamp 0 is read.
    expect(readings(feed(p, saw, id, SHELLY_EM_GEN1_BURST))).toEqual([
      { kind: 'reading', power_w: 611.53, energy_wh: null },
      { kind: 'reading', power_w: 611.53, energy_wh: 1891.9 },
    ]);
  });

  it('3EM /status (info): three emeters summed, totals in Wh; one phase on request', () => {
    const id = 'shellyem3-C45BBE7928B9';
    const topic = `shellies/${id}/info`;
    expect(new ShellyGen1Parser().parse(on('c', id), topic, buf(SHELLY_3EM_GEN1_STATUS))).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 10.66, energy_wh: 5.3 },
    });
    const phaseB = new ShellyGen1Parser().parse(
      on('d', id, { phase: 'b' }),
      topic,
      buf(SHELLY_3EM_GEN1_STATUS),
    );
    expect(phaseB).toEqual({ kind: 'input', input: { kind: 'reading', power_w: 0, energy_wh: 0 } });
  });

  it('pf / voltage / current / total_returned topics are not subscribed, so never an error', () => {
    const id = 'shellyem3-68C63AFAF952';
    const topics = new ShellyGen1Parser().subscriptions(on('c', id));
    for (const suffix of ['pf', 'voltage', 'current', 'total_returned', 'reactive_power'])
      expect(topics).not.toContain(`shellies/${id}/emeter/0/${suffix}`);
    expect(topics).toContain(`shellies/${id}/emeter/2/power`);
  });
});
