/** The public types of `MqttConnection` (client.ts), apart so client.ts holds only behaviour. */
import type { BrokerConfig } from '@workshop-iot/shared';
import type { Logger } from 'pino';

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
  log?: Logger;
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
  /**
   * The worker's availability topic (availability.ts): the last will (`offline`, retained, QoS 1) on
   * every connection, `online` retained after each connect, `offline` before a clean stop's
   * DISCONNECT (after which the broker discards the will). None: no will, nothing published.
   */
  availability?: AvailabilityTopic;
  /** The devices a filter belongs to, for log lines and `status().failed_subscriptions`. */
  devicesFor?: (filter: string) => readonly string[];
}

export interface AvailabilityTopic {
  topic: string;
  online: string;
  offline: string;
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
