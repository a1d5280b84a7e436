/**
 * Which topic filters to SUBSCRIBE next on one connection, and which ones the broker refused.
 * Pure bookkeeping (no I/O, the clock is injected); `MqttConnection` sends what `next()` returns.
 *
 * Why it exists: a broker may refuse one filter in two ways, and neither may stop the other devices.
 * - SUBACK with a failure code (0x80 in MQTT 3.1.1, >= 0x80 in MQTT 5; e.g. an ACL deny): that filter
 *   failed, the others in the packet were granted.
 * - The broker closes the connection instead of answering: mosquitto 2.0.11 does this for a filter
 *   holding a control character or noncharacter (3.1.1: plain close; 5: DISCONNECT 0x81, then close).
 *   Nothing says which filter it was, so SUBSCRIBEs go out ONE AT A TIME (the next after the SUBACK
 *   of the previous): a close can then only blame the single packet in flight. A packet of one filter
 *   is that filter's failure; a bigger packet makes its filters suspects, which the next connection
 *   sends one filter per packet, after every filter not under suspicion is granted.
 *
 * A failed filter is retried after its own backoff (`retry`, doubling per failure), never on every
 * connect: a broker that closes on it would otherwise be reconnected in a loop.
 */
import { type Backoff, backoffDelay } from '../util/backoff.ts';

export interface FailedSubscription {
  filter: string;
  reason: string;
  failures: number;
  retry_at_ms: number;
}

export interface SubscriptionTrackerOptions {
  /** Filters per SUBSCRIBE packet for filters not under suspicion. */
  chunk: number;
  /** Backoff of one failed filter's retries. */
  retry: Backoff;
  now: () => number;
  random: () => number;
}

export class SubscriptionTracker {
  readonly #options: SubscriptionTrackerOptions;
  readonly #wanted = new Set<string>();
  /** Wanted filters holding a wildcard: only discovery's announcement filters (discovery/). */
  #wildcards: string[] = [];
  /** Granted on the current connection. */
  #granted = new Set<string>();
  /**
   * The wanted filters in wanted order as of the last replan (new connection, new wanted list,
   * failures forgotten), and how far `next()` got: before the cursor, every filter went out in a
   * packet (so it is granted, in flight, suspect or failed until the next replan). After it, the
   * plain ones (#isPlain) are what the next packets carry. So `next()` costs its own packet:
   * scanning every wanted filter per 500-filter packet made subscribing quadratic (10,000 meters,
   * 90,000 filters: ~200 MB of garbage and seconds of CPU at start; issue 20).
   */
  #queue: string[] = [];
  #cursor = 0;
  /** Granted on the current connection but no longer wanted: the next UNSUBSCRIBE. */
  readonly #unwantedGranted = new Set<string>();
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
    for (const filter of this.#wanted) {
      if (next.has(filter)) continue;
      this.#wanted.delete(filter);
      if (this.#granted.has(filter)) this.#unwantedGranted.add(filter);
    }
    for (const filter of next) {
      if (this.#wanted.has(filter)) continue;
      this.#wanted.add(filter);
      this.#unwantedGranted.delete(filter);
    }
    this.#wildcards = [...next].filter((f) => f.includes('+') || f.includes('#'));
    for (const filter of this.#suspects) if (!next.has(filter)) this.#suspects.delete(filter);
    for (const filter of this.#failed.keys()) if (!next.has(filter)) this.#failed.delete(filter);
    this.#replan();
  }

  /**
   * Whether a message on `topic` is wanted (some wanted filter matches it). One Set lookup: every
   * meter's filter is an exact topic; wildcard filters (discovery's seven) are matched one by one.
   */
  matches(topic: string): boolean {
    if (this.#wanted.has(topic)) return true;
    for (const filter of this.#wildcards) if (topicMatches(filter, topic)) return true;
    return false;
  }

  /** Another broker: what the old one refused says nothing about the new one. */
  forgetFailures(): void {
    this.#suspects.clear();
    this.#failed.clear();
    this.#replan();
  }

  /** A new connection: nothing counts as granted or in flight on it (re-SUBSCRIBE is idempotent). */
  connected(): void {
    this.#granted = new Set();
    this.#unwantedGranted.clear();
    this.#inFlight = null;
    this.#replan();
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
    const packet: string[] = [];
    const queue = this.#queue;
    let i = this.#cursor;
    while (i < queue.length && packet.length < this.#options.chunk) {
      const filter = queue[i++] as string;
      if (this.#isPlain(filter)) packet.push(filter);
    }
    this.#moveCursor(i);
    if (packet.length === 0) {
      // Only suspects and failed filters are left: one alone, the first due in wanted order.
      const due = this.#firstDueAlone();
      if (due === null) return null;
      packet.push(due);
    }
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
      // Unwanted while in flight: granted all the same, so it must be unsubscribed.
      if (!this.#wanted.has(filter)) this.#unwantedGranted.add(filter);
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
    const unwanted = [...this.#unwantedGranted];
    for (const filter of unwanted) this.#granted.delete(filter);
    this.#unwantedGranted.clear();
    return unwanted;
  }

  /** Nothing in flight and nothing to send before the next failed filter's retry. */
  get settled(): boolean {
    if (this.#inFlight || this.#plainLeft()) return false;
    // Every other wanted filter is granted, suspect or failed (#isPlain).
    const now = this.#options.now();
    for (const filter of this.#suspects) if (this.#isDue(filter, now)) return false;
    for (const filter of this.#failed.keys()) if (this.#isDue(filter, now)) return false;
    return true;
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

  /** Not granted, and not waiting for a failure's retry: a suspect, or a failure whose time came. */
  #isDue(filter: string, now: number): boolean {
    if (this.#granted.has(filter)) return false;
    const failure = this.#failed.get(filter);
    return !failure || failure.retry_at_ms <= now;
  }

  /**
   * With no plain filter left: the first due suspect or failed filter in wanted order, or null.
   * Rare (a broker that refused or closed on something), so the wanted-order scan is affordable,
   * and skipped when at most one candidate is due.
   */
  #firstDueAlone(): string | null {
    const now = this.#options.now();
    const due = new Set<string>();
    for (const filter of this.#suspects) if (this.#isDue(filter, now)) due.add(filter);
    for (const filter of this.#failed.keys()) if (this.#isDue(filter, now)) due.add(filter);
    if (due.size <= 1) return due.values().next().value ?? null;
    for (const filter of this.#wanted) if (due.has(filter)) return filter;
    return null;
  }

  /** Wanted, and neither granted, suspect nor failed: goes in the next normal packet. */
  #isPlain(filter: string): boolean {
    return (
      this.#wanted.has(filter) &&
      !this.#granted.has(filter) &&
      !this.#suspects.has(filter) &&
      !this.#failed.has(filter)
    );
  }

  /** Whether a plain filter is left after the cursor (moved past those that are not). */
  #plainLeft(): boolean {
    const queue = this.#queue;
    let i = this.#cursor;
    while (i < queue.length && !this.#isPlain(queue[i] as string)) i++;
    this.#moveCursor(i);
    return this.#cursor < this.#queue.length;
  }

  /** A queue gone through is dropped: 90,000 filters kept for nothing are 0.7 MB. */
  #moveCursor(i: number): void {
    if (i < this.#queue.length) this.#cursor = i;
    else {
      this.#queue = [];
      this.#cursor = 0;
    }
  }

  /** Every wanted filter is queued again, in wanted order (`next()` skips what is not plain). */
  #replan(): void {
    this.#queue = [...this.#wanted];
    this.#cursor = 0;
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

/** MQTT filter matching (`+` one level, `#` the rest); `$` topics never match a leading wildcard. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
