/**
 * `MqttConnection`: the worker's one MQTT client, a thin wrapper on mqtt.js 5.
 *
 * - mqtt:// and mqtts:// (CA bundle, client cert/key, `insecure` = no server verification),
 *   username/password, client id, keepalive.
 * - Reconnect with exponential backoff clamped to [reconnect_min_ms, reconnect_max_ms]. mqtt.js only
 *   knows a fixed `reconnectPeriod`, so it runs with `reconnectPeriod: 0` and this class owns the
 *   timer; every attempt uses a fresh mqtt.js client, so no half-closed client state leaks between
 *   attempts or brokers.
 * - Persistent session (issue 13): with a stable client id (the config's `client_id`, else
 *   `defaultClientId`, which the worker derives from its worker_uid) it connects with `clean: false`,
 *   so the broker keeps the QoS 1 subscriptions and queues what meters publish while the worker is
 *   away (a restart, a crash, a network drop); the queue arrives in order right after CONNACK. See
 *   README.md "Persistent session" for the broker settings that make mosquitto queue QoS 0 publishes.
 *   Without a stable id (tests, tools) the id is random and the session clean: nobody would resume it.
 * - A stale subscription kept by the broker (a device removed or re-topiced while the worker was
 *   down) shows itself by a message on a topic no wanted filter matches: that topic is unsubscribed
 *   (every built-in filter is an exact topic) and the message dropped.
 * - After a broker switch the first connection to the new broker is a clean one, ended at once: it
 *   discards whatever session an earlier use of that broker left (days-old queued readings, stale
 *   subscriptions); the next connection opens the persistent session afresh.
 * - The wanted subscriptions are state here, not in mqtt.js: every (re)connect subscribes them all
 *   (a resumed session already has them; SUBSCRIBE is idempotent and brings retained messages),
 *   `setSubscriptions` diffs and (un)subscribes live. `ready` fires once per connection when every
 *   due SUBSCRIBE is answered (the worker then polls every pollable meter). SUBSCRIBEs go out one packet
 *   at a time so a filter the broker refuses (SUBACK failure, or the broker closing the connection)
 *   fails only that filter, retried on its own backoff (see subscriptions.ts).
 * - The reconnect backoff starts again from the minimum only after a connection stayed healthy
 *   (every due subscription answered, then `stableAfterMs` without a drop): a broker that accepts the
 *   connection and drops it again at once is not retried at the minimum delay forever.
 * - `setBroker` reconnects to a new broker when a connection setting changed (TLS included).
 * - `start()` never fails because the broker is down: it keeps trying and `status()` reports it.
 * - Passwords never reach a log line or `status()` (URLs are reported without user info).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BrokerConfig } from '@workshop-iot/shared';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type BackoffBounds, backoffBounds, backoffDelay } from './backoff.ts';
import { Subscriber } from './subscriber.ts';
import { SubscriptionTracker } from './subscriptions.ts';

/** A broker config whose URL is known (the embedded broker's URL substituted for `url: null`). */
export type ResolvedBrokerConfig = BrokerConfig & { url: string };

export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => void;

export type ConnectionEvent =
  | { type: 'connected'; url: string; session_present: boolean }
  /** Every due SUBSCRIBE of this connection answered: answers to polls sent now can arrive. */
  | { type: 'ready'; url: string }
  | { type: 'disconnected'; url: string; error: string | null }
  | { type: 'reconnect_scheduled'; attempt: number; delay_ms: number }
  | { type: 'subscribed'; filters: string[]; failed: string[] }
  | { type: 'subscription_failed'; filter: string; reason: string; retry_in_ms: number }
  | { type: 'stable'; url: string }
  | { type: 'unsubscribed'; filters: string[] }
  /** A message on a topic nobody wants: a stale subscription of the persistent session. */
  | { type: 'stale_unsubscribed'; topic: string };

export interface MqttConnectionOptions {
  broker: ResolvedBrokerConfig;
  onMessage: MessageHandler;
  /** Connection lifecycle, for status pushes, metrics and tests (no polling for state). */
  onEvent?: (event: ConnectionEvent) => void;
  logger?: Logger;
  /**
   * Client id when the config has none, stable across restarts (see `clientIdFor`): the session is
   * then persistent. Without one the id is `workshop-iot-<8 hex>` (unique per process), clean session.
   */
  defaultClientId?: string;
  /** Bound on one connection attempt (TCP + TLS + CONNACK); default 10 s. */
  connectTimeoutMs?: number;
  /** Jitter source for the backoff; inject a constant in tests. */
  random?: () => number;
  /** Retry backoff of one refused topic filter; default 1 min doubling up to 1 h. */
  subscriptionRetry?: { min_ms: number; max_ms: number };
  /** A connection up this long with its subscriptions answered resets the backoff; default 10 s. */
  stableAfterMs?: number;
  /** The devices a filter belongs to, for log lines and `status().failed_subscriptions`. */
  devicesFor?: (filter: string) => readonly string[];
}

export interface FailedSubscriptionStatus {
  topic: string;
  device_ids: string[];
  reason: string;
  failures: number;
  retry_at: string;
}

export interface MqttStatus {
  connected: boolean;
  /** Broker URL without credentials. */
  url: string;
  /** Connection attempts made after the first one (since start or the last broker switch). */
  reconnects: number;
  /** Topic filters wanted (subscribed on every connect). */
  subscriptions: number;
  /** Topic filters granted on the current connection. */
  subscribed: number;
  /** Filters the broker refused, each retried on its own backoff. */
  failed_subscriptions: FailedSubscriptionStatus[];
  last_error: string | null;
  connected_since: string | null;
}

/** Filters per SUBSCRIBE packet: 10,000 devices x 5 topics must not become one 2 MB packet. */
const SUBSCRIBE_CHUNK = 500;
const SUBSCRIBE_QOS = 1;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEPALIVE_S = 60;
/** A graceful end (DISCONNECT) that does not finish in this time is forced. */
const END_TIMEOUT_MS = 2_000;
const DEFAULT_SUBSCRIPTION_RETRY = { min_ms: 60_000, max_ms: 3_600_000 };
const DEFAULT_STABLE_AFTER_MS = 10_000;

const noop = () => {};

export class MqttConnection {
  #broker: ResolvedBrokerConfig;
  #bounds: BackoffBounds;
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

  #client: MqttClient | null = null;
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
    this.#bounds = backoffBounds(options.broker.reconnect_min_ms, options.broker.reconnect_max_ms);
    this.#onMessage = options.onMessage;
    this.#onEvent = options.onEvent ?? noop;
    this.#log = options.logger?.child({ module: 'mqtt.client' });
    this.#defaultClientId = options.defaultClientId ?? null;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    this.#devicesFor = options.devicesFor ?? (() => []);
    const retry = options.subscriptionRetry ?? DEFAULT_SUBSCRIPTION_RETRY;
    this.#subs = new SubscriptionTracker({
      chunk: SUBSCRIBE_CHUNK,
      retry: backoffBounds(retry.min_ms, retry.max_ms),
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
    this.#client = null;
    this.#setDisconnected(null);
    if (client) await this.#release(client, !client.connected);
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
    this.#broker = broker;
    this.#bounds = backoffBounds(broker.reconnect_min_ms, broker.reconnect_max_ms);
    if (!reconnect) return;
    this.#log?.info({ url: safeUrl(broker.url) }, 'Broker settings changed; reconnecting');
    this.#attempt = 0;
    this.#reconnects = 0;
    this.#lastError = null;
    this.#subs.forgetFailures();
    this.#resetSession = this.#persistent(broker);
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
    const client = mqtt.connect(broker.url, this.#clientOptions(broker, reset));
    this.#client = client;
    // Each handler first checks it still belongs to the current client: an old client that is being
    // torn down may still emit, and must not touch the state of its successor.
    const onConnect = (connack: { sessionPresent?: boolean }) => {
      if (client !== this.#client) return;
      if (reset) this.#sessionReset(client);
      else this.#handleConnect(client, connack.sessionPresent === true);
    };
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }) => {
      if (client !== this.#client) return;
      if (!this.#subs.matches(topic)) {
        this.#unsubscribeStale(client, topic);
        return;
      }
      try {
        this.#onMessage(topic, payload, packet.retain);
      } catch (err) {
        this.#log?.error({ err, topic }, 'Message handler threw');
      }
    };
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
    };
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

/**
 * The worker's default MQTT client id: stable across restarts (so the broker's persistent session is
 * resumed) and distinct per worker (two workers with one id would take each other's session and
 * disconnect each other in a loop). 21 characters: within the 23 every MQTT 3.1.1 broker must accept.
 */
export function clientIdFor(workerUid: string): string {
  return `wiot-${createHash('sha256').update(workerUid).digest('hex').slice(0, 16)}`;
}

/** Everything that requires a new connection when it changes (backoff bounds do not). */
function connectionKey(broker: ResolvedBrokerConfig): string {
  const { url, username, password, client_id, keepalive_s, tls } = broker;
  return JSON.stringify([url, username, password, client_id, keepalive_s, tls ?? null]);
}

/** The URL without user info, for logs and status. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** End a client; a graceful end that hangs is forced after a bound. */
function endClient(client: MqttClient, force: boolean): Promise<void> {
  client.on('error', noop); // a late socket error on a dying client must not become uncaught
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => client.end(true, {}, () => resolve()), END_TIMEOUT_MS);
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
