/**
 * The straightforward SubscriptionTracker that scanned every wanted filter on each call (O(wanted)
 * per packet: quadratic over a 10,000-meter start-up), kept as the model the incremental one must
 * match call for call (subscriptions.model.test.ts).
 */

import type {
  FailedSubscription,
  SubscriptionTrackerOptions,
} from '../../src/mqtt/subscriptions.ts';
import { backoffDelay } from '../../src/util/backoff.ts';

export class ScanningTracker {
  readonly #options: SubscriptionTrackerOptions;
  readonly #wanted = new Set<string>();
  /** Granted on the current connection. */
  #granted = new Set<string>();
  /** The one SUBSCRIBE packet awaiting its SUBACK on the current connection. */
  #inFlight: string[] | null = null;
  /** In a packet the broker closed the connection on: sent alone from now on. */
  readonly #suspects = new Set<string>();
  readonly #failed = new Map<string, FailedSubscription>();

  constructor(options: SubscriptionTrackerOptions) {
    this.#options = options;
  }

  /** Replace the wanted filters; state of filters no longer wanted is forgotten. */
  setWanted(filters: Iterable<string>): void {
    const next = new Set(filters);
    for (const filter of this.#wanted) if (!next.has(filter)) this.#wanted.delete(filter);
    for (const filter of next) this.#wanted.add(filter);
    for (const filter of this.#suspects) if (!next.has(filter)) this.#suspects.delete(filter);
    for (const filter of this.#failed.keys()) if (!next.has(filter)) this.#failed.delete(filter);
  }

  /** Another broker: what the old one refused says nothing about the new one. */
  forgetFailures(): void {
    this.#suspects.clear();
    this.#failed.clear();
  }

  /** A new connection: nothing counts as granted or in flight on it (re-SUBSCRIBE is idempotent). */
  connected(): void {
    this.#granted = new Set();
    this.#inFlight = null;
  }

  /**
   * The connection closed. A packet still in flight is blamed: returns the filters that failed now
   * (a packet of one) or were made suspects (a bigger packet).
   */
  connectionLost(): { failed: FailedSubscription[]; suspects: string[] } {
    const packet = this.#inFlight?.filter((f) => this.#wanted.has(f));
    this.connected();
    if (!packet || packet.length === 0) return { failed: [], suspects: [] };
    if (packet.length === 1) {
      const reason = 'the broker closed the connection on SUBSCRIBE';
      return { failed: [this.#fail(packet[0] as string, reason)], suspects: [] };
    }
    for (const filter of packet) this.#suspects.add(filter);
    return { failed: [], suspects: packet };
  }

  /** The next SUBSCRIBE packet to send, or null (one is in flight, or nothing is due). */
  next(): string[] | null {
    if (this.#inFlight) return null;
    const due = (f: string) => {
      const failure = this.#failed.get(f);
      return !this.#granted.has(f) && (!failure || failure.retry_at_ms <= this.#options.now());
    };
    const pending = [...this.#wanted].filter(due);
    const plain = pending.filter((f) => !this.#suspects.has(f) && !this.#failed.has(f));
    const packet = plain.length > 0 ? plain.slice(0, this.#options.chunk) : pending.slice(0, 1);
    if (packet.length === 0) return null;
    this.#inFlight = packet;
    return packet;
  }

  /** The SUBACK of the packet in flight: `refused` maps a filter to its failure code. */
  answered(refused: ReadonlyMap<string, number>): FailedSubscription[] {
    const packet = this.#inFlight ?? [];
    this.#inFlight = null;
    const failed: FailedSubscription[] = [];
    for (const filter of packet) {
      const code = refused.get(filter);
      if (code !== undefined && this.#wanted.has(filter)) {
        failed.push(this.#fail(filter, `the broker refused it (SUBACK 0x${code.toString(16)})`));
        continue;
      }
      this.#granted.add(filter);
      this.#suspects.delete(filter);
      this.#failed.delete(filter);
    }
    return failed;
  }

  /** The packet in flight failed without a SUBACK while connected (e.g. the client refused it). */
  rejected(reason: string): FailedSubscription[] {
    const packet = (this.#inFlight ?? []).filter((f) => this.#wanted.has(f));
    this.#inFlight = null;
    if (packet.length === 1) return [this.#fail(packet[0] as string, reason)];
    for (const filter of packet) this.#suspects.add(filter);
    return [];
  }

  /** Filters granted on this connection that are no longer wanted (to UNSUBSCRIBE). */
  takeUnwanted(): string[] {
    const unwanted = [...this.#granted].filter((f) => !this.#wanted.has(f));
    for (const filter of unwanted) this.#granted.delete(filter);
    return unwanted;
  }

  /** Nothing in flight and nothing to send before the next failed filter's retry. */
  get settled(): boolean {
    if (this.#inFlight) return false;
    const now = this.#options.now();
    return [...this.#wanted].every(
      (f) => this.#granted.has(f) || (this.#failed.get(f)?.retry_at_ms ?? 0) > now,
    );
  }

  /** When the earliest failed filter is due again, or null. */
  get nextRetryAtMs(): number | null {
    let earliest: number | null = null;
    for (const failure of this.#failed.values())
      if (earliest === null || failure.retry_at_ms < earliest) earliest = failure.retry_at_ms;
    return earliest;
  }

  get wanted(): number {
    return this.#wanted.size;
  }

  get granted(): number {
    return this.#granted.size;
  }

  failures(): FailedSubscription[] {
    return [...this.#failed.values()];
  }

  #fail(filter: string, reason: string): FailedSubscription {
    this.#suspects.delete(filter);
    const failures = (this.#failed.get(filter)?.failures ?? 0) + 1;
    const delay = backoffDelay(failures - 1, this.#options.retry, this.#options.random);
    const failure = { filter, reason, failures, retry_at_ms: this.#options.now() + delay };
    this.#failed.set(filter, failure);
    return failure;
  }
}
