/**
 * `Subscriber`: sends the SUBSCRIBE/UNSUBSCRIBE packets `SubscriptionTracker` decides on, over the
 * current mqtt.js client of `MqttConnection`, and says when that connection counts as healthy.
 *
 * - One SUBSCRIBE in flight at a time (see subscriptions.ts for why), each sent at once (TCP_NODELAY)
 *   while more follow, back to Nagle's algorithm when none is due (client-helpers.ts `sendAtOnce`).
 * - A refused filter is logged with its topic and device(s), reported as `subscription_failed`, and
 *   retried by a timer when its own backoff is due.
 * - `onSettled` fires once per connection when every due filter was answered (polls sent from then
 *   on find their answer topics subscribed).
 * - `onStable` fires once per connection after every due filter was answered and the connection
 *   then stayed up `stableAfterMs`: only then may the reconnect backoff start from the minimum again.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MAX_TIMEOUT_MS } from '../util/backoff.ts';
import { sendAtOnce } from './client-helpers.ts';
import type { FailedSubscription, SubscriptionTracker } from './subscriptions.ts';

export interface SubscriberOptions {
  tracker: SubscriptionTracker;
  qos: 0 | 1;
  /** Filters per UNSUBSCRIBE packet. */
  chunk: number;
  stableAfterMs: number;
  devicesFor: (filter: string) => readonly string[];
  log: Logger | undefined;
  onSubscribed(filters: string[], failed: string[]): void;
  onUnsubscribed(filters: string[]): void;
  onFailed(failure: FailedSubscription, retryInMs: number): void;
  onStable(): void;
  /** Once per connection: every due filter answered (granted or refused). */
  onSettled(): void;
}

export class Subscriber {
  readonly #o: SubscriberOptions;
  #client: MqttClient | null = null;
  #stableTimer: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #settledOnce = false;
  /** Whether the current client's socket sends at once (TCP_NODELAY), set while subscribing. */
  #atOnce = false;

  constructor(options: SubscriberOptions) {
    this.#o = options;
  }

  /** A new connection: subscribe everything wanted on it (a resumed session may hold them already). */
  attach(client: MqttClient): void {
    this.detach(false);
    this.#client = client;
    this.#settledOnce = false;
    this.#atOnce = false;
    this.sync();
  }

  /**
   * The connection ended. `lost`: the broker or the network closed it (a SUBSCRIBE in flight is then
   * what the broker refused); false for our own close (broker switch, stop).
   */
  detach(lost: boolean): void {
    if (lost) this.#blameInFlight();
    else this.#o.tracker.connected();
    this.#client = null;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#stableTimer = null;
    this.#retryTimer = null;
  }

  /** Unsubscribe what is no longer wanted and send the next SUBSCRIBE when none is in flight. */
  sync(): void {
    const client = this.#client;
    if (!client) return;
    const remove = this.#o.tracker.takeUnwanted();
    for (let i = 0; i < remove.length; i += this.#o.chunk) {
      const chunk = remove.slice(i, i + this.#o.chunk);
      client.unsubscribe(chunk, (err) => {
        if (err) this.#o.log?.warn({ err: err.message, count: chunk.length }, 'Unsubscribe failed');
        else if (client === this.#client) this.#o.onUnsubscribed(chunk);
      });
    }
    this.#pump(client);
  }

  #pump(client: MqttClient): void {
    // A packet mqtt.js refuses while closing was never seen by the broker: it must not be blamed.
    if (client.disconnecting || !client.connected) return;
    const packet = this.#o.tracker.next();
    if (!packet) {
      this.#sendAtOnce(client, false);
      this.#whenIdle(client);
      return;
    }
    this.#sendAtOnce(client, true);
    client.subscribe(packet, { qos: this.#o.qos }, (err, _subs, suback) => {
      if (client !== this.#client) return;
      // A close fails the packet too; detach(true) blames it (it may run before or after this).
      if (err && !client.connected) return;
      // mqtt.js turns any refused filter into an error for the whole packet, but still hands over
      // the SUBACK: its codes (0x80 in MQTT 3.1.1, >= 0x80 in MQTT 5) say which filter it was.
      const codes = suback && 'granted' in suback ? suback.granted : null;
      if (Array.isArray(codes) && codes.length === packet.length) {
        const refused = new Map<string, number>();
        codes.forEach((code, i) => {
          const c = typeof code === 'number' ? code : Number((code as { qos?: number }).qos);
          if (c >= 0x80) refused.set(packet[i] as string, c);
        });
        this.#o.onSubscribed(packet, [...refused.keys()]);
        this.#report(this.#o.tracker.answered(refused));
      } else {
        this.#report(this.#o.tracker.rejected(err?.message ?? 'no SUBACK'));
      }
      this.sync();
    });
  }

  #sendAtOnce(client: MqttClient, on: boolean): void {
    if (this.#atOnce === on) return;
    this.#atOnce = on;
    sendAtOnce(client, on);
  }

  #whenIdle(client: MqttClient): void {
    if (this.#o.tracker.settled && !this.#settledOnce) {
      this.#settledOnce = true;
      this.#o.onSettled();
    }
    if (this.#o.tracker.settled && !this.#stableTimer) {
      this.#stableTimer = setTimeout(() => {
        if (client === this.#client) this.#o.onStable();
      }, this.#o.stableAfterMs);
    }
    const retryAt = this.#o.tracker.nextRetryAtMs;
    if (retryAt === null || this.#retryTimer) return;
    const delay = Math.min(Math.max(0, retryAt - Date.now()), MAX_TIMEOUT_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (client === this.#client) this.#pump(client);
    }, delay);
  }

  #blameInFlight(): void {
    const { failed, suspects } = this.#o.tracker.connectionLost();
    if (suspects.length > 0)
      this.#o.log?.warn(
        { count: suspects.length },
        'Broker closed the connection on a SUBSCRIBE; its filters are retried one at a time',
      );
    this.#report(failed);
  }

  #report(failed: FailedSubscription[]): void {
    for (const f of failed) {
      const retry_in_ms = Math.max(0, f.retry_at_ms - Date.now());
      const device_ids = [...this.#o.devicesFor(f.filter)];
      this.#o.log?.warn(
        { topic: f.filter, device_ids, reason: f.reason, failures: f.failures, retry_in_ms },
        `Subscription to '${f.filter}' failed (device ${device_ids.join(', ') || 'unknown'}): ${f.reason}; retry in ${Math.round(retry_in_ms / 1000)} s`,
      );
      this.#o.onFailed(f, retry_in_ms);
    }
  }
}
