/**
 * Direct steps (direct-step.ts) against XState's own macrostep, one step at a time: an actor of the
 * session machine walks random readings and its own timers; before each step the direct step is
 * computed from the actor's snapshot, then the actor takes the step, and whenever the direct step
 * did not decline, the two must agree on everything the step leaves behind: the list of active
 * state nodes in order, the state value (key order included), the context, the event drafts and the
 * armed timers (ids, delays, order).
 */
import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor } from 'xstate';
import {
  type DirectStep,
  directAlive,
  directReading,
  directTimer,
  TIMER,
} from '../../src/devices/direct-step.ts';
import type { EventDraft, ReadingEvent } from '../../src/devices/session.context.ts';
import { sessionMachine } from '../../src/devices/session.machine.ts';
import { prng } from './harness.ts';

interface Pending {
  at: number;
  fn: () => void;
  /** XState's id of the delayed event this timer delivers. */
  id: string;
}

/** A clock that knows which of XState's delayed events each timer is, and fires one at a time. */
class StepClock {
  now = 0;
  readonly pending = new Map<number, Pending>();
  actor: AnyActorRef | null = null;
  #handles = 0;

  setTimeout(fn: () => void, ms: number): number {
    // XState records the scheduled event just before it asks the clock for a timer.
    const events = Object.values(this.actor!.system.getSnapshot()._scheduledEvents);
    const id = (events.at(-1) as { id: string }).id;
    const handle = ++this.#handles;
    this.pending.set(handle, { at: this.now + ms, fn, id });
    return handle;
  }

  clearTimeout(handle: number): void {
    this.pending.delete(handle);
  }

  /** The earliest timer due by `until`, with whether another is due at the same instant. */
  next(until: number): { handle: number; timer: Pending; tie: boolean } | null {
    let best: [number, Pending] | null = null;
    let tie = false;
    for (const entry of this.pending) {
      if (entry[1].at > until) continue;
      if (!best || entry[1].at < best[1].at) {
        best = entry;
        tie = false;
      } else if (entry[1].at === best[1].at) tie = true;
    }
    return best && { handle: best[0], timer: best[1], tie };
  }
}

const timersOf = (actor: AnyActorRef) =>
  Object.values(actor.system.getSnapshot()._scheduledEvents).map((s) => {
    const e = s as { id: string; delay: number };
    return { id: e.id, delay: e.delay };
  });

function walk(seed: number) {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const config = {
    standby_threshold_w: 10,
    working_threshold_w: 100,
    start_debounce_s: pick([0, 0, 1, 2, 5]),
    stop_debounce_s: pick([0, 0, 1, 3]),
    message_timeout_s: pick([3, 10, 30]),
    heartbeat_interval_s: pick([1, 2, 5, 30]),
  };
  const clock = new StepClock();
  const actor = createActor(sessionMachine, {
    clock,
    input: { deviceId: 'm1', workerUid: 'w1', config, at: 0 },
  });
  clock.actor = actor;
  let drafts: EventDraft[] = [];
  actor.on('draft', (e) => drafts.push(e.draft));
  actor.start();

  const stats = { compared: 0, declined: 0, readings: 0, timers: 0, alive: 0 };
  const check = (
    direct: DirectStep | null,
    before: { id: string; delay: number }[],
    fired?: string,
  ) => {
    if (!direct) {
      stats.declined++;
      return;
    }
    stats.compared++;
    const after = actor.getSnapshot();
    const label = `seed ${seed}, step ${stats.compared + stats.declined}`;
    expect(
      direct.snapshot._nodes.map((n) => n.id),
      label,
    ).toEqual(after._nodes.map((n) => n.id));
    expect(JSON.stringify(direct.snapshot.value), label).toBe(JSON.stringify(after.value));
    expect(direct.snapshot.context, label).toEqual(after.context);
    expect(direct.drafts, label).toEqual(drafts);
    const kept = before.filter((t) => t.id !== fired && !direct.cancel.includes(t.id));
    expect([...kept, ...direct.arm], label).toEqual(timersOf(actor));
  };
  const fireUntil = (until: number) => {
    for (let n = clock.next(until); n; n = clock.next(until)) {
      clock.now = n.timer.at;
      const before = timersOf(actor);
      const direct = n.tie ? null : directTimer(actor.getSnapshot(), n.timer.id);
      drafts = [];
      clock.pending.delete(n.handle);
      n.timer.fn();
      if (direct) stats.timers++;
      check(direct, before, n.timer.id);
    }
  };

  let energy = 100;
  for (let i = 0; i < 120; i++) {
    const dt = rnd() < 0.2 ? 0 : Math.floor(rnd() * (rnd() < 0.1 ? 40_000 : 3_000));
    const at = clock.now + dt;
    fireUntil(at);
    clock.now = at;
    if (rnd() < 0.15) {
      // A sign of life: ALIVE or availability (online mostly; offline is XState's).
      const retained = rnd() < 0.3;
      const event =
        rnd() < 0.5
          ? ({ type: 'ALIVE', at, retained } as const)
          : ({ type: 'AVAILABILITY', at, online: rnd() < 0.9, retained } as const);
      const before = timersOf(actor);
      const direct = directAlive(actor.getSnapshot(), event);
      drafts = [];
      actor.send(event);
      if (direct) stats.alive++;
      check(direct, before);
      continue;
    }
    const power_w = pick([0, 5, 9.9, 10, 50, 99.9, 100, 500]);
    energy += power_w * 0.001;
    const event: ReadingEvent = {
      type: 'READING',
      at,
      power_w,
      energy_wh: rnd() < 0.05 ? 1 : Math.round(energy * 1000) / 1000,
      retained: rnd() < 0.05,
    };
    const before = timersOf(actor);
    const direct = directReading(actor.getSnapshot(), event);
    drafts = [];
    actor.send(event);
    if (direct) stats.readings++;
    check(direct, before);
  }
  fireUntil(clock.now + 120_000);
  return stats;
}

describe('direct steps', () => {
  it('leave exactly what XState leaves (readings, signs of life, timers): nodes, value, context, drafts, timers (150 random walks)', () => {
    const total = { compared: 0, declined: 0, readings: 0, timers: 0, alive: 0 };
    for (let seed = 1; seed <= 150; seed++) {
      const s = walk(seed);
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
    }
    // The walks must exercise both kinds of direct step, or this proves nothing.
    expect(total.readings).toBeGreaterThan(5_000);
    expect(total.timers).toBeGreaterThan(5_000);
    expect(total.alive).toBeGreaterThan(1_000);
    expect(total.declined).toBeGreaterThan(0);
  }, 120_000);

  it('declines a retained reading and a timer it does not cover', () => {
    const clock = new StepClock();
    const actor = createActor(sessionMachine, {
      clock,
      input: {
        deviceId: 'm1',
        workerUid: 'w1',
        config: {
          standby_threshold_w: 10,
          working_threshold_w: 100,
          start_debounce_s: 0,
          stop_debounce_s: 0,
          message_timeout_s: 10,
          heartbeat_interval_s: 60,
        },
        at: 0,
      },
    });
    clock.actor = actor;
    actor.start();
    const reading = { type: 'READING', at: 1, power_w: 500, energy_wh: null } as const;
    expect(directReading(actor.getSnapshot(), { ...reading, retained: true })).toBeNull();
    expect(directReading(actor.getSnapshot(), { ...reading, retained: false })).not.toBeNull();
    expect(directTimer(actor.getSnapshot(), TIMER.poll)).toBeNull();
    expect(directTimer(actor.getSnapshot(), 'not-a-timer')).toBeNull();
  });
});
