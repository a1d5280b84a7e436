/**
 * Card reads of badge readers (issue 16) on real payloads (fixtures/real-payloads.ts, source URL
 * beside each): Tasmota PN532 / RC522 / RDM6300 / Wiegand under the FullTopic, generic JSON with a
 * card path, and bare values (ESPHome).
 */
import { describe, expect, it } from 'vitest';
import { normalizeCardId, readCard, readerSubscriptions } from '../../../src/mqtt/parsers/cards.ts';
import { Bad } from '../../../src/mqtt/parsers/common.ts';
import { buf, reader } from '../helpers/devices.ts';
import {
  ESPHOME_PN532_UID,
  ESPHOME_RDM6300_UID,
  TASMOTA_DUAL_R3_SENSOR,
  TASMOTA_PN532_SENSOR,
  TASMOTA_RC522_SENSOR,
  TASMOTA_RDM6300_SENSOR,
  TASMOTA_READER_STATE,
  TASMOTA_WIEGAND_26_SENSOR,
  TASMOTA_WIEGAND_34_SENSOR,
} from './fixtures/real-payloads.ts';

const T = 'tasmota_4A72B7';
const tasmota = reader('door', 'tasmota', T, 'saw');
const SENSOR = `tele/${T}/SENSOR`;

describe('normalizeCardId', () => {
  it.each([
    ['04 A1 B2 C3', '04A1B2C3'],
    ['04:a1:b2:c3', '04A1B2C3'],
    ['74-10-37-94', '74103794'],
    ['0x04a1b2c3', '04A1B2C3'],
    ['  e9f35959\n', 'E9F35959'],
    [7748328, '7748328'],
    [0, '0'],
  ])('%j -> %s', (raw, expected) => {
    expect(normalizeCardId(raw, 'UID')).toBe(expected);
  });

  it.each([
    ['', 'UID is not a card id ("")'],
    ['04A1_B2', 'UID is not a card id ("04A1_B2")'],
    ['A'.repeat(65), 'UID is not a card id'],
    [-1, 'UID is not a card number (-1)'],
    [1.5, 'UID is not a card number (1.5)'],
    [2 ** 60, 'UID is not a card number'],
    [null, 'UID is not a card id (null)'],
    [{}, 'UID is not a card id (object)'],
  ])('refuses %j with a reason naming it', (raw, reason) => {
    const result = normalizeCardId(raw, 'UID');
    expect(result).toBeInstanceOf(Bad);
    expect((result as Bad).reason).toContain(reason);
  });
});

describe('readCard: Tasmota', () => {
  it('subscribes only tele SENSOR, under the default or a custom FullTopic', () => {
    expect(readerSubscriptions(tasmota)).toEqual([SENSOR]);
    const custom = { ...tasmota, tasmota_full_topic: 'tasmota/%prefix%/%topic%/' };
    expect(readerSubscriptions(custom)).toEqual([`tasmota/tele/${T}/SENSOR`]);
    expect(readCard(custom, `tasmota/tele/${T}/SENSOR`, buf(TASMOTA_RDM6300_SENSOR))).toEqual({
      kind: 'card',
      card_id: '0043202D',
    });
  });

  it.each([
    ['PN532', TASMOTA_PN532_SENSOR, 'E9F35959'],
    ['RC522', TASMOTA_RC522_SENSOR, 'BA839D07'],
    ['RDM6300', TASMOTA_RDM6300_SENSOR, '0043202D'],
    ['Wiegand 26 bit (a number)', TASMOTA_WIEGAND_26_SENSOR, '7748328'],
    ['Wiegand 34 bit', TASMOTA_WIEGAND_34_SENSOR, '4302741608'],
  ])('%s: the UID as a normalized card id', (_driver, payload, card_id) => {
    expect(readCard(tasmota, SENSOR, buf(payload))).toEqual({ kind: 'card', card_id });
  });

  it("takes Time as the read's own time only when it carries an offset (SetOption52 1)", () => {
    const withOffset = JSON.parse(TASMOTA_PN532_SENSOR) as Record<string, unknown>;
    withOffset.Time = '2020-09-28T17:02:10+02:00';
    expect(readCard(tasmota, SENSOR, buf(withOffset))).toEqual({
      kind: 'card',
      card_id: 'E9F35959',
      at: Date.parse('2020-09-28T15:02:10Z'),
    });
  });

  it("a SENSOR without a reader (the plug's energy), or a keypad key on Wiegand, is no card", () => {
    expect(readCard(tasmota, SENSOR, buf(TASMOTA_DUAL_R3_SENSOR))).toEqual({ kind: 'none' });
    const key = { Time: '2021-01-21T16:04:12', Wiegand: { UID: 1, Size: 4 } };
    expect(readCard(tasmota, SENSOR, buf(key))).toEqual({ kind: 'none' });
  });

  it('bad payloads are parse errors that name what is wrong', () => {
    const reason = (payload: string | object) => {
      const result = readCard(tasmota, SENSOR, buf(payload));
      return result.kind === 'invalid' ? result.reason : result.kind;
    };
    expect(reason('{"PN532":')).toBe('payload is not JSON');
    expect(reason('"E9F35959"')).toBe('payload is not a JSON object');
    expect(reason({ PN532: 'E9F35959' })).toBe('PN532 is not an object');
    expect(reason({ RDM6300: { DATA: '' } })).toBe('RDM6300.UID missing');
    expect(reason({ PN532: { UID: 'E9F3 59?' } })).toContain('PN532.UID is not a card id');
    // SetOption123 1 prints the Wiegand UID in hex without quotes: not JSON any more.
    expect(reason('{"Wiegand":{"UID":76A4E8,"Size":26}}')).toBe('payload is not JSON');
    expect(reason(Buffer.alloc(70_000, 0x20).toString())).toContain('payload too large');
  });

  it('a topic that is not the reader SENSOR is refused (never read as a card)', () => {
    expect(readCard(tasmota, `tele/${T}/STATE`, buf(TASMOTA_READER_STATE)).kind).toBe('invalid');
  });
});

describe('readCard: generic', () => {
  const esphome = reader('esp', 'generic_json', 'lab-reader/text_sensor/card/state', 'saw');
  const json = reader('json', 'generic_json', '0AFFD2/tag_scanned', 'saw', {
    card_path: 'PN532.UID',
  });

  it('a bare value is the card (ESPHome text sensor): dashes and case normalized', () => {
    expect(readerSubscriptions(esphome)).toEqual([esphome.topic]);
    expect(readCard(esphome, esphome.topic, buf(ESPHOME_PN532_UID))).toEqual({
      kind: 'card',
      card_id: '74103794',
    });
    expect(readCard(esphome, esphome.topic, buf(ESPHOME_RDM6300_UID))).toEqual({
      kind: 'card',
      card_id: '7616525',
    });
  });

  it('an empty bare value is no card; other text is a parse error naming the payload', () => {
    expect(readCard(esphome, esphome.topic, buf(''))).toEqual({ kind: 'none' });
    const result = readCard(esphome, esphome.topic, buf('04.A1.B2'));
    expect(result).toEqual({
      kind: 'invalid',
      reason: 'payload is not a card id ("04.A1.B2"): 1-64 letters and digits',
    });
  });

  it('card_path reads a JSON field (the Tasmota PN532 payload as Home Assistant gets it)', () => {
    expect(readCard(json, json.topic, buf(TASMOTA_PN532_SENSOR))).toEqual({
      kind: 'card',
      card_id: 'E9F35959',
    });
    // A message of the same reader without the field (its state) carries no card.
    expect(readCard(json, json.topic, buf(TASMOTA_READER_STATE))).toEqual({ kind: 'none' });
    expect(readCard(json, json.topic, buf('E9F35959'))).toEqual({
      kind: 'invalid',
      reason: 'payload is not JSON',
    });
    expect(readCard(json, json.topic, buf({ PN532: { UID: [1] } })).kind).toBe('invalid');
  });
});
