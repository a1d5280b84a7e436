/**
 * Badge readers in the MQTT intake (issue 16): subscriptions, routing of a topic shared with a
 * meter (a Tasmota plug with a PN532 attached), retained replays, and bad payloads counted and
 * logged per reader like a meter's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceInput } from '../../src/devices/types.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import { captureLog } from '../helpers/log.ts';
import { buf, device, reader } from './helpers/devices.ts';
import {
  TASMOTA_DUAL_R3_SENSOR,
  TASMOTA_PN532_SENSOR,
  TASMOTA_RDM6300_SENSOR,
} from './parsers/fixtures/real-payloads.ts';

const PLUG = 'tasmota_8E4A2F';
const SAW = device('saw', 'tasmota', PLUG);
const SAW_READER = reader('reader-saw', 'tasmota', PLUG, 'saw');
const LASER_READER = reader('reader-laser', 'generic_json', 'laser/text_sensor/card/state', 'saw');

function setup() {
  const inputs: [string, DeviceInput][] = [];
  const cards: [string, { card_id: string; at?: number }][] = [];
  const log = captureLog();
  const ingest = new Ingest({
    onInput: (id, input) => inputs.push([id, input]),
    onCard: (id, card) => cards.push([id, card]),
    log: log.log,
  });
  return { ingest, inputs, cards, lines: log.lines };
}

describe('Ingest: badge readers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-05T08:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it("subscribes the readers' topics with the meters', once for a topic they share", () => {
    const { ingest } = setup();
    const meters = ingest.setDevices([SAW]);
    const all = ingest.setBadgeReaders([SAW_READER, LASER_READER]);
    expect([...all].sort()).toEqual([...meters, 'laser/text_sensor/card/state'].sort());
    expect(ingest.devicesFor(`tele/${PLUG}/SENSOR`)).toEqual(['saw', 'reader-saw']);
    // Devices replaced later: the readers' topics stay wanted.
    expect(ingest.setDevices([])).toEqual(
      new Set([`tele/${PLUG}/SENSOR`, 'laser/text_sensor/card/state']),
    );
  });

  it('one SENSOR on a plug with a PN532 feeds both: the card to the reader, a sign of life to the meter', () => {
    const { ingest, inputs, cards } = setup();
    ingest.setDevices([SAW]);
    ingest.setBadgeReaders([SAW_READER]);
    // The PN532 driver publishes its read alone (Time + PN532); the energy comes every TelePeriod.
    ingest.handle(`tele/${PLUG}/SENSOR`, buf(TASMOTA_PN532_SENSOR), false);
    ingest.handle(`tele/${PLUG}/SENSOR`, buf(TASMOTA_DUAL_R3_SENSOR), false);
    expect(cards).toEqual([['reader-saw', { card_id: 'E9F35959' }]]);
    expect(inputs.map(([id, input]) => [id, input.kind])).toEqual([
      ['saw', 'alive'],
      ['saw', 'reading'],
    ]);
    const stats = ingest.stats();
    expect(stats.readers['reader-saw']).toMatchObject({ messages: 2, inputs: 1, ignored: 1 });
    expect(stats.devices.saw).toMatchObject({ messages: 2, inputs: 2 });
    expect(stats.unknown_topic).toBe(0);
  });

  it('a retained card read is a replay, not a presentation: ignored', () => {
    const { ingest, cards } = setup();
    ingest.setBadgeReaders([LASER_READER]);
    ingest.handle(LASER_READER.topic, buf('74-10-37-94'), true);
    ingest.handle(LASER_READER.topic, buf('74-10-37-94'), false);
    expect(cards).toEqual([['reader-laser', { card_id: '74103794' }]]);
    expect(ingest.stats().readers['reader-laser']?.ignored).toBe(1);
  });

  it('a bad card payload is a parse error of the reader, logged with its reason; nothing handed on', () => {
    const { ingest, cards, lines } = setup();
    ingest.setBadgeReaders([SAW_READER]);
    ingest.handle(`tele/${PLUG}/SENSOR`, buf({ RDM6300: { UID: 'not a card!' } }), false);
    ingest.handle(`tele/${PLUG}/SENSOR`, buf(TASMOTA_RDM6300_SENSOR), false);
    expect(cards).toEqual([['reader-saw', { card_id: '0043202D' }]]);
    const stats = ingest.stats();
    expect(stats.parse_errors).toBe(1);
    expect(stats.readers['reader-saw']?.last_error).toContain('RDM6300.UID is not a card id');
    const logged = lines.filter((l) => l.reason !== undefined);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ device_id: 'reader-saw', topic: `tele/${PLUG}/SENSOR` });
  });

  it('a handler that throws is counted, never thrown into the MQTT client', () => {
    const ingest = new Ingest({
      onInput: () => undefined,
      onCard: () => {
        throw new Error('boom');
      },
    });
    ingest.setBadgeReaders([LASER_READER]);
    expect(() => ingest.handle(LASER_READER.topic, buf('A1'), false)).not.toThrow();
    expect(ingest.stats().handler_errors).toBe(1);
  });
});
