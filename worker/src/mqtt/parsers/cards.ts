/**
 * Card reads of badge readers (issue 16), in the same payload families as the meters:
 *
 *   tasmota       `tele/<topic>/SENSOR` under the reader's FullTopic (the helpers of tasmota.ts), one
 *                 object per reader driver: `{"PN532":{"UID":"94D8FC5F"}}`, `{"RC522":{"UID":…}}`,
 *                 `{"RDM6300":{"UID":"0043202D"}}`, `{"Wiegand":{"UID":7748328,"Size":26}}`. A Wiegand
 *                 message of 4 or 8 bits is a keypad key, not a card: no card. `Time` with an offset
 *                 (SetOption52 1) is the read's own time.
 *   generic_json  `<topic>`: the JSON field `card_path` (dotted), or without it the payload itself
 *                 (ESPHome `<node>/text_sensor/<name>/state` publishes the tag's text, "74-10-37-94").
 *
 * A message that carries no card (a SENSOR of the plug's energy chip, a JSON object without the
 * field, an empty text) is `none`: quietly ignored, as a meter's sign of life is. A card field that
 * is no card id (an object, a fraction, text with other characters) is `invalid`, a parse error.
 */
import type { BadgeReaderConfig } from '@workshop-iot/shared';
import { Bad, getPath, isObject, type JsonValue, parseJsonObject, payloadText } from './common.ts';
import { tasmotaTopic } from './tasmota.ts';
import { isoWithOffsetMs } from './time.ts';

export type CardRead =
  /** A card was read; `at` is the reader's own time of the read when the payload carries one. */
  | { kind: 'card'; card_id: string; at?: number }
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string };

/** Tasmota reader drivers, in the order a SENSOR object is searched (one reader per device). */
export const TASMOTA_CARD_KEYS = ['PN532', 'RC522', 'RDM6300', 'Wiegand'] as const;

/** Wiegand frames of these sizes are keypad keys (Tasmota xsns_82_wiegand), not cards. */
const WIEGAND_KEYPAD_BITS = new Set([4, 8]);

const CARD_ID = /^[0-9A-Z]{1,64}$/;
const NONE: CardRead = { kind: 'none' };
const invalid = (reason: string): CardRead => ({ kind: 'invalid', reason });

/**
 * A reader's text or number as the shared `CardId`: whitespace, ':' and '-' removed, a leading 0x
 * dropped, upper-cased ("04 a1:b2-c3" and "0x04A1B2C3" are one card). A number (Wiegand's decimal
 * UID) must be a non-negative integer JSON represents exactly.
 */
export function normalizeCardId(raw: unknown, what: string): string | Bad {
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0)
      return new Bad(`${what} is not a card number (${raw})`);
    text = String(raw);
  } else if (typeof raw === 'string') {
    text = raw.replace(/[\s:-]/g, '');
    if (/^0x/i.test(text)) text = text.slice(2);
    text = text.toUpperCase();
  } else {
    return new Bad(`${what} is not a card id (${raw === null ? 'null' : typeof raw})`);
  }
  if (!CARD_ID.test(text)) {
    const shown = String(raw).length > 40 ? `${String(raw).slice(0, 40)}...` : String(raw);
    return new Bad(`${what} is not a card id (${JSON.stringify(shown)}): 1-64 letters and digits`);
  }
  return text;
}

/** The topics a reader's card reads arrive on (exact topics, like every meter's). */
export function readerSubscriptions(reader: BadgeReaderConfig): string[] {
  return reader.parser_type === 'tasmota'
    ? [tasmotaTopic(reader, 'tele', 'SENSOR')]
    : [reader.topic];
}

/** The card in one message on one of `readerSubscriptions(reader)`. Never throws. */
export function readCard(reader: BadgeReaderConfig, topic: string, payload: Buffer): CardRead {
  if (reader.parser_type === 'tasmota') {
    if (topic !== tasmotaTopic(reader, 'tele', 'SENSOR'))
      return invalid(`topic ${topic} is not this reader's SENSOR topic`);
    return tasmotaCard(payload);
  }
  if (topic !== reader.topic) return invalid(`topic ${topic} is not this reader's topic`);
  return reader.card_path === undefined ? bareCard(payload) : jsonCard(payload, reader.card_path);
}

function tasmotaCard(payload: Buffer): CardRead {
  const body = parseJsonObject(payload);
  if (body instanceof Bad) return invalid(body.reason);
  const key = TASMOTA_CARD_KEYS.find((k) => body[k] !== undefined);
  if (key === undefined) return NONE;
  const driver = body[key];
  if (!isObject(driver)) return invalid(`${key} is not an object`);
  if (key === 'Wiegand' && typeof driver.Size === 'number' && WIEGAND_KEYPAD_BITS.has(driver.Size))
    return NONE;
  if (driver.UID === undefined) return invalid(`${key}.UID missing`);
  return card(normalizeCardId(driver.UID, `${key}.UID`), isoWithOffsetMs(body.Time));
}

function jsonCard(payload: Buffer, cardPath: string): CardRead {
  const text = payloadText(payload);
  if (text instanceof Bad) return invalid(text.reason);
  let body: JsonValue;
  try {
    body = JSON.parse(text) as JsonValue;
  } catch {
    return invalid('payload is not JSON');
  }
  if (typeof body !== 'object' || body === null) return invalid('payload is not a JSON object');
  const value = getPath(body, cardPath.split('.'));
  // A reader publishing its whole state (a tag removed, a status report) without a card.
  if (value === undefined || value === null || value === '') return NONE;
  return card(normalizeCardId(value, cardPath), undefined);
}

/** The payload is the card id itself ("74-10-37-94", "7616525"); an empty text is no card. */
function bareCard(payload: Buffer): CardRead {
  const text = payloadText(payload);
  if (text instanceof Bad) return invalid(text.reason);
  if (text.trim() === '') return NONE;
  return card(normalizeCardId(text.trim(), 'payload'), undefined);
}

function card(id: string | Bad, at: number | undefined): CardRead {
  if (id instanceof Bad) return invalid(id.reason);
  return at === undefined ? { kind: 'card', card_id: id } : { kind: 'card', card_id: id, at };
}
