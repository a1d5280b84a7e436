/**
 * The incremental SubscriptionTracker against the scanning one it replaced (scanning-tracker.ts):
 * random sequences of every call a connection makes (wanted lists changing, packets granted in
 * part, refused, rejected, connections lost, time passing, another broker), every answer compared.
 * Also: a 50,000-filter start-up costs the packets it sends, not wanted x packets.
 */
import { describe, expect, it } from 'vitest';
import { SubscriptionTracker } from '../../src/mqtt/subscriptions.ts';
import { seeded } from '../helpers/worker-process.ts';
import { ScanningTracker } from './scanning-tracker.ts';

const FILTERS = Array.from({ length: 12 }, (_, i) => `t/${i}`);

function pair(chunk: number) {
  let now = 0;
  const options = {
    chunk,
    retry: { min_ms: 1000, max_ms: 8000, jitter: 'spread' as const },
    now: () => now,
    random: () => 0.5,
  };
  return {
    subject: new SubscriptionTracker(options),
    model: new ScanningTracker(options),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SubscriptionTracker against the scanning model', () => {
  it('answers every call of 300 random sequences like the model', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seeded(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
      const { subject, model, advance } = pair(1 + Math.floor(random() * 4));
      const both = <R>(call: (t: SubscriptionTracker | ScanningTracker) => R, what: string) => {
        const expected = call(model);
        expect(call(subject), `seed ${seed}: ${what}`).toEqual(expected);
        return expected;
      };
      const wantedList = () => FILTERS.filter(() => random() < 0.6);
      const first = wantedList();
      both((t) => t.setWanted(first), 'setWanted');
      both((t) => t.connected(), 'connected');
      let inFlight: string[] | null = null;
      for (let step = 0; step < 60; step++) {
        const r = random();
        if (r < 0.3) inFlight = both((t) => t.next(), 'next') ?? inFlight;
        else if (r < 0.5 && inFlight) {
          const refused = new Map(
            inFlight.filter(() => random() < 0.25).map((f) => [f, pick([0x80, 0x87])] as const),
          );
          both((t) => t.answered(refused), 'answered');
          inFlight = null;
        } else if (r < 0.56 && inFlight) {
          both((t) => t.rejected('client refused'), 'rejected');
          inFlight = null;
        } else if (r < 0.63) {
          both((t) => t.connectionLost(), 'connectionLost');
          inFlight = null;
        } else if (r < 0.7) {
          const list = wantedList();
          both((t) => t.setWanted(list), 'setWanted');
        } else if (r < 0.75) {
          // Which filters, not their order: one UNSUBSCRIBE drops them all alike.
          both((t) => t.takeUnwanted().sort(), 'takeUnwanted');
        } else if (r < 0.78) both((t) => t.forgetFailures(), 'forgetFailures');
        else if (r < 0.8) {
          both((t) => t.connected(), 'connected');
          inFlight = null;
        } else advance(pick([0, 500, 1000, 3000]));
        both((t) => t.settled, 'settled');
        both((t) => t.nextRetryAtMs, 'nextRetryAtMs');
        both((t) => [t.wanted, t.granted], 'counts');
        both((t) => t.failures(), 'failures');
      }
    }
  });

  it('subscribes 50,000 filters touching each a few times, where the model scans them per packet', () => {
    const filters = Array.from({ length: 50_000 }, (_, i) => `shellies/m${i}/status/switch:0`);
    const { subject } = pair(500);
    subject.setWanted(filters);
    subject.connected();
    // Counts the tracker's reads of its own sets and maps (lookups and iteration steps) while it
    // subscribes: the scanning model made ~4 per wanted filter per packet (100 packets: ~20,000,000).
    let reads = 0;
    const spied: [object, string | symbol][] = [
      [Set.prototype, 'has'],
      [Map.prototype, 'has'],
      [Map.prototype, 'get'],
      [Set.prototype, Symbol.iterator],
      [Set.prototype, 'values'],
    ];
    type Method = (this: unknown, ...args: unknown[]) => unknown;
    const originals = spied.map(([proto, key]) => Reflect.get(proto, key) as Method);
    spied.forEach(([proto, key], i) => {
      const original = originals[i] as Method;
      Reflect.set(proto, key, function (this: unknown, ...args: unknown[]) {
        reads++;
        const result = original.apply(this, args);
        if (typeof key !== 'symbol' && key !== 'values') return result;
        const it = result as Iterator<unknown>;
        return {
          next: () => {
            reads++;
            return it.next();
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      });
    });
    let packets = 0;
    try {
      for (let packet = subject.next(); packet; packet = subject.next()) {
        packets++;
        subject.answered(new Map());
        if (packets < 100) expect(subject.settled).toBe(false);
      }
      expect(subject.takeUnwanted()).toEqual([]);
    } finally {
      spied.forEach(([proto, key], i) => {
        Reflect.set(proto, key, originals[i]);
      });
    }
    expect(packets).toBe(100);
    expect(subject.settled).toBe(true);
    expect(subject.granted).toBe(50_000);
    expect(reads).toBeLessThan(20 * 50_000);
  });
});
