/**
 * device-actor.ts helpers that stand in for generic XState calls on the hot path: they must give
 * exactly what XState gives for the session machine.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { persistedOf } from '../../src/devices/device-actor.ts';
import { sessionMachine } from '../../src/devices/session.machine.ts';
import { DEFAULT_SESSION_CONFIG } from './harness.ts';

describe('persistedOf', () => {
  it('equals actor.getPersistedSnapshot() in every state, key order included', () => {
    const clock = new SimulatedClock();
    const actor = createActor(sessionMachine, {
      clock,
      input: { deviceId: 'm1', workerUid: 'w1', config: DEFAULT_SESSION_CONFIG, at: 0 },
    });
    actor.start();
    const reading = (power_w: number, energy_wh: number | null = null) =>
      actor.send({ type: 'READING', at: clock.now(), power_w, energy_wh, retained: false });
    const values: unknown[] = [];
    const check = () => {
      const snapshot = actor.getSnapshot();
      values.push(snapshot.value);
      expect(persistedOf(snapshot)).toStrictEqual(actor.getPersistedSnapshot());
      expect(JSON.stringify(persistedOf(snapshot))).toBe(
        JSON.stringify(actor.getPersistedSnapshot()),
      );
    };
    check(); // idle, never seen
    reading(500, 10);
    check(); // starting
    clock.increment(10_000);
    check(); // working
    reading(50, 11);
    check(); // standby
    clock.increment(60_000);
    check(); // after a heartbeat
    reading(0, 12);
    check(); // stopping
    clock.increment(30_000);
    check(); // idle after the session
    actor.send({ type: 'LISTEN', at: clock.now(), listening: false });
    check(); // paused
    actor.send({ type: 'LISTEN', at: clock.now(), listening: true });
    clock.increment(300_000);
    check(); // polling
    clock.increment(10_000);
    check(); // offline
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBeGreaterThanOrEqual(7);
  });
});
