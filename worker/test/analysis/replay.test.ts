/**
 * Replay against the live worker (golden): a DeviceRegistry wired as app.ts wires it (backlog on,
 * polls), on a simulated clock, is fed a message sequence; what it received is recorded as the
 * recording hook does (each input with the time the registry gave it). Replaying that recording must
 * give exactly the sessions the live registry committed: start, end, reason, working, standby,
 * total, energy. Sequences cover power-off ends, pauses, silence answered by a poll and not
 * answered, the meter saying it is offline, a counter reset, and a session still open at the end.
 */
import type { SessionConfig, SessionStoppedEvent } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/analysis/replay.ts';
import { MemoryDeviceStore } from '../../src/devices/registry.ts';
import type { DeviceInput } from '../../src/devices/types.ts';
import type { RecordedInput } from '../../src/recording/types.ts';
import {
  BASE_MS,
  DEVICE_ID,
  deviceConfig,
  prng,
  TestClock,
  testRegistry,
} from '../devices/harness.ts';

const CONFIG: Partial<SessionConfig> = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 10,
  stop_debounce_s: 30,
  message_timeout_s: 120,
  heartbeat_interval_s: 60,
};

type Msg =
  | { t: number; w: number; wh?: number | null }
  | { t: number; online: boolean }
  | { t: number; alive: true };

/**
 * The live side: the registry as app.ts builds it, fed `messages`; polls are answered with the last
 * reading after 1 s when `answerPolls` says so for that poll. Returns what it received (the
 * recording) and the sessions it committed, the still-open one closed at `end` by a shutdown.
 */
function live(messages: Msg[], end: number, answerPolls: (n: number) => boolean) {
  const clock = new TestClock();
  const store = new MemoryDeviceStore();
  const recorded: RecordedInput[] = [];
  let last: { w: number; wh: number | null } | null = null;
  let polls = 0;
  const deliver = (input: DeviceInput) => {
    const at = clock.now();
    if (input.kind === 'reading')
      recorded.push({ at, kind: 'reading', power_w: input.power_w, energy_wh: input.energy_wh });
    else if (input.kind === 'availability')
      recorded.push({ at, kind: 'availability', online: input.online });
    else recorded.push({ at, kind: 'alive' });
    registry.input(DEVICE_ID, input);
  };
  const registry = testRegistry(store, clock, {
    backlog: true,
    onPoll: () => {
      if (answerPolls(polls++) && last) {
        const answer = last;
        clock.setTimeout(
          () => deliver({ kind: 'reading', power_w: answer.w, energy_wh: answer.wh }),
          1000,
        );
      }
      return true;
    },
  });
  registry.apply([deviceConfig(CONFIG)]);
  for (const m of messages) {
    clock.advanceTo(BASE_MS + m.t);
    if ('w' in m) {
      last = { w: m.w, wh: m.wh ?? null };
      deliver({ kind: 'reading', power_w: m.w, energy_wh: m.wh ?? null });
    } else if ('online' in m) deliver({ kind: 'availability', online: m.online });
    else deliver({ kind: 'alive' });
  }
  clock.advanceTo(BASE_MS + end);
  const closedBefore = store.events.filter((e) => e.type === 'session_stopped').length;
  registry.stop({ closeSessions: true });
  const stopped = store.events.filter(
    (e): e is SessionStoppedEvent => e.type === 'session_stopped',
  );
  const sessions = stopped.map((e, i) => {
    const { session_id: _id, last_seen_at: _seen, ...rest } = e.payload;
    return i < closedBefore ? rest : { ...rest, ended_at: null, reason: 'open' };
  });
  return {
    recorded,
    sessions,
    polls,
    heartbeats: store.events.filter((e) => e.type === 'session_heartbeat').length,
  };
}

const replayOf = (recorded: RecordedInput[], end: number, heartbeats = false) =>
  replay(recorded, deviceConfig(CONFIG), { from: BASE_MS, to: BASE_MS + end }, undefined, {
    heartbeats,
  }).sessions;

/** A hand-written day: every way a session ends. */
const SCRIPTED: Msg[] = [
  // Job 1: standby, work with a short pause (< stop debounce), power off.
  { t: 0, w: 2, wh: 100 },
  ...Array.from({ length: 30 }, (_, i) => ({
    t: 10_000 + i * 10_000,
    w: i < 5 ? 40 : 250,
    wh: 100 + i,
  })),
  { t: 310_000, w: 3, wh: 130 },
  { t: 320_000, w: 260, wh: 131 },
  { t: 330_000, w: 1, wh: 132 },
  { t: 400_000, w: 1, wh: 132 },
  // A 5 s blip: shorter than the start debounce, no session.
  { t: 450_000, w: 50, wh: 132 },
  { t: 455_000, w: 1, wh: 132 },
  // Job 2: the meter falls silent mid-job; the poll is answered (poll #0), then it goes silent
  // again and the second poll is not: the session ends with reason timeout at the last message.
  { t: 500_000, w: 300, wh: 140 },
  { t: 560_000, w: 300, wh: 145 },
  { t: 800_000, w: 300, wh: 165 },
  // Job 3 after the device came back: a counter reset, then the meter says it is offline.
  { t: 1_500_000, w: 200, wh: 170 },
  { t: 1_520_000, w: 200, wh: 2 },
  { t: 1_540_000, alive: true },
  { t: 1_560_000, w: 200, wh: 4 },
  { t: 1_600_000, online: false },
  // Job 4: still running at the end of the range.
  { t: 1_700_000, w: 120, wh: 10 },
  { t: 1_760_000, w: 120, wh: 12 },
];

describe('replay gives exactly the sessions of the live worker (golden)', () => {
  it('on a scripted day with every kind of session end', () => {
    const end = 1_800_000;
    const run = live(SCRIPTED, end, (n) => n === 0);
    expect(run.polls).toBeGreaterThanOrEqual(2);
    expect(run.heartbeats).toBeGreaterThan(0);
    expect(run.sessions.map((s) => s.reason)).toEqual(['power_off', 'timeout', 'timeout', 'open']);
    expect(replayOf(run.recorded, end)).toEqual(run.sessions);
    expect(replayOf(run.recorded, end, true)).toEqual(run.sessions);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`on a random walk of power levels and silences (seed ${seed})`, () => {
      const random = prng(seed);
      const levels = [0, 3, 9, 10, 40, 99, 100, 400];
      const messages: Msg[] = [];
      let t = 0;
      let wh = 50;
      for (let i = 0; i < 600; i++) {
        const r = random();
        // Mostly a few seconds apart; sometimes a silence past the timeout (polled).
        t +=
          r < 0.03
            ? 150_000 + Math.floor(random() * 100_000)
            : 1000 + Math.floor(random() * 20_000);
        const kind = random();
        if (kind < 0.03) messages.push({ t, online: random() < 0.5 });
        else if (kind < 0.06) messages.push({ t, alive: true });
        else {
          wh += random() < 0.01 ? -wh + 1 : random() * 2;
          messages.push({ t, w: levels[Math.floor(random() * levels.length)] as number, wh });
        }
      }
      const end = t + 5000;
      const run = live(messages, end, (n) => n % 2 === 0);
      expect(run.sessions.length).toBeGreaterThan(3);
      expect(replayOf(run.recorded, end)).toEqual(run.sessions);
    });
  }
});
