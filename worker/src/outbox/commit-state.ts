/**
 * The group commit's state (see docs/architecture.md, "Outbox: group commit states"): one tagged
 * union, changed only by `transition()`, a pure function that returns the next state and the effects
 * to run. `group-commit.ts` runs the effects and owns the timers, which follow from the state alone
 * (`timerOf`): each state has at most one timer, so no timer can outlive the state that armed it.
 *
 *   idle --staged--> scheduled --turnEnded--> (send) --submitted--> committing
 *   committing --replied ok--> idle (+ send when more is staged)
 *   idle --paced--> pacing --paceDue | flush--> idle (+ send): the send came too soon after the
 *     previous group left (`groupIntervalMs`, group-commit.ts), so the group waits a few ms more
 *   committing --replied failed--> retrying --retryDue | flush--> committing (same group again)
 *   any open state --writerFailed--> writerDown --restartDue--> (restart the thread)
 *   writerDown / committing / retrying --writerRestarted--> committing (the group again) or idle
 *   any --close--> closed
 *
 * `F` is the group in flight (group-commit.ts: the writes, their batch and snapshots).
 */

export type CommitState<F> =
  /** Nothing in flight and no send pending (nothing staged, or a flush is about to send it). */
  | { kind: 'idle' }
  /** Writes are staged; they leave at the end of this event-loop turn. */
  | { kind: 'scheduled' }
  /**
   * Writes are staged, but the previous group left less than the minimum interval ago: they leave
   * at `dueAt` (a timer `ms` after entering, or the first `stage()` that sees the time is up), or
   * at once on a flush. Fewer, larger transactions under load (see group-commit.ts).
   */
  | { kind: 'pacing'; dueAt: number; ms: number }
  /** `flight` is with the writer thread, unanswered. `failing`: the previous attempt's failure. */
  | { kind: 'committing'; flight: F; failing: Error | null }
  /** `flight` failed on the medium (disk full, locked); it is sent again after a delay. */
  | { kind: 'retrying'; flight: F; error: Error }
  /** No writer thread runs (a replacement failed to start); writes wait staged; a timer retries. */
  | { kind: 'writerDown'; flight: F | null; error: Error }
  | { kind: 'closed' };

export type CommitEvent<F> =
  /** A write was staged (`commit()`, `deleteSnapshot()`). */
  | { type: 'staged' }
  /** The end-of-turn send is due; `staged`: whether anything is staged. */
  | { type: 'turnEnded'; staged: boolean }
  /** `flush()` wants everything staged on its way now. */
  | { type: 'flush'; staged: boolean }
  /** The driver's send came too soon after the previous group: the staged writes wait until `dueAt`. */
  | { type: 'paced'; dueAt: number; ms: number }
  /** The pacing delay is over; `staged`: whether anything is staged. */
  | { type: 'paceDue'; staged: boolean }
  /** The driver took the next group from the staged writes (effect `send`). */
  | { type: 'submitted'; flight: F }
  /** The thread answered for `flight`: committed (ok), or failed on the medium with `error`. */
  | { type: 'replied'; flight: F; ok: true; staged: boolean }
  | { type: 'replied'; flight: F; ok: false; error: Error }
  | { type: 'retryDue' }
  | { type: 'restartDue' }
  /** A new writer thread runs (the old one died, or a restart after `writerDown` worked). */
  | { type: 'writerRestarted'; staged: boolean }
  | { type: 'writerFailed'; error: Error }
  | { type: 'close' };

export type CommitEffect<F> =
  /** Take the next group from the staged writes and dispatch `submitted` with it. */
  | { type: 'send' }
  /** Submit `flight` (again) to the current thread. */
  | { type: 'submit'; flight: F }
  /** Replace the writer thread, then dispatch `writerRestarted` or `writerFailed`. */
  | { type: 'restartWriter' }
  /** A commit worked after failures (log it). */
  | { type: 'recovered' };

export interface Transition<F> {
  state: CommitState<F>;
  effects: CommitEffect<F>[];
}

/** The retry delay of a failed commit, and of a writer thread that could not start. */
export const RETRY_MS = 1000;

/** The one timer a state owns: end of turn (setImmediate), or a delay (pacing, retry). */
export function timerOf<F>(
  state: CommitState<F>,
): { kind: 'immediate' } | { kind: 'delay'; ms: number } | null {
  switch (state.kind) {
    case 'scheduled':
      return { kind: 'immediate' };
    case 'pacing':
      return { kind: 'delay', ms: state.ms };
    case 'retrying':
    case 'writerDown':
      return { kind: 'delay', ms: RETRY_MS };
    default:
      return null;
  }
}

const stay = <F>(state: CommitState<F>): Transition<F> => ({ state, effects: [] });
const sendIf = <F>(staged: boolean): CommitEffect<F>[] => (staged ? [{ type: 'send' }] : []);

/** The next state and the effects to run; never throws, never mutates `state`. */
export function transition<F>(state: CommitState<F>, event: CommitEvent<F>): Transition<F> {
  if (state.kind === 'closed') return stay(state);
  if (event.type === 'close') return { state: { kind: 'closed' }, effects: [] };
  if (event.type === 'writerFailed') {
    const flight = 'flight' in state ? state.flight : null;
    return { state: { kind: 'writerDown', flight, error: event.error }, effects: [] };
  }
  switch (state.kind) {
    case 'idle':
    case 'scheduled':
      return fromIdle<F>(state, event);
    case 'pacing':
      return fromPacing<F>(state, event);
    case 'committing':
      return fromCommitting<F>(state, event);
    case 'retrying':
      return fromRetrying<F>(state, event);
    case 'writerDown':
      return fromWriterDown<F>(state, event);
  }
}

function fromIdle<F>(
  state: CommitState<F> & { kind: 'idle' | 'scheduled' },
  event: CommitEvent<F>,
): Transition<F> {
  switch (event.type) {
    case 'staged':
      return state.kind === 'idle' ? { state: { kind: 'scheduled' }, effects: [] } : stay(state);
    case 'turnEnded':
    case 'flush':
    case 'writerRestarted':
      return { state: { kind: 'idle' }, effects: sendIf(event.staged) };
    case 'submitted':
      return {
        state: { kind: 'committing', flight: event.flight, failing: null },
        effects: [{ type: 'submit', flight: event.flight }],
      };
    case 'paced':
      return state.kind === 'idle'
        ? { state: { kind: 'pacing', dueAt: event.dueAt, ms: event.ms }, effects: [] }
        : stay(state);
    default:
      return stay<F>(state);
  }
}

function fromPacing<F>(
  state: CommitState<F> & { kind: 'pacing' },
  event: CommitEvent<F>,
): Transition<F> {
  switch (event.type) {
    case 'paceDue':
    case 'flush':
      return { state: { kind: 'idle' }, effects: sendIf(event.staged) };
    default:
      // Staged writes join the waiting group; nothing is in flight to reply or restart.
      return stay<F>(state);
  }
}

function fromCommitting<F>(
  state: CommitState<F> & { kind: 'committing' },
  event: CommitEvent<F>,
): Transition<F> {
  switch (event.type) {
    case 'replied': {
      // A reply for another group (a thread replaced meanwhile) changes nothing.
      if (event.flight !== state.flight) return stay(state);
      if (!event.ok) {
        return {
          state: { kind: 'retrying', flight: state.flight, error: event.error },
          effects: [],
        };
      }
      // What was staged while this group was on disk goes next, at once (no turn needed).
      const effects: CommitEffect<F>[] = state.failing ? [{ type: 'recovered' }] : [];
      return { state: { kind: 'idle' }, effects: [...effects, ...sendIf<F>(event.staged)] };
    }
    case 'writerRestarted':
      // The old thread may have committed it before dying: inserts are OR IGNORE, so resending is safe.
      return { state, effects: [{ type: 'submit', flight: state.flight }] };
    default:
      // Staged writes wait for the reply, which sends them; a flush waits for it too.
      return stay(state);
  }
}

function fromRetrying<F>(
  state: CommitState<F> & { kind: 'retrying' },
  event: CommitEvent<F>,
): Transition<F> {
  switch (event.type) {
    case 'retryDue':
    case 'flush':
    case 'writerRestarted':
      return {
        state: { kind: 'committing', flight: state.flight, failing: state.error },
        effects: [{ type: 'submit', flight: state.flight }],
      };
    default:
      return stay<F>(state);
  }
}

function fromWriterDown<F>(
  state: CommitState<F> & { kind: 'writerDown' },
  event: CommitEvent<F>,
): Transition<F> {
  switch (event.type) {
    case 'restartDue':
      return { state, effects: [{ type: 'restartWriter' }] };
    case 'writerRestarted':
      if (state.flight === null)
        return { state: { kind: 'idle' }, effects: sendIf<F>(event.staged) };
      return {
        state: { kind: 'committing', flight: state.flight as F, failing: null },
        effects: [{ type: 'submit', flight: state.flight as F }],
      };
    default:
      return stay<F>(state);
  }
}
