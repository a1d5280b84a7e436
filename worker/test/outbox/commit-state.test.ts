import { describe, expect, it } from 'vitest';
import {
  type CommitEvent,
  type CommitState,
  RETRY_MS,
  type Transition,
  timerOf,
  transition,
} from '../../src/outbox/commit-state.ts';

// The group commit's state machine on its own (docs/architecture.md, "Outbox: group commit states").
// Groups in flight are plain strings here.
type S = CommitState<string>;
type E = CommitEvent<string>;

const err = new Error('disk full');
const err2 = new Error('cannot start');
const STATES: Record<string, S> = {
  idle: { kind: 'idle' },
  scheduled: { kind: 'scheduled' },
  pacing: { kind: 'pacing', dueAt: 1_005, ms: 3 },
  committing: { kind: 'committing', flight: 'g1', failing: null },
  committingAfterFailure: { kind: 'committing', flight: 'g1', failing: err },
  retrying: { kind: 'retrying', flight: 'g1', error: err },
  writerDownWithGroup: { kind: 'writerDown', flight: 'g1', error: err2 },
  writerDown: { kind: 'writerDown', flight: null, error: err2 },
  closed: { kind: 'closed' },
};
const EVENTS: Record<string, E> = {
  staged: { type: 'staged' },
  'turnEnded(staged)': { type: 'turnEnded', staged: true },
  'turnEnded(nothing)': { type: 'turnEnded', staged: false },
  'flush(staged)': { type: 'flush', staged: true },
  'flush(nothing)': { type: 'flush', staged: false },
  'submitted(g2)': { type: 'submitted', flight: 'g2' },
  'replied ok(g1, staged)': { type: 'replied', flight: 'g1', ok: true, staged: true },
  'replied ok(g1, nothing)': { type: 'replied', flight: 'g1', ok: true, staged: false },
  'replied failed(g1)': { type: 'replied', flight: 'g1', ok: false, error: new Error('locked') },
  'replied ok(g0)': { type: 'replied', flight: 'g0', ok: true, staged: true },
  retryDue: { type: 'retryDue' },
  restartDue: { type: 'restartDue' },
  'writerRestarted(staged)': { type: 'writerRestarted', staged: true },
  'writerRestarted(nothing)': { type: 'writerRestarted', staged: false },
  writerFailed: { type: 'writerFailed', error: new Error('again') },
  close: { type: 'close' },
  paced: { type: 'paced', dueAt: 1_005, ms: 3 },
  'paceDue(staged)': { type: 'paceDue', staged: true },
  'paceDue(nothing)': { type: 'paceDue', staged: false },
};

/** `=` when the state object is unchanged, then kind(flight, failing) [effects]. */
function show(from: S, t: Transition<string>): string {
  const s = t.state;
  const flight =
    'flight' in s ? `(${s.flight}${'failing' in s && s.failing ? ', failing' : ''})` : '';
  const effects = t.effects.map((e) => e.type + ('flight' in e ? ` ${e.flight}` : ''));
  return `${s === from ? '=' : ''}${s.kind}${flight} [${effects.join(', ')}]`;
}

/** Every state x every event: the whole specification of the group commit's behaviour. */
const EXPECTED: Record<string, Record<string, string>> = {
  idle: {
    staged: 'scheduled []',
    'turnEnded(staged)': 'idle [send]',
    'turnEnded(nothing)': 'idle []',
    'flush(staged)': 'idle [send]',
    'flush(nothing)': 'idle []',
    'submitted(g2)': 'committing(g2) [submit g2]',
    'replied ok(g1, staged)': '=idle []',
    'replied ok(g1, nothing)': '=idle []',
    'replied failed(g1)': '=idle []',
    'replied ok(g0)': '=idle []',
    retryDue: '=idle []',
    restartDue: '=idle []',
    'writerRestarted(staged)': 'idle [send]',
    'writerRestarted(nothing)': 'idle []',
    writerFailed: 'writerDown(null) []',
    close: 'closed []',
    paced: 'pacing []',
    'paceDue(staged)': '=idle []',
    'paceDue(nothing)': '=idle []',
  },
  scheduled: {
    staged: '=scheduled []',
    'turnEnded(staged)': 'idle [send]',
    'turnEnded(nothing)': 'idle []',
    'flush(staged)': 'idle [send]',
    'flush(nothing)': 'idle []',
    'submitted(g2)': 'committing(g2) [submit g2]',
    'replied ok(g1, staged)': '=scheduled []',
    'replied ok(g1, nothing)': '=scheduled []',
    'replied failed(g1)': '=scheduled []',
    'replied ok(g0)': '=scheduled []',
    retryDue: '=scheduled []',
    restartDue: '=scheduled []',
    'writerRestarted(staged)': 'idle [send]',
    'writerRestarted(nothing)': 'idle []',
    writerFailed: 'writerDown(null) []',
    close: 'closed []',
    paced: '=scheduled []',
    'paceDue(staged)': '=scheduled []',
    'paceDue(nothing)': '=scheduled []',
  },
  pacing: {
    staged: '=pacing []',
    'turnEnded(staged)': '=pacing []',
    'turnEnded(nothing)': '=pacing []',
    'flush(staged)': 'idle [send]',
    'flush(nothing)': 'idle []',
    'submitted(g2)': '=pacing []',
    'replied ok(g1, staged)': '=pacing []',
    'replied ok(g1, nothing)': '=pacing []',
    'replied failed(g1)': '=pacing []',
    'replied ok(g0)': '=pacing []',
    retryDue: '=pacing []',
    restartDue: '=pacing []',
    'writerRestarted(staged)': '=pacing []',
    'writerRestarted(nothing)': '=pacing []',
    writerFailed: 'writerDown(null) []',
    close: 'closed []',
    paced: '=pacing []',
    'paceDue(staged)': 'idle [send]',
    'paceDue(nothing)': 'idle []',
  },
  committing: {
    staged: '=committing(g1) []',
    'turnEnded(staged)': '=committing(g1) []',
    'turnEnded(nothing)': '=committing(g1) []',
    'flush(staged)': '=committing(g1) []',
    'flush(nothing)': '=committing(g1) []',
    'submitted(g2)': '=committing(g1) []',
    'replied ok(g1, staged)': 'idle [send]',
    'replied ok(g1, nothing)': 'idle []',
    'replied failed(g1)': 'retrying(g1) []',
    'replied ok(g0)': '=committing(g1) []',
    retryDue: '=committing(g1) []',
    restartDue: '=committing(g1) []',
    'writerRestarted(staged)': '=committing(g1) [submit g1]',
    'writerRestarted(nothing)': '=committing(g1) [submit g1]',
    writerFailed: 'writerDown(g1) []',
    close: 'closed []',
    paced: '=committing(g1) []',
    'paceDue(staged)': '=committing(g1) []',
    'paceDue(nothing)': '=committing(g1) []',
  },
  committingAfterFailure: {
    staged: '=committing(g1, failing) []',
    'turnEnded(staged)': '=committing(g1, failing) []',
    'turnEnded(nothing)': '=committing(g1, failing) []',
    'flush(staged)': '=committing(g1, failing) []',
    'flush(nothing)': '=committing(g1, failing) []',
    'submitted(g2)': '=committing(g1, failing) []',
    'replied ok(g1, staged)': 'idle [recovered, send]',
    'replied ok(g1, nothing)': 'idle [recovered]',
    'replied failed(g1)': 'retrying(g1) []',
    'replied ok(g0)': '=committing(g1, failing) []',
    retryDue: '=committing(g1, failing) []',
    restartDue: '=committing(g1, failing) []',
    'writerRestarted(staged)': '=committing(g1, failing) [submit g1]',
    'writerRestarted(nothing)': '=committing(g1, failing) [submit g1]',
    writerFailed: 'writerDown(g1) []',
    close: 'closed []',
    paced: '=committing(g1, failing) []',
    'paceDue(staged)': '=committing(g1, failing) []',
    'paceDue(nothing)': '=committing(g1, failing) []',
  },
  retrying: {
    staged: '=retrying(g1) []',
    'turnEnded(staged)': '=retrying(g1) []',
    'turnEnded(nothing)': '=retrying(g1) []',
    'flush(staged)': 'committing(g1, failing) [submit g1]',
    'flush(nothing)': 'committing(g1, failing) [submit g1]',
    'submitted(g2)': '=retrying(g1) []',
    'replied ok(g1, staged)': '=retrying(g1) []',
    'replied ok(g1, nothing)': '=retrying(g1) []',
    'replied failed(g1)': '=retrying(g1) []',
    'replied ok(g0)': '=retrying(g1) []',
    retryDue: 'committing(g1, failing) [submit g1]',
    restartDue: '=retrying(g1) []',
    'writerRestarted(staged)': 'committing(g1, failing) [submit g1]',
    'writerRestarted(nothing)': 'committing(g1, failing) [submit g1]',
    writerFailed: 'writerDown(g1) []',
    close: 'closed []',
    paced: '=retrying(g1) []',
    'paceDue(staged)': '=retrying(g1) []',
    'paceDue(nothing)': '=retrying(g1) []',
  },
  writerDownWithGroup: {
    staged: '=writerDown(g1) []',
    'turnEnded(staged)': '=writerDown(g1) []',
    'turnEnded(nothing)': '=writerDown(g1) []',
    'flush(staged)': '=writerDown(g1) []',
    'flush(nothing)': '=writerDown(g1) []',
    'submitted(g2)': '=writerDown(g1) []',
    'replied ok(g1, staged)': '=writerDown(g1) []',
    'replied ok(g1, nothing)': '=writerDown(g1) []',
    'replied failed(g1)': '=writerDown(g1) []',
    'replied ok(g0)': '=writerDown(g1) []',
    retryDue: '=writerDown(g1) []',
    restartDue: '=writerDown(g1) [restartWriter]',
    'writerRestarted(staged)': 'committing(g1) [submit g1]',
    'writerRestarted(nothing)': 'committing(g1) [submit g1]',
    writerFailed: 'writerDown(g1) []',
    close: 'closed []',
    paced: '=writerDown(g1) []',
    'paceDue(staged)': '=writerDown(g1) []',
    'paceDue(nothing)': '=writerDown(g1) []',
  },
  writerDown: {
    staged: '=writerDown(null) []',
    'turnEnded(staged)': '=writerDown(null) []',
    'turnEnded(nothing)': '=writerDown(null) []',
    'flush(staged)': '=writerDown(null) []',
    'flush(nothing)': '=writerDown(null) []',
    'submitted(g2)': '=writerDown(null) []',
    'replied ok(g1, staged)': '=writerDown(null) []',
    'replied ok(g1, nothing)': '=writerDown(null) []',
    'replied failed(g1)': '=writerDown(null) []',
    'replied ok(g0)': '=writerDown(null) []',
    retryDue: '=writerDown(null) []',
    restartDue: '=writerDown(null) [restartWriter]',
    'writerRestarted(staged)': 'idle [send]',
    'writerRestarted(nothing)': 'idle []',
    writerFailed: 'writerDown(null) []',
    close: 'closed []',
    paced: '=writerDown(null) []',
    'paceDue(staged)': '=writerDown(null) []',
    'paceDue(nothing)': '=writerDown(null) []',
  },
  closed: {
    staged: '=closed []',
    'turnEnded(staged)': '=closed []',
    'turnEnded(nothing)': '=closed []',
    'flush(staged)': '=closed []',
    'flush(nothing)': '=closed []',
    'submitted(g2)': '=closed []',
    'replied ok(g1, staged)': '=closed []',
    'replied ok(g1, nothing)': '=closed []',
    'replied failed(g1)': '=closed []',
    'replied ok(g0)': '=closed []',
    retryDue: '=closed []',
    restartDue: '=closed []',
    'writerRestarted(staged)': '=closed []',
    'writerRestarted(nothing)': '=closed []',
    writerFailed: '=closed []',
    close: '=closed []',
    paced: '=closed []',
    'paceDue(staged)': '=closed []',
    'paceDue(nothing)': '=closed []',
  },
};

/** Runs events from `state`, returning each state reached and the effects in order. */
function run(state: S, events: E[]): { states: S[]; effects: string[] } {
  const states: S[] = [];
  const effects: string[] = [];
  for (const event of events) {
    const t = transition(state, event);
    state = t.state;
    states.push(state);
    effects.push(...t.effects.map((e) => e.type));
  }
  return { states, effects };
}

describe('Commit state transition', () => {
  for (const [stateName, state] of Object.entries(STATES)) {
    it(`Should handle every event in state ${stateName} as specified`, () => {
      const got = Object.fromEntries(
        Object.entries(EVENTS).map(([name, event]) => [
          name,
          show(state, transition(state, event)),
        ]),
      );
      expect(got).toEqual(EXPECTED[stateName]);
    });
  }

  it('Should never mutate the state it is given', () => {
    for (const state of Object.values(STATES)) {
      const copy = structuredClone(state);
      for (const event of Object.values(EVENTS)) transition(state, event);
      expect(state).toEqual(copy);
    }
  });

  it('Should own at most one timer per state: end of turn while scheduled, the rest of the interval while pacing, the retry delay while failing', () => {
    expect(Object.fromEntries(Object.entries(STATES).map(([n, s]) => [n, timerOf(s)]))).toEqual({
      idle: null,
      scheduled: { kind: 'immediate' },
      pacing: { kind: 'delay', ms: 3 },
      committing: null,
      committingAfterFailure: null,
      retrying: { kind: 'delay', ms: RETRY_MS },
      writerDownWithGroup: { kind: 'delay', ms: RETRY_MS },
      writerDown: { kind: 'delay', ms: RETRY_MS },
      closed: null,
    });
  });

  // One test per fix the flags of the old outbox.ts needed (git log -- worker/src/outbox/outbox.ts).

  it('Should keep the retry cancellable when a failed reply arrives while writes are staged (bb97842)', () => {
    // Old code: commit() noticed the failure with its end-of-turn send pending; the retry timer took
    // the slot over that immediate, which then cleared it, and close() could not cancel the retry.
    const { states } = run(STATES.idle!, [
      { type: 'staged' },
      { type: 'turnEnded', staged: true },
      { type: 'submitted', flight: 'g1' },
      { type: 'staged' },
      { type: 'replied', flight: 'g1', ok: false, error: err },
      { type: 'staged' },
      { type: 'close' },
    ]);
    expect(states.map((s) => s.kind)).toEqual([
      'scheduled',
      'idle',
      'committing',
      'committing',
      'retrying',
      'retrying',
      'closed',
    ]);
    // Staging while a group is in flight arms nothing; the failure holds the one timer; closed none.
    expect(states.map((s) => timerOf(s)?.kind ?? null)).toEqual([
      'immediate',
      null,
      null,
      null,
      'delay',
      'delay',
      null,
    ]);
  });

  it('Should send what was staged meanwhile as soon as the group in flight is durable, without a turn (b04a952)', () => {
    const staged = transition(STATES.committing!, { type: 'staged' });
    expect(staged.state).toBe(STATES.committing);
    expect(timerOf(staged.state)).toBeNull();
    const replied = transition(staged.state, {
      type: 'replied',
      flight: 'g1',
      ok: true,
      staged: true,
    });
    expect(replied).toEqual({ state: { kind: 'idle' }, effects: [{ type: 'send' }] });
  });

  it('Should keep writes staged while no writer thread can start, refuse to flush, and send once one starts (b9ceac0)', () => {
    const down = transition(STATES.idle!, { type: 'writerFailed', error: err2 }).state;
    expect(down).toEqual({ kind: 'writerDown', flight: null, error: err2 });
    expect(transition(down, { type: 'staged' }).state).toBe(down);
    expect(transition(down, { type: 'flush', staged: true })).toEqual({ state: down, effects: [] });
    expect(transition(down, { type: 'restartDue' }).effects).toEqual([{ type: 'restartWriter' }]);
    expect(transition(down, { type: 'writerRestarted', staged: true })).toEqual({
      state: { kind: 'idle' },
      effects: [{ type: 'send' }],
    });
  });

  it('Should send the group in flight again to a replacement writer thread, and ignore replies for other groups (fcdbc93)', () => {
    expect(
      transition(STATES.committing!, { type: 'writerRestarted', staged: true }).effects,
    ).toEqual([{ type: 'submit', flight: 'g1' }]);
    const down = transition(STATES.committing!, { type: 'writerFailed', error: err2 }).state;
    expect(transition(down, { type: 'writerRestarted', staged: false })).toEqual({
      state: { kind: 'committing', flight: 'g1', failing: null },
      effects: [{ type: 'submit', flight: 'g1' }],
    });
    const stale = { type: 'replied', flight: 'g0', ok: true, staged: true } as const;
    expect(transition(STATES.committing!, stale).state).toBe(STATES.committing);
  });

  it('Should retry a group that failed on the medium, at once on flush, and report the recovery once', () => {
    const { states, effects } = run(STATES.committing!, [
      { type: 'replied', flight: 'g1', ok: false, error: err },
      { type: 'flush', staged: false },
      { type: 'replied', flight: 'g1', ok: false, error: err },
      { type: 'retryDue' },
      { type: 'replied', flight: 'g1', ok: true, staged: true },
    ]);
    expect(states.map((s) => s.kind)).toEqual([
      'retrying',
      'committing',
      'retrying',
      'committing',
      'idle',
    ]);
    expect(effects).toEqual(['submit', 'submit', 'recovered', 'send']);
  });

  it('Should hold a group that came too soon until its pacing is due, or send it at once on flush', () => {
    const replied = run(STATES.committing!, [
      { type: 'replied', flight: 'g1', ok: true, staged: true },
      { type: 'paced', dueAt: 1_005, ms: 3 },
      { type: 'staged' },
      { type: 'turnEnded', staged: true },
      { type: 'paceDue', staged: true },
    ]);
    expect(replied.states.map((s) => s.kind)).toEqual([
      'idle',
      'pacing',
      'pacing',
      'pacing',
      'idle',
    ]);
    expect(replied.effects).toEqual(['send', 'send']);
    const flushed = run(STATES.pacing!, [{ type: 'flush', staged: true }]);
    expect(flushed).toEqual({ states: [{ kind: 'idle' }], effects: ['send'] });
  });
});
