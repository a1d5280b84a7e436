/**
 * Discovery: the MQTT side. Which wildcard filters it subscribes, which parser reads a message,
 * which requests it publishes to learn more (rate limited per device), and counting of what it
 * could not read. Messages come from the worker's one MQTT connection beside the meters' own.
 *
 *   topic ─> parser (shelly-gen2 / shelly-gen1 / tasmota / zigbee2mqtt) ─> observations ─> store
 *                                 └─> requests (Shelly.GetDeviceInfo...) ─> publish     └─> reporter
 *
 * Nothing here throws into the MQTT client, and nothing here waits on Odoo.
 */
import type { Logger } from '../log.ts';
import { topicMatches } from '../mqtt/subscriptions.ts';
import type { DiscoveryReporter } from './reporter.ts';
import {
  parseShellyGen1,
  SHELLY_GEN1_ANNOUNCE_REQUEST,
  SHELLY_GEN1_FILTERS,
} from './shelly-gen1.ts';
import { parseShellyGen2, SHELLY_GEN2_FILTERS } from './shelly-gen2.ts';
import type { DiscoveryStore } from './store.ts';
import { parseTasmota, TASMOTA_FILTERS } from './tasmota.ts';
import type { AnnounceResult } from './types.ts';
import { parseZigbee2mqtt, ZIGBEE2MQTT_FILTERS } from './zigbee2mqtt.ts';

/** Zigbee2MQTT's list of a large network is big; anything larger is refused, not parsed. */
export const MAX_DISCOVERY_PAYLOAD = 1024 * 1024;
/** A device is asked what it is at most once per this interval (it re-announces on reconnect). */
export const DEFAULT_REQUEST_INTERVAL_MS = 10 * 60_000;
const LOG_INTERVAL_MS = 60_000;

type Parser = (topic: string, payload: Buffer) => AnnounceResult;

const ROUTES: [readonly string[], Parser][] = [
  [SHELLY_GEN2_FILTERS, parseShellyGen2],
  [SHELLY_GEN1_FILTERS, parseShellyGen1],
  [TASMOTA_FILTERS, parseTasmota],
  [ZIGBEE2MQTT_FILTERS, parseZigbee2mqtt],
];

const LIKELY: ((topic: string) => boolean)[] = [
  (t) => t.endsWith('/online') || t.endsWith('/rpc'),
  (t) => t === 'shellies/announce' || t.startsWith('tasmota/discovery/'),
  (t) => t.endsWith('/bridge/devices'),
];

export const DISCOVERY_FILTERS: readonly string[] = ROUTES.flatMap(([filters]) => filters);

export interface DiscoveryOptions {
  store: Pick<DiscoveryStore, 'observe' | 'problem'>;
  reporter: Pick<DiscoveryReporter, 'poke'>;
  /** Publishes a request; false/void when not connected (it is not queued). */
  publish: (topic: string, payload: string) => unknown;
  log?: Logger;
  now?: () => number;
  requestIntervalMs?: number;
}

export interface DiscoveryStats {
  messages: number;
  invalid: number;
  requests: number;
  last_error: string | null;
}

export class Discovery {
  readonly #options: DiscoveryOptions;
  readonly #now: () => number;
  /** Request key -> when it was last sent; bounded like the store (oldest dropped). */
  readonly #asked = new Map<string, number>();
  readonly #stats: DiscoveryStats = { messages: 0, invalid: 0, requests: 0, last_error: null };
  #lastLogAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  filters(): string[] {
    return [...DISCOVERY_FILTERS];
  }

  /** On the hot path of every MQTT message: a suffix check first, filter matching only then. */
  matches(topic: string): boolean {
    if (!LIKELY.some((test) => test(topic))) return false;
    return ROUTES.some(([filters]) => filters.some((f) => topicMatches(f, topic)));
  }

  /** The connection is (re)established: ask every Gen1 device to announce itself. */
  connected(): void {
    this.#send(SHELLY_GEN1_ANNOUNCE_REQUEST.topic, SHELLY_GEN1_ANNOUNCE_REQUEST.payload);
  }

  handle(topic: string, payload: Buffer): void {
    const parser = ROUTES.find(([filters]) => filters.some((f) => topicMatches(f, topic)))?.[1];
    if (!parser) return;
    this.#stats.messages++;
    let result: AnnounceResult;
    try {
      result =
        payload.length > MAX_DISCOVERY_PAYLOAD
          ? { kind: 'invalid', reason: `payload of ${payload.length} bytes is over 1 MiB` }
          : parser(topic, payload);
    } catch (err) {
      result = { kind: 'invalid', reason: `parser failed: ${(err as Error).message}` };
    }
    if (result.kind === 'ignored') return;
    if (result.kind === 'invalid') {
      this.#invalid(topic, result.reason);
      return;
    }
    let due = false;
    for (const obs of result.observations) {
      if (this.#options.store.observe(obs)) due = true;
      else {
        const problem = this.#options.store.problem(obs.family, obs.device_key);
        if (problem) this.#invalid(topic, `${obs.device_key} cannot be reported: ${problem}`);
      }
    }
    if (due) this.#options.reporter.poke();
    for (const request of result.requests) {
      const last = this.#asked.get(request.payload + request.key) ?? Number.NEGATIVE_INFINITY;
      const now = this.#now();
      if (now - last < (this.#options.requestIntervalMs ?? DEFAULT_REQUEST_INTERVAL_MS)) continue;
      this.#asked.delete(request.payload + request.key);
      this.#asked.set(request.payload + request.key, now);
      if (this.#asked.size > 10_000) this.#asked.delete(this.#asked.keys().next().value as string);
      this.#send(request.topic, request.payload);
    }
  }

  stats(): DiscoveryStats {
    return { ...this.#stats };
  }

  #send(topic: string, payload: string): void {
    this.#stats.requests++;
    try {
      this.#options.publish(topic, payload);
    } catch (err) {
      this.#options.log?.warn({ err, topic }, 'Discovery request could not be published');
    }
  }

  /** Counted always; logged at most once a minute with how many were not logged since. */
  #invalid(topic: string, reason: string): void {
    this.#stats.invalid++;
    this.#stats.last_error = `${topic}: ${reason}`.slice(0, 300);
    const now = this.#now();
    if (now - this.#lastLogAt < LOG_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#options.log?.warn(
      { topic, reason, suppressed: this.#suppressed },
      `Discovery could not read the announcement on '${topic}': ${reason}`,
    );
    this.#lastLogAt = now;
    this.#suppressed = 0;
  }
}
