/**
 * snapshot-json.ts writes the persisted snapshot field by field: it must give exactly
 * `JSON.stringify(actor.getPersistedSnapshot())`, key order included, in every state the machine
 * reaches, and fall back to JSON.stringify for anything it does not know.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { persistedOf } from '../../src/devices/device-actor.ts';
import { stateValueOf } from '../../src/devices/direct-step.ts';
import { sessionMachine } from '../../src/devices/session.machine.ts';
import {
  persistedJson,
  SerializedSnapshot,
  snapshotObject,
  snapshotText,
} from '../../src/devices/snapshot-json.ts';
import { prng } from './harness.ts';

describe('persistedJson', () => {
  it('equals JSON.stringify of the persisted snapshot in every state of random walks', () => {
    const states = new Set<string>();
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const clock = new SimulatedClock();
      const actor = createActor(sessionMachine, {
        clock,
        input: {
          deviceId: pick(['m1', 'shelly "quoted" \\ plug', 'zigbee/0x00158d']),
          workerUid: 'w1',
          config: {
            standby_threshold_w: pick([2, 2.5, 10]),
            working_threshold_w: pick([50, 99.9, 1e21]),
            start_debounce_s: pick([0, 5]),
            stop_debounce_s: pick([0, 30]),
            message_timeout_s: pick([10, 60]),
            heartbeat_interval_s: pick([5, 60]),
          },
          at: 1_767_600_000_000 + seed,
        },
      });
      actor.start();
      for (let i = 0; i < 60; i++) {
        clock.increment(Math.floor(rnd() * 20_000));
        const r = rnd();
        if (r < 0.8) {
          actor.send({
            type: 'READING',
            at: clock.now(),
            power_w: pick([0, 1.25, 40, 800.125, -0]),
            energy_wh: pick([null, 10, 10.000001, 2, 1e-7]),
            retained: r < 0.05,
          });
        } else if (r < 0.9) {
          actor.send({ type: 'LISTEN', at: clock.now(), listening: rnd() < 0.5 });
        } else actor.send({ type: 'ALIVE', at: clock.now(), retained: false });
        const snapshot = actor.getSnapshot();
        const expected = JSON.stringify(actor.getPersistedSnapshot());
        expect(persistedJson(snapshot, () => persistedOf(snapshot))).toBe(expected);
        // The same with the shared, frozen value a direct step puts in its snapshot.
        const shared = { ...snapshot, value: stateValueOf(snapshot._nodes) } as typeof snapshot;
        expect(persistedJson(shared, () => persistedOf(shared))).toBe(expected);
        states.add(JSON.stringify(snapshot.value));
        checked++;
      }
    }
    expect(checked).toBe(2400);
    expect(states.size).toBeGreaterThanOrEqual(8);
  });

  it('falls back to JSON.stringify for a context it does not know', () => {
    const actor = createActor(sessionMachine, {
      input: {
        deviceId: 'm1',
        workerUid: 'w1',
        config: {
          standby_threshold_w: 2,
          working_threshold_w: 50,
          start_debounce_s: 0,
          stop_debounce_s: 0,
          message_timeout_s: 60,
          heartbeat_interval_s: 60,
        },
        at: 0,
      },
    });
    actor.start();
    const snapshot = actor.getSnapshot();
    const extra = { ...snapshot, context: { ...snapshot.context, added: 1 } };
    expect(persistedJson(extra, () => persistedOf(extra))).toBe(JSON.stringify(persistedOf(extra)));
    expect(JSON.parse(persistedJson(extra, () => persistedOf(extra))).context.added).toBe(1);
    actor.stop();
  });

  it('hands stores the text as is and other snapshots serialised', () => {
    const serialized = new SerializedSnapshot('{"a":1}');
    expect(snapshotText(serialized)).toBe('{"a":1}');
    expect(snapshotText({ a: 1 })).toBe('{"a":1}');
    expect(snapshotText(null)).toBeNull();
    expect(snapshotObject(serialized)).toEqual({ a: 1 });
  });
});
