/**
 * Small helpers of `MqttConnection` (client.ts): client id, the keys that decide when a config
 * change needs a new connection or a new session, URLs for logs, the socket's send mode, ending a
 * client.
 */
import { createHash } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { ResolvedBrokerConfig } from './client-types.ts';

/** A graceful end (DISCONNECT) that does not finish in this time is forced. */
const END_TIMEOUT_MS = 2_000;

const noop = () => {};

/**
 * The worker's default MQTT client id: stable across restarts (so the broker's persistent session is
 * resumed) and distinct per worker (two workers with one id would take each other's session and
 * disconnect each other in a loop). 21 characters: within the 23 every MQTT 3.1.1 broker must accept.
 */
export function clientIdFor(workerUid: string): string {
  return `wiot-${createHash('sha256').update(workerUid).digest('hex').slice(0, 16)}`;
}

/** Everything that requires a new connection when it changes (backoff bounds do not). */
export function connectionKey(broker: ResolvedBrokerConfig): string {
  const { url, username, password, client_id, keepalive_s, tls } = broker;
  return JSON.stringify([url, username, password, client_id, keepalive_s, tls ?? null]);
}

/** Which broker session a config resumes: the broker's address and the client id. */
export function sessionKey(broker: ResolvedBrokerConfig, defaultClientId: string | null): string {
  return JSON.stringify([safeUrl(broker.url), broker.client_id ?? defaultClientId]);
}

/**
 * `true`: sends every packet as soon as it is written (TCP_NODELAY); `false`: back to Nagle's
 * algorithm, which holds small writes until the broker ACKs the previous ones. Subscriber.ts turns it
 * on while SUBSCRIBEs go out one after the other: mosquitto delays its ACK, so each 500-filter
 * SUBSCRIBE stalled ~60 ms, and a worker with 10,000 meters (90,000 filters) first polled its meters
 * 13.4 s after start instead of 5.8 s. It stays off otherwise: the worker then mostly sends PUBACKs,
 * which Nagle packs many to a segment (with it on throughout, the QoS 1 replay bench fell from 0.52
 * to 0.35 of the bare subscriber's rate). WebSocket streams have no such option: nothing to do there.
 */
export function sendAtOnce(client: MqttClient, on: boolean): void {
  const stream = client.stream as { setNoDelay?: (noDelay?: boolean) => unknown } | undefined;
  if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(on);
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
export function endClient(client: MqttClient, force: boolean): Promise<void> {
  client.on('error', noop); // a late socket error on a dying client must not become uncaught
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => client.end(true, {}, () => resolve()), END_TIMEOUT_MS);
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
