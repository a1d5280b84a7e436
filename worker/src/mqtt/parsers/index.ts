/**
 * Parser registry: `parser_type` -> `Parser`. Parsers may hold per-device state, so every consumer
 * (one `Ingest` per worker) creates its own registry; there is no module-level singleton.
 */
import type { ParserType } from '@workshop-iot/shared';
import { GenericJsonParser } from './generic-json.ts';
import { ShellyGen1Parser } from './shelly-gen1.ts';
import { ShellyGen2Parser } from './shelly-gen2.ts';
import { TasmotaParser } from './tasmota.ts';
import type { Parser } from './types.ts';

export type ParserRegistry = Readonly<Record<ParserType, Parser>>;

export function createParserRegistry(): ParserRegistry {
  return {
    shelly_gen2: new ShellyGen2Parser(),
    shelly_gen1: new ShellyGen1Parser(),
    tasmota: new TasmotaParser(),
    generic_json: new GenericJsonParser(),
  };
}

export { MAX_PAYLOAD_BYTES, MAX_POWER_W } from './common.ts';
export { GenericJsonParser } from './generic-json.ts';
export { gen1Base, ShellyGen1Parser } from './shelly-gen1.ts';
export { ShellyGen2Parser } from './shelly-gen2.ts';
export { TasmotaParser } from './tasmota.ts';
export type { ParseResult, Parser, PollRequest } from './types.ts';
