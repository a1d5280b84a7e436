/**
 * `MqttConnection`: the worker's one MQTT client, a thin wrapper on mqtt.js 5.
 *
 * - mqtt:// and mqtts:// (CA bundle, client cert/key, `insecure` = no server verification),
 *   username/password, client id, keepalive.
 * - Reconnect with exponential backoff clamped to [reconnect_min_ms, reconnect_max_ms]. mqtt.js only
 *   knows a fixed `reconnectPeriod`, so it runs with `reconnectPeriod: 0` and this class owns the
 *   timer; every attempt uses a fresh mqtt.js client, so no half-closed client state leaks between
 *   attempts or brokers.
 * - Persistent session (README.md "Persistent session"): with a stable client id (config
 *   `client_id`, else `defaultClientId`) `clean: false`, so the broker queues what meters publish
 *   while the worker is away; without one a random id and a clean session. A message on a topic no
 *   wanted filter matches is a stale subscription of that session: unsubscribed, dropped. After a
 *   switch to another broker or client id, one clean connection first discards an old session there.
 * - The wanted subscriptions are state here, not in mqtt.js: every (re)connect subscribes them all
 *   (a resumed session already has them; SUBSCRIBE is idempotent and brings retained messages),
 *   `setSubscriptions` diffs and (un)subscribes live; `ready` once every due SUBSCRIBE is answered.
 *   SUBSCRIBEs go out one packet at a time so a filter the broker refuses (SUBACK failure, or the broker closing the connection)
 *   fails only that filter, retried on its own backoff (see subscriptions.ts).
 * - The reconnect backoff starts again from the minimum only after a connection stayed healthy
 *   (every due subscription answered, then `stableAfterMs` without a drop): a broker that accepts the
 *   connection and drops it again at once is not retried at the minimum delay forever.
 * - `setBroker` reconnects to a new broker when a connection setting changed (TLS included).
 * - `start()` never fails because the broker is down: it keeps trying and `status()` reports it.
 * - Passwords never reach a log line or `status()` (URLs are reported without user info).
 * - Availability (option `availability`): every connection carries the last will `offline`
 *   (retained, QoS 1), `online` is published retained after each connect, and `stop()` publishes
 *   `offline` (bounded wait) before its DISCONNECT: a crash or a lost link shows `offline` through
 *   the broker, a clean stop through us. A forced end (broker switch) leaves the will to the old broker.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type Backoff, backoff, backoffDelay } from '../util/backoff.ts';
import { connectionKey, endClient, safeUrl, sessionKey } from './client-helpers.ts';
import type {
  AvailabilityTopic,
  ConnectionEvent,
  MessageHandler,
  MqttConnectionOptions,
  MqttStatus,
  ResolvedBrokerConfig,
} from './client-types.ts';
import { decodePublishesFirst, type SplitterCounts } from './inbound-publish.ts';
import { Subscriber } from './subscriber.ts';
import { SubscriptionTracker } from './subscriptions.ts';

/** Filters per SUBSCRIBE packet: 10,000 devices x 5 topics must not become one 2 MB packet. */
const SUBSCRIBE_CHUNK = 500;
const SUBSCRIBE_QOS = 1;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEPALIVE_S = 60;
const DEFAULT_SUBSCRIPTION_RETRY = { min_ms: 60_000, max_ms: 3_600_000 };
const DEFAULT_STABLE_AFTER_MS = 10_000;
/** A clean stop waits this long at most for the broker to acknowledge `offline`. */
const OFFLINE_ACK_TIMEOUT_MS = 2_000;

const noop = () => {};

export class MqttConnection {
  #broker: ResolvedBrokerConfig;
  #bounds: Backoff;
  readonly #onMessage: MessageHandler;
  readonly #onEvent: (event: ConnectionEvent) => void;
  readonly #log: Logger | undefined;
  readonly #defaultClientId: string | null;
  readonly #randomClientId = `workshop-iot-${randomBytes(4).toString('hex')}`;
  /** The next connection must first discard the broker's old session (after a broker switch). */
  #resetSession = false;
  readonly #connectTimeoutMs: number;
  readonly #random: () => number;
  readonly #devicesFor: (filter: string) => readonly string[];
  readonly #availability: AvailabilityTopic | null;

  #client: MqttClient | null = null;
  /** PUBLISHes of the current connection decoded by the worker / handed to mqtt.js. */
  #inbound: () => SplitterCounts = () => ({ decoded: 0, forwarded: 0 });
  #timer: NodeJS.Timeout | null = null;
  #state: 'new' | 'started' | 'stopped' = 'new';
  #connected = false;
  #connectedSince: Date | null = null;
  /** Attempts since the last connection that stayed healthy (drives the backoff). */
  #attempt = 0;
  #reconnects = 0;
  #lastError: string | null = null;
  readonly #subs: SubscriptionTracker;
  readonly #subscriber: Subscriber;
  readonly #detachers = new WeakMap<MqttClient, () => void>();
  /** Stale topics already unsubscribed on the current connection. */
  readonly #stale = new Set<string>();

  constructor(options: MqttConnectionOptions) {
    this.#broker = options.broker;
    this.#bounds = backoff(
      options.broker.reconnect_min_ms,
      options.broker.reconnect_max_ms,
      'spread',
    );
    this.#onMessage = options.onMessage;
    this.#onEvent = options.onEvent ?? noop;
    this.#log = options.log?.child({ module: 'mqtt.client' });
    this.#defaultClientId = options.defaultClientId ?? null;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    this.#devicesFor = options.devicesFor ?? (() => []);
    this.#availability = options.availability ?? null;
    const retry = options.subscriptionRetry ?? DEFAULT_SUBSCRIPTION_RETRY;
    this.#subs = new SubscriptionTracker({
      chunk: SUBSCRIBE_CHUNK,
      retry: backoff(retry.min_ms, retry.max_ms, 'spread'),
      now: Date.now,
      random: this.#random,
    });
    this.#subscriber = new Subscriber({
      tracker: this.#subs,
      qos: SUBSCRIBE_QOS,
      chunk: SUBSCRIBE_CHUNK,
      stableAfterMs: options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS,
      devicesFor: this.#devicesFor,
      log: this.#log,
      onSubscribed: (filters, failed) => this.#onEvent({ type: 'subscribed', filters, failed }),
      onSettled: () => this.#onEvent({ type: 'ready', url: safeUrl(this.#broker.url) }),
      onUnsubscribed: (filters) => this.#onEvent({ type: 'unsubscribed', filters }),
      onFailed: (f, retry_in_ms) =>
        this.#onEvent({
          type: 'subscription_failed',
          filter: f.filter,
          reason: f.reason,
          retry_in_ms,
        }),
      onStable: () => {
        this.#attempt = 0;
        this.#onEvent({ type: 'stable', url: safeUrl(this.#broker.url) });
      },
    });
  }

  /** Start connecting. Returns at once; a down broker is retried, never thrown. */
  start(): void {
    if (this.#state === 'stopped')
      throw new Error('MqttConnection cannot be restarted after stop()');
    if (this.#state === 'started') return;
    this.#state = 'started';
    this.#connect();
  }

  /** Disconnect and release every listener and timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#clearTimer();
    const client = this.#client;
    if (client && this.#connected) await this.#publishOffline(client);
    this.#client = null;
    this.#setDisconnected(null);
    if (client) await this.#release(client, !client.connected);
  }

  /** The clean-stop `offline` (retained, QoS 1), acknowledged or given up after a bound. */
  async #publishOffline(client: MqttClient): Promise<void> {
    const a = this.#availability;
    if (!a) return;
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<void>((resolve) => {
      client.publish(a.topic, a.offline, { qos: 1, retain: true }, (err) => {
        if (err) this.#log?.warn({ topic: a.topic, err: err.message }, 'Publishing offline failed');
        resolve();
      });
    });
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, OFFLINE_ACK_TIMEOUT_MS);
    });
    await Promise.race([acked, bound]).finally(() => clearTimeout(timer));
  }

  /** Replace the wanted topic filters; (un)subscribes the difference at once when connected. */
  setSubscriptions(filters: Iterable<string>): void {
    this.#subs.setWanted(filters);
    this.#subscriber.sync();
  }

  /**
   * Apply new broker settings. Any change to a connection setting (URL, credentials, client id,
   * keepalive, TLS) drops the current connection and connects to the new broker immediately;
   * a change of the backoff bounds alone only affects the next retry.
   */
  setBroker(broker: ResolvedBrokerConfig): void {
    if (this.#state === 'stopped') throw new Error('MqttConnection is stopped');
    const reconnect = connectionKey(broker) !== connectionKey(this.#broker);
    // Another broker or another session on it: an old session there is stale. New credentials or
    // TLS for the same broker and id keep the session (and what it queued during the reconnect).
    const otherSession =
      sessionKey(broker, this.#defaultClientId) !== sessionKey(this.#broker, this.#defaultClientId);
    this.#broker = broker;
    this.#bounds = backoff(broker.reconnect_min_ms, broker.reconnect_max_ms, 'spread');
    if (!reconnect) return;
    this.#log?.info({ url: safeUrl(broker.url) }, 'Broker settings changed; reconnecting');
    this.#attempt = 0;
    this.#reconnects = 0;
    this.#lastError = null;
    this.#subs.forgetFailures();
    if (otherSession) this.#resetSession = this.#persistent(broker);
    this.#clearTimer();
    const old = this.#client;
    this.#client = null;
    this.#setDisconnected(null);
    if (old) void this.#release(old, true);
    if (this.#state === 'started') this.#connect();
  }

  /**
   * Publish (used for device polls). Resolves false when not connected: a poll is only useful now,
   * so it is never queued for a later connection.
   */
  publish(
    topic: string,
    payload: string | Buffer,
    opts: { qos?: 0 | 1; retain?: boolean } = {},
  ): Promise<boolean> {
    const client = this.#client;
    if (!client || !this.#connected) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      client.publish(
        topic,
        payload,
        { qos: opts.qos ?? 0, retain: opts.retain ?? false },
        (err) => {
          if (err) this.#log?.warn({ topic, err: err.message }, `Publish to '${topic}' failed`);
          resolve(!err);
        },
      );
    });
  }

  /** Packets of the current connection: PUBLISHes decoded by the worker, packets left to mqtt.js. */
  inboundCounts(): SplitterCounts {
    return { ...this.#inbound() };
  }

  status(): MqttStatus {
    return {
      connected: this.#connected,
      url: safeUrl(this.#broker.url),
      reconnects: this.#reconnects,
      subscriptions: this.#subs.wanted,
      subscribed: this.#connected ? this.#subs.granted : 0,
      failed_subscriptions: this.#subs.failures().map((f) => ({
        topic: f.filter,
        device_ids: [...this.#devicesFor(f.filter)],
        reason: f.reason,
        failures: f.failures,
        retry_at: new Date(f.retry_at_ms).toISOString(),
      })),
      last_error: this.#lastError,
      connected_since: this.#connectedSince?.toISOString() ?? null,
    };
  }

  #connect(): void {
    const broker = this.#broker;
    const reset = this.#resetSession;
    const client = mqtt.connect(broker.url, {
      ...this.#clientOptions(broker, reset),
      manualConnect: true,
    });
    this.#client = client;
    // Each handler first checks it still belongs to the current client: an old client that is being
    // torn down may still emit, and must not touch the state of its successor.
    const onConnect = (connack: { sessionPresent?: boolean }) => {
      if (client !== this.#client) return;
      if (reset) this.#sessionReset(client);
      else this.#handleConnect(client, connack.sessionPresent === true);
    };
    const deliver = (topic: string, payload: Buffer, retain: boolean) => {
      if (client !== this.#client) return;
      if (!this.#subs.matches(topic)) {
        this.#unsubscribeStale(client, topic);
        return;
      }
      try {
        this.#onMessage(topic, payload, retain);
      } catch (err) {
        this.#log?.error({ err, topic }, 'Message handler threw');
      }
    };
    // Most PUBLISHes are decoded before mqtt.js sees them (inbound-publish.ts); the rest arrive here.
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }) =>
      deliver(topic, payload, packet.retain);
    this.#inbound = decodePublishesFirst(client, deliver);
    const onError = (err: Error) => {
      if (client !== this.#client) return;
      this.#lastError = err.message;
      this.#log?.warn({ url: safeUrl(broker.url), err: err.message }, 'MQTT connection error');
    };
    const onClose = () => {
      if (client === this.#client) this.#handleClose(client);
    };
    client.on('connect', onConnect);
    client.on('message', onMessage);
    client.on('error', onError);
    client.on('close', onClose);
    client.connect();
    // mqtt.js registers its own 'connect'/'close' listeners (keepalive, queues): remove only ours.
    this.#detachers.set(client, () => {
      client.off('connect', onConnect);
      client.off('message', onMessage);
      client.off('error', onError);
      client.off('close', onClose);
    });
  }

  /** End a client we no longer use and drop our listeners from it. */
  #release(client: MqttClient, force: boolean): Promise<void> {
    this.#detachers.get(client)?.();
    this.#detachers.delete(client);
    return endClient(client, force);
  }

  /** A stable client id: the broker keeps the session (subscriptions, queued messages) across restarts. */
  #persistent(broker: ResolvedBrokerConfig): boolean {
    return (broker.client_id ?? this.#defaultClientId) !== null;
  }

  /**
   * The clean connection after a broker switch is up: the broker has dropped any old session of this
   * client id. End it and open the persistent session at once (no backoff: nothing failed).
   */
  #sessionReset(client: MqttClient): void {
    this.#resetSession = false;
    this.#log?.info({ url: safeUrl(this.#broker.url) }, "Discarded the broker's old MQTT session");
    this.#client = null;
    void this.#release(client, false).then(() => {
      if (this.#state === 'started' && !this.#client && !this.#timer) this.#connect();
    });
  }

  /** Once per topic and connection: the broker re-sends until the UNSUBSCRIBE lands. */
  #unsubscribeStale(client: MqttClient, topic: string): void {
    if (this.#stale.has(topic)) return;
    this.#stale.add(topic);
    this.#log?.info({ topic }, `Unsubscribing '${topic}': no configured device uses it any more`);
    this.#onEvent({ type: 'stale_unsubscribed', topic });
    client.unsubscribe(topic, (err) => {
      if (err) this.#log?.warn({ topic, err: err.message }, 'Unsubscribe failed');
    });
  }

  #clientOptions(broker: ResolvedBrokerConfig, reset: boolean): IClientOptions {
    const persistent = this.#persistent(broker);
    const options: IClientOptions = {
      clientId: broker.client_id ?? this.#defaultClientId ?? this.#randomClientId,
      keepalive: broker.keepalive_s ?? DEFAULT_KEEPALIVE_S,
      // MQTT 3.1.1: clean=false keeps the session until the broker's persistent_client_expiration.
      clean: !persistent || reset,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: this.#connectTimeoutMs,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt-packet otherwise builds a cache of 65,536 two-byte Buffers (~6 MB of heap) on the first
      // packet written, to save an allocation per packet id; the worker writes few packets (PUBACKs,
      // SUBSCRIBEs, polls), and a worker must fit a small board.
      writeCache: false,
    };
    if (this.#availability) {
      const { topic, offline } = this.#availability;
      options.will = { topic, payload: Buffer.from(offline), qos: 1, retain: true };
    }
    if (broker.username !== undefined) options.username = broker.username;
    if (broker.password !== undefined) options.password = broker.password;
    const tls = broker.tls;
    if (broker.url.startsWith('mqtts:') && tls) {
      if (tls.ca) options.ca = tls.ca;
      if (tls.cert) options.cert = tls.cert;
      if (tls.key) options.key = tls.key;
      options.rejectUnauthorized = tls.insecure !== true;
    }
    return options;
  }

  #handleConnect(client: MqttClient, session_present: boolean): void {
    this.#connected = true;
    this.#connectedSince = new Date();
    this.#lastError = null;
    this.#stale.clear();
    const url = safeUrl(this.#broker.url);
    this.#log?.info(
      { url, reconnects: this.#reconnects, session_present },
      `Connected to MQTT broker ${url}`,
    );
    const a = this.#availability;
    if (a) {
      client.publish(a.topic, a.online, { qos: 1, retain: true }, (err) => {
        if (err) this.#log?.warn({ topic: a.topic, err: err.message }, 'Publishing online failed');
      });
    }
    this.#onEvent({ type: 'connected', url, session_present });
    this.#subscriber.attach(client);
  }

  #handleClose(client: MqttClient): void {
    this.#subscriber.detach(true);
    this.#setDisconnected(this.#lastError);
    this.#client = null;
    void this.#release(client, true);
    if (this.#state !== 'started') return;
    const delay_ms = backoffDelay(this.#attempt, this.#bounds, this.#random);
    const attempt = ++this.#attempt;
    this.#log?.info(
      { url: safeUrl(this.#broker.url), attempt, delay_ms, err: this.#lastError },
      `MQTT broker unreachable; retry ${attempt} in ${delay_ms} ms`,
    );
    this.#onEvent({ type: 'reconnect_scheduled', attempt, delay_ms });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#state !== 'started' || this.#client) return;
      this.#reconnects++;
      this.#connect();
    }, delay_ms);
  }

  #setDisconnected(error: string | null): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#connectedSince = null;
    this.#subscriber.detach(false);
    this.#onEvent({ type: 'disconnected', url: safeUrl(this.#broker.url), error });
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

export { clientIdFor, safeUrl } from './client-helpers.ts';
export type {
  AvailabilityTopic,
  ConnectionEvent,
  FailedSubscriptionStatus,
  MessageHandler,
  MqttConnectionOptions,
  MqttStatus,
  ResolvedBrokerConfig,
} from './client-types.ts';
