/**
 * The session machine on its own: XState actor + SimulatedClock, assertions on snapshot values,
 * context and emitted effects (no registry, no store).
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { EventDraft, MachineEmitted } from '../../src/devices/session.context.ts';
import { sessionMachine } from '../../src/devices/session.machine.ts';
import { DEFAULT_SESSION_CONFIG } from './harness.ts';

function start(config = DEFAULT_SESSION_CONFIG) {
  const clock = new SimulatedClock();
  const actor = createActor(sessionMachine, {
    clock,
    input: { deviceId: 'm1', workerUid: 'w1', config, at: 0 },
  });
  const emitted: MachineEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const reading = (power_w: number, retained = false) =>
    actor.send({ type: 'READING', at: clock.now(), power_w, energy_wh: null, retained });
  const drafts = () =>
    emitted.filter((e) => e.type === 'draft').map((e) => (e as { draft: EventDraft }).draft);
  return { clock, actor, emitted, reading, drafts };
}

describe('session machine', () => {
  it('starts online, idle and listening', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toEqual({ online: { power: 'idle', liveness: 'listening' } });
    expect(actor.getSnapshot().context.seq).toBe(0);
  });

  it('goes idle -> starting -> working and emits session_started after the start debounce', () => {
    const { actor, clock, reading, drafts } = start();
    reading(500);
    expect(actor.getSnapshot().value).toMatchObject({ online: { power: 'starting' } });
    clock.increment(9999);
    expect(drafts()).toEqual([]);
    clock.increment(1);
    expect(actor.getSnapshot().value).toMatchObject({
      online: { power: { session: { activity: 'working', heartbeat: 'ticking' } } },
    });
    expect(drafts()).toMatchObject([
      { type: 'session_started', seq: 1, at: 10_000, payload: { state: 'working', power_w: 500 } },
    ]);
  });

  it('ignores a retained reading in idle (no phantom session)', () => {
    const { actor, reading } = start();
    reading(500, true);
    expect(actor.getSnapshot().value).toMatchObject({ online: { power: 'idle' } });
    expect(actor.getSnapshot().context.power_w).toBeNull();
  });

  it('does not poll on a reading that lands after the armed deadline before its timer ran (issue 13)', () => {
    const { actor, clock, emitted } = start({ ...DEFAULT_SESSION_CONFIG, message_timeout_s: 8 });
    clock.set(7_000);
    actor.send({ type: 'READING', at: 7_000, power_w: 0, energy_wh: null, retained: false });
    // The timer armed for 8 s has not run yet (a busy event loop); the reading stamped 8.004 s
    // comes first. It pushes the deadline to 16.004 s: no poll now, none when the late timer runs.
    actor.send({ type: 'READING', at: 8_004, power_w: 0, energy_wh: null, retained: false });
    clock.set(8_004);
    expect(emitted).toEqual([]);
    expect(actor.getSnapshot().value).toMatchObject({ online: { liveness: 'listening' } });
    clock.set(16_003);
    expect(emitted).toEqual([]);
    clock.set(16_004);
    expect(emitted).toEqual([{ type: 'poll', at: 16_004 }]);
  });

  it('never moves a heartbeat during a poll wait back before the previous heartbeat (issue 13)', () => {
    const config = {
      ...DEFAULT_SESSION_CONFIG,
      start_debounce_s: 1,
      heartbeat_interval_s: 10,
      message_timeout_s: 15,
    };
    const { clock, reading, drafts } = start(config);
    reading(500);
    // 11 s: still listening, so the silence since 0 s counts (a meter may report only on change).
    // 15 s: poll. 21 s: heartbeat in the poll wait: nothing more counted, interval 11 s -> 11 s.
    // SimulatedClock schedules a timer set while flushing relative to the flushed-to time: step.
    for (const t of [1_000, 11_000, 15_000, 21_000]) clock.set(t);
    const beats = drafts().filter((d) => d.type === 'session_heartbeat');
    expect(beats.map((d) => d.payload)).toMatchObject([
      { interval_end: new Date(11_000).toISOString(), total_s: 11, working_s: 11 },
      {
        interval_start: new Date(11_000).toISOString(),
        interval_end: new Date(11_000).toISOString(),
        interval_working_s: 0,
        total_s: 11,
        working_s: 11,
      },
    ]);
    expect(beats[1]!.at).toBe(21_000);
  });

  it('emits a poll after message_timeout_s of silence and accepts POLL_UNAVAILABLE only then', () => {
    const { actor, clock, emitted } = start({ ...DEFAULT_SESSION_CONFIG, message_timeout_s: 30 });
    expect(actor.getSnapshot().can({ type: 'POLL_UNAVAILABLE', at: 0 })).toBe(false);
    clock.increment(30_000);
    expect(emitted).toContainEqual({ type: 'poll', at: 30_000 });
    expect(actor.getSnapshot().value).toMatchObject({ online: { liveness: 'polling' } });
    expect(actor.getSnapshot().can({ type: 'POLL_UNAVAILABLE', at: 30_000 })).toBe(true);
    clock.increment(10_000);
    expect(actor.getSnapshot().value).toBe('offline');
  });

  it('a message answers the poll', () => {
    const { actor, clock, reading } = start({ ...DEFAULT_SESSION_CONFIG, message_timeout_s: 30 });
    clock.increment(30_000);
    clock.increment(5_000);
    reading(0);
    expect(actor.getSnapshot().value).toMatchObject({ online: { liveness: 'listening' } });
    clock.increment(20_000);
    expect(actor.getSnapshot().value).not.toBe('offline');
  });

  it('does not reset the power region when liveness restarts (broker reconnect)', () => {
    const { actor, clock, reading } = start();
    reading(500);
    clock.increment(10_000);
    actor.send({ type: 'LISTEN', at: clock.now(), listening: false });
    actor.send({ type: 'LISTEN', at: clock.now(), listening: true });
    expect(actor.getSnapshot().value).toMatchObject({
      online: { power: { session: { activity: 'working' } }, liveness: 'listening' },
    });
  });

  it('a timer stands for its deadline: logical time is the deadline, not when the timer ran', () => {
    // provide() swaps the named delay for a wrong one; the event still carries the exact deadline.
    const machine = sessionMachine.provide({ delays: { heartbeat: 1000 } });
    const clock = new SimulatedClock();
    const actor = createActor(machine, {
      clock,
      input: {
        deviceId: 'm1',
        workerUid: 'w1',
        config: { ...DEFAULT_SESSION_CONFIG, start_debounce_s: 0, heartbeat_interval_s: 5 },
        at: 0,
      },
    });
    const drafts: EventDraft[] = [];
    actor.on('draft', (e) => drafts.push(e.draft));
    actor.start();
    actor.send({ type: 'READING', at: 0, power_w: 50, energy_wh: null, retained: false });
    clock.increment(1000);
    expect(drafts.map((d) => [d.type, d.at])).toEqual([
      ['session_started', 0],
      ['session_heartbeat', 5000],
    ]);
  });
});
