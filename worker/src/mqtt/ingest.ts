/**
 * The MQTT hot path: (topic, payload, retained) -> parser -> `DeviceInput` -> `onInput`.
 *
 * Routing is one `Map.get(topic)` per message. That works because every built-in parser subscribes
 * exact topics (no wildcards), so the set of subscribed topics IS the routing table: no linear scan
 * over devices and no regex per message. The index is rebuilt by `setDevices`, which also returns the
 * topic filters the MQTT connection must subscribe. One topic may route to several devices: the
 * machines on different channels or phases of one meter (a Pro 4PM's `events/rpc`, a Pro 3EM's
 * `status/em:0`) share its topics; the topic is subscribed once and each machine's parser reads only
 * its own channel out of the message.
 *
 * Badge readers (issue 16) route the same way, in their own index: a reader's topic may be a meter's
 * too (a Tasmota plug with a PN532 attached publishes its energy and its cards on one `SENSOR`), so
 * one message can feed a meter AND a reader; each reads only its own part of it (`cards.ts`).
 *
 * Bad payloads are counted per device and logged at most once per device per `logIntervalMs`
 * (the log line carries how many were suppressed since the previous one). Nothing here throws into
 * the MQTT client: a throwing parser or `onInput` is caught, counted and logged.
 */
import type { BadgeReaderConfig, DeviceConfig } from '@workshop-iot/shared';
import type { Logger } from 'pino';
import type { DeviceInput } from '../devices/types.ts';
import { readCard, readerSubscriptions } from './parsers/cards.ts';
import { createParserRegistry, type ParserRegistry } from './parsers/index.ts';
import type { Parser, PollRequest } from './parsers/types.ts';

export interface InputMeta {
  /** The broker delivered a retained message (a replay on subscribe), not a live one. */
  retained: boolean;
}

export type InputHandler = (deviceId: string, input: DeviceInput, meta: InputMeta) => void;

/** A card read on a reader (`at`: the reader's own time of the read, when the payload has one). */
export type CardHandler = (readerId: string, card: { card_id: string; at?: number }) => void;

export interface IngestOptions {
  onInput: InputHandler;
  /** Card reads of the badge readers (`setBadgeReaders`); without it, readers are not read. */
  onCard?: CardHandler;
  log?: Logger;
  /** At most one bad-payload log line per device per interval (default 60 s). */
  logIntervalMs?: number;
  /** Clock for the log rate limit; defaults to `Date.now` (works with vitest fake timers). */
  now?: () => number;
  parsers?: ParserRegistry;
}

export interface DeviceIngestStats {
  messages: number;
  inputs: number;
  ignored: number;
  parse_errors: number;
  /** Bad payloads whose log line was suppressed by the rate limit (monotonic). */
  suppressed_logs: number;
  /** Epoch ms of the last message routed to this device, null before the first. */
  last_message_at: number | null;
  last_error: string | null;
}

export interface IngestStats {
  messages: number;
  inputs: number;
  ignored: number;
  parse_errors: number;
  unknown_topic: number;
  suppressed_logs: number;
  handler_errors: number;
  devices: Record<string, DeviceIngestStats>;
  /** Per badge reader, the same counters (`inputs` = card reads handed on). */
  readers: Record<string, DeviceIngestStats>;
}

/** What the bad-payload log rate limit keeps per device or reader. */
interface LogState {
  id: string;
  stats: DeviceIngestStats;
  /** Epoch ms of the last bad-payload log line (-Infinity = never). */
  lastLogAt: number;
  /** Bad payloads not logged since the last log line (reported in the next one). */
  pendingSuppressed: number;
}

interface ReaderRoute extends LogState {
  reader: BadgeReaderConfig;
}

interface Route extends LogState {
  device: DeviceConfig;
  parser: Parser;
}

const DEFAULT_LOG_INTERVAL_MS = 60_000;

// Shared, frozen: one allocation fewer per message, and a handler that keeps `meta` still cannot
// see it change.
const LIVE: InputMeta = Object.freeze({ retained: false });
const RETAINED: InputMeta = Object.freeze({ retained: true });

/** Whether a reconfigured device reads another meter, channel, phase or topic layout than before. */
function readsDifferently(
  before: DeviceConfig,
  after: DeviceConfig,
  parserBefore: Parser,
  parserAfter: Parser,
): boolean {
  return (
    parserBefore !== parserAfter ||
    before.topic !== after.topic ||
    (before.channel ?? 0) !== (after.channel ?? 0) ||
    (before.phase ?? 'total') !== (after.phase ?? 'total') ||
    before.tasmota_full_topic !== after.tasmota_full_topic
  );
}

/**
 * `text` as one flat string. A topic built by concatenation (`${device.topic}/status/switch:0`) is
 * a V8 cons string: kept as a map key it stays a 32-byte cons cell around its flattened copy, for
 * as long as the device is configured (10,000 Gen2 meters: 90,000 cells, 2.9 MB of heap). Built
 * once per topic and config push; a string UTF-8 cannot carry (a lone surrogate) stays as it is.
 */
function flatString(text: string): string {
  const flat = Buffer.from(text, 'utf8').toString('utf8');
  return flat === text ? flat : text;
}

const newDeviceStats = (): DeviceIngestStats => ({
  messages: 0,
  inputs: 0,
  ignored: 0,
  parse_errors: 0,
  suppressed_logs: 0,
  last_message_at: null,
  last_error: null,
});

export class Ingest {
  readonly #onInput: InputHandler;
  readonly #onCard: CardHandler | undefined;
  readonly #log: Logger | undefined;
  readonly #logIntervalMs: number;
  readonly #now: () => number;
  readonly #parsers: ParserRegistry;
  /**
   * topic -> the route of the one device on that topic, or the routes of several (a multi-channel
   * meter). One route is kept as it is, not in an array: 10,000 Shelly Gen2 meters are 90,000
   * topics, and an array each was ~7 MB of the worker's heap.
   */
  #byTopic = new Map<string, Route | Route[]>();
  #byDevice = new Map<string, Route>();
  /** topic -> badge readers on that topic (several only if two readers share one, e.g. a bridge). */
  #readersByTopic = new Map<string, ReaderRoute[]>();
  #byReader = new Map<string, ReaderRoute>();
  readonly #totals = {
    messages: 0,
    inputs: 0,
    ignored: 0,
    parse_errors: 0,
    unknown_topic: 0,
    suppressed_logs: 0,
    handler_errors: 0,
  };

  constructor(options: IngestOptions) {
    this.#onInput = options.onInput;
    this.#onCard = options.onCard;
    this.#log = options.log?.child({ module: 'mqtt.ingest' });
    this.#logIntervalMs = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
    this.#parsers = options.parsers ?? createParserRegistry();
  }

  /**
   * Replace the device list. Rebuilds the routing index and returns every topic filter to subscribe,
   * the badge readers' included (hand it to `MqttConnection.setSubscriptions`, which diffs). Counters of devices that stay are
   * kept, so /metrics counters never go backwards for a device that was only edited.
   */
  setDevices(devices: readonly DeviceConfig[]): Set<string> {
    const byTopic = new Map<string, Route | Route[]>();
    const byDevice = new Map<string, Route>();
    for (const device of devices) {
      const parser = this.#parsers[device.parser_type];
      const previous = this.#byDevice.get(device.device_id);
      // Per-device parser state (last power, phase rounds) belongs to the old meter reading: drop
      // it when what the device reads changes.
      if (previous && readsDifferently(previous.device, device, previous.parser, parser)) {
        previous.parser.forget?.(device.device_id);
      }
      const route: Route = {
        id: device.device_id,
        device,
        parser,
        stats: previous?.stats ?? newDeviceStats(),
        lastLogAt: previous?.lastLogAt ?? Number.NEGATIVE_INFINITY,
        pendingSuppressed: previous?.pendingSuppressed ?? 0,
      };
      byDevice.set(device.device_id, route);
      for (const built of parser.subscriptions(device)) {
        const topic = flatString(built);
        const routes = byTopic.get(topic);
        if (routes === undefined) byTopic.set(topic, route);
        else if (Array.isArray(routes)) routes.push(route);
        else byTopic.set(topic, [routes, route]);
      }
    }
    for (const [deviceId, route] of this.#byDevice) {
      if (!byDevice.has(deviceId)) route.parser.forget?.(deviceId);
    }
    this.#byTopic = byTopic;
    this.#byDevice = byDevice;
    return this.#topics();
  }

  /**
   * Replace the badge reader list (issue 16); returns every topic filter to subscribe, the meters'
   * included. Counters of readers that stay are kept.
   */
  setBadgeReaders(readers: readonly BadgeReaderConfig[]): Set<string> {
    const byTopic = new Map<string, ReaderRoute[]>();
    const byReader = new Map<string, ReaderRoute>();
    for (const reader of readers) {
      const previous = this.#byReader.get(reader.reader_id);
      const route: ReaderRoute = {
        id: reader.reader_id,
        reader,
        stats: previous?.stats ?? newDeviceStats(),
        lastLogAt: previous?.lastLogAt ?? Number.NEGATIVE_INFINITY,
        pendingSuppressed: previous?.pendingSuppressed ?? 0,
      };
      byReader.set(reader.reader_id, route);
      for (const topic of readerSubscriptions(reader)) {
        const routes = byTopic.get(topic);
        if (!routes) byTopic.set(topic, [route]);
        else routes.push(route);
      }
    }
    this.#readersByTopic = byTopic;
    this.#byReader = byReader;
    return this.#topics();
  }

  #topics(): Set<string> {
    return new Set([...this.#byTopic.keys(), ...this.#readersByTopic.keys()]);
  }

  /** The hot path: called for every MQTT message. Never throws. */
  handle(topic: string, payload: Buffer, retained: boolean): void {
    this.#totals.messages++;
    const routes = this.#byTopic.get(topic);
    const readers = this.#readersByTopic.get(topic);
    if (routes === undefined && readers === undefined) {
      this.#totals.unknown_topic++;
      return;
    }
    if (Array.isArray(routes))
      for (const route of routes) this.#deliver(route, topic, payload, retained);
    else if (routes) this.#deliver(routes, topic, payload, retained);
    if (readers) for (const route of readers) this.#deliverCard(route, topic, payload, retained);
  }

  /**
   * The devices and badge readers whose messages arrive on `topic` (for log lines about a refused
   * subscription).
   */
  devicesFor(topic: string): string[] {
    return [
      ...[this.#byTopic.get(topic) ?? []].flat().map((route) => route.id),
      ...(this.#readersByTopic.get(topic) ?? []).map((route) => route.id),
    ];
  }

  /** How to poll this device after silence; null for an unknown device or one that cannot be polled. */
  pollRequest(deviceId: string): PollRequest | null {
    const route = this.#byDevice.get(deviceId);
    return route ? route.parser.poll(route.device) : null;
  }

  /** Counters for /metrics and /health (a snapshot: safe to serialise). */
  stats(): IngestStats {
    const devices: Record<string, DeviceIngestStats> = {};
    for (const [deviceId, route] of this.#byDevice) devices[deviceId] = { ...route.stats };
    const readers: Record<string, DeviceIngestStats> = {};
    for (const [readerId, route] of this.#byReader) readers[readerId] = { ...route.stats };
    return { ...this.#totals, devices, readers };
  }

  /**
   * One message on a reader's topic. A retained message is a replay of an old read, not a card
   * presented now: ignored. A message without a card (the plug's energy, a state report) is
   * ignored quietly; a bad one is a parse error of the reader.
   */
  #deliverCard(route: ReaderRoute, topic: string, payload: Buffer, retained: boolean): void {
    const { stats } = route;
    stats.messages++;
    stats.last_message_at = this.#now();
    const read = readCard(route.reader, topic, payload);
    if (read.kind === 'invalid') {
      this.#badPayload(route, topic, payload.length, read.reason);
      return;
    }
    if (read.kind === 'none' || retained || !this.#onCard) {
      stats.ignored++;
      this.#totals.ignored++;
      return;
    }
    stats.inputs++;
    this.#totals.inputs++;
    try {
      const card = { card_id: read.card_id };
      this.#onCard(route.id, read.at === undefined ? card : { ...card, at: read.at });
    } catch (err) {
      this.#totals.handler_errors++;
      this.#log?.error({ err, reader_id: route.id, topic }, 'Badge reader handler threw');
    }
  }

  #deliver(route: Route, topic: string, payload: Buffer, retained: boolean): void {
    const { stats, device } = route;
    stats.messages++;
    stats.last_message_at = this.#now();
    let result: ReturnType<Parser['parse']>;
    try {
      result = route.parser.parse(device, topic, payload);
    } catch (err) {
      // Parsers must not throw; if one does, the message is a bad payload, not a crash.
      result = { kind: 'invalid', reason: `parser threw: ${(err as Error).message}` };
    }
    if (result.kind === 'invalid') {
      this.#badPayload(route, topic, payload.length, result.reason);
      return;
    }
    if (result.kind === 'ignored') {
      stats.ignored++;
      this.#totals.ignored++;
      return;
    }
    stats.inputs++;
    this.#totals.inputs++;
    try {
      this.#onInput(device.device_id, result.input, retained ? RETAINED : LIVE);
    } catch (err) {
      this.#totals.handler_errors++;
      this.#log?.error({ err, device_id: device.device_id, topic }, 'Device input handler threw');
    }
  }

  #badPayload(route: LogState, topic: string, bytes: number, reason: string): void {
    const { stats } = route;
    stats.parse_errors++;
    stats.last_error = reason;
    this.#totals.parse_errors++;
    const now = this.#now();
    if (now - route.lastLogAt < this.#logIntervalMs) {
      stats.suppressed_logs++;
      this.#totals.suppressed_logs++;
      route.pendingSuppressed++;
      return;
    }
    const suppressed = route.pendingSuppressed;
    route.pendingSuppressed = 0;
    route.lastLogAt = now;
    this.#log?.warn(
      { device_id: route.id, topic, bytes, reason, suppressed },
      `Bad payload from '${route.id}' (${reason}); ${suppressed} suppressed since last report`,
    );
  }
}
