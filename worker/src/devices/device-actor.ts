/**
 * One device: its session-machine actor plus the effects around it. Stamps nothing itself (the
 * registry passes timestamped events); turns emitted drafts into validated events and commits them
 * with the persisted snapshot; publishes live state; runs polls; keeps the fast lane's shadow.
 *
 * Persistence (hot path aware): a snapshot is committed when events were emitted, when the context
 * changed in a way that must survive a restart (`rev`), when the state label changed, or when the
 * last-seen time moved by more than LAST_SEEN_PERSIST_MS. A plain reading that changes nothing else
 * costs no write: after a crash, energy is re-derived from the persisted meter counter (the next
 * reading's delta covers the gap) and power is re-read from the next message. `stop()` always
 * writes the latest snapshot, so a graceful restart resumes exactly.
 */
import type {
  DeviceConfig,
  DeviceLiveState,
  DeviceState,
  WorkshopEvent,
} from '@workshop-iot/shared';
import type { Logger } from 'pino';
import { type Actor, type ActorOptions, createActor, type SnapshotFrom } from 'xstate';
import { ActorTimers } from './actor-timers.ts';
import { nextStep } from './catch-up.ts';
import {
  compactParked,
  type DirectStep,
  directAlive,
  directReading,
  directTimer,
} from './direct-step.ts';
import { buildEvent } from './event-builder.ts';
import { bookReading, type Lane, laneOf, shadowOf, syncOf } from './fast-lane.ts';
import { IsoMemo, liveStateOf, powerChanged, stateLabel } from './live-state.ts';
import { ReportInterval } from './report-interval.ts';
import type { DeviceContext, DeviceEvent, EventDraft, ReadingEvent } from './session.context.ts';
import { type SessionMachine, sessionMachine } from './session.machine.ts';
import { sync } from './session.steps.ts';
import { persistedJson, SerializedSnapshot } from './snapshot-json.ts';
import type { DeviceStore } from './stores.ts';
import type { LiveStateListener } from './types.ts';

/**
 * Parking: after this many readings in a row booked on the fast lane (no macrostep in between), the
 * device keeps its snapshot and lets its XState actor go (see `#park`). One: a parked device takes
 * its common state changes as direct steps (direct-step.ts), so a device woken by a rarer step
 * (a poll, a config change, coming back online) goes back to sleep at its next plain reading.
 */
export const PARK_AFTER_LANE_READINGS = 1;

/** Upper bound on how stale a persisted last-seen time may be after a crash. */
const LAST_SEEN_PERSIST_MS = 60_000;
const persistLastSeenEvery = (ctx: DeviceContext) =>
  Math.min(LAST_SEEN_PERSIST_MS, ctx.config.message_timeout_s * 500);

/** xstate's timer interface (`setTimeout`/`clearTimeout`), e.g. its SimulatedClock. */
export type Clock = NonNullable<ActorOptions<SessionMachine>['clock']>;

export type Snapshot = SnapshotFrom<SessionMachine>;
export type RestoredSnapshot = Snapshot & { context: DeviceContext };

/** What every device shares (owned by the registry). */
export interface DeviceEnv {
  workerUid: string;
  store: DeviceStore;
  xstateClock: Clock;
  fastLane: boolean;
  log: Logger;
  onLiveState: LiveStateListener | undefined;
  onPoll: ((deviceId: string) => unknown) | undefined;
  now(): number;
  /** Park steady devices' actors (`#park`); default on. Needs the fast lane. */
  park?: boolean;
  /** Hot state changes of a parked device without XState (direct-step.ts); default on. */
  directSteps?: boolean;
}

export class DeviceActor {
  readonly deviceId: string;
  config: DeviceConfig;
  readonly #env: DeviceEnv;
  /** The XState actor; null while parked (`#parked` holds its snapshot, `#timers` its timers). */
  #actor: Actor<SessionMachine> | null = null;
  #parked: Snapshot | null = null;
  readonly #timers: ActorTimers;
  /** Readings booked on the fast lane since the last macrostep. */
  #laneRun = 0;
  #drafts: EventDraft[] = [];
  #polls = 0;
  /** Built events whose commit failed; retried first on the next commit. */
  #pending: WorkshopEvent[] = [];
  #savedRev: number;
  #savedLastMessageAt: number | null;
  #savedContext: DeviceContext | null;
  #label: DeviceState = 'unknown';
  #power: number | null = null;
  #sessionId: string | null = null;
  #changedAt: number;
  /** An error raised while settling a send, rethrown to the sender. */
  #error: unknown;
  /** Where the fast lane is open (null: closed), and the context it has booked ahead of the actor. */
  #lane: Lane | null = null;
  #shadow: DeviceContext | null = null;
  #persistLastSeenMs = 0;
  /** Held (catch-up.ts): waiting at its snapshot's time for the backlog; no timer is armed. */
  #held: boolean;
  readonly #iso = new IsoMemo();
  /** The meter's usual interval between messages, learnt in memory (relearnt after a restart). */
  readonly #interval = new ReportInterval();

  constructor(
    env: DeviceEnv,
    config: DeviceConfig,
    restored: RestoredSnapshot | null,
    at: number,
    startSeq = 0,
    held = false,
  ) {
    this.#env = env;
    this.#held = held;
    this.deviceId = config.device_id;
    this.config = config;
    this.#changedAt = at;
    this.#savedRev = restored ? restored.context.rev : -1;
    this.#savedLastMessageAt = restored ? restored.context.lastMessageAt : null;
    this.#savedContext = restored ? restored.context : null;
    // Every timer of this actor first wakes it (parked) and hands it the fast lane's bookkeeping. A
    // held device arms none: its logical time lags the wall clock; `release` re-arms them all.
    this.#timers = new ActorTimers(env.xstateClock, this);
    const input = {
      deviceId: config.device_id,
      workerUid: env.workerUid,
      config: config.session_config,
      at,
      seq: startSeq,
    };
    // With a snapshot, `input` is ignored: the persisted context (seq, session, deadlines) wins.
    // `snapshot` is left out rather than set to undefined: xstate spreads options over defaults.
    const actor = createActor(sessionMachine, {
      input,
      clock: this.#timers,
      ...(restored ? { snapshot: restored } : {}),
    });
    this.#listen(actor);
    this.#observe(actor);
    this.#actor = actor;
    actor.start();
    if (restored) {
      this.send({ type: 'RESUME', at, config: config.session_config }, false);
      if (!this.failed)
        this.#log().info(
          { state: this.#label, session_id: this.#sessionId, seq: restored.context.seq },
          'Device resumed from snapshot',
        );
    }
    // A device waits parked from the start: most of a worker's machines are off or steady most of
    // the time, and a configured meter that has not reported yet needs no actor either (10,000 of
    // them held ~95 MB awake). Its first step wakes it, unless it is a direct step.
    this.#park();
  }

  /** Seq of the last event this device produced (kept across removal, see DeviceTombstone). */
  get seq(): number {
    return (this.#shadow ?? this.#snapshot().context).seq;
  }

  /** The device's logical time (ms): inputs are never dated before it. */
  get now(): number {
    return (this.#shadow ?? this.#snapshot().context).now;
  }

  /** Waiting at its snapshot's time for the broker's backlog (catch-up.ts). */
  get held(): boolean {
    return this.#held;
  }

  /** Held: the deadlines due up to `at` decide, in order, as their timers would have (catch-up.ts). */
  catchUpTo(at: number, rethrow = true): void {
    this.#sync();
    for (let t = nextStep(this.#snapshot(), at); t !== null && !this.failed; ) {
      this.#dispatch({ type: 'ADVANCE', at: t }, rethrow);
      t = nextStep(this.#snapshot(), at);
    }
  }

  /** Ends the hold at `at` (now): catches up, then re-arms every timer on the wall clock. */
  release(at: number): void {
    if (!this.#held) return;
    this.catchUpTo(at, false);
    this.#held = false;
    this.send({ type: 'RESUME', at, config: this.config.session_config }, false);
  }

  /**
   * One of its actor's timers is due (called by its ActorTimers): wakes the actor when parked, hands
   * it the fast lane's bookkeeping, then runs XState's callback.
   */
  timerDue(run: () => void, timerId: string | null = null): void {
    const parked = this.#actor === null;
    if (parked && timerId !== null && this.#env.directSteps !== false) {
      const direct = directTimer(this.#parked!, timerId, this.#parkedContext());
      if (direct) {
        run(); // forgets the fired slot (no XState callback while parked)
        this.#applyDirect(direct, false);
        return;
      }
    }
    this.#wake();
    this.#sync();
    run();
    // Woken by its own timer (a heartbeat, a silence check): back to sleep once the step settled.
    if (parked) this.#park();
  }

  /** True when the actor died (an action threw: a bug); the registry then revives it. */
  get failed(): boolean {
    return this.#snapshot().status === 'error';
  }

  /** Readings the fast lane booked without an XState macrostep (tests prove it was exercised). */
  fastLaneReadings = 0;

  /** Times the actor was parked (tests prove it was exercised). */
  parkings = 0;

  /** True while parked: only the snapshot is held, no XState actor. */
  get parked(): boolean {
    return this.#actor === null;
  }

  /** Sends an event (after syncing the fast lane); rethrows an error its settling raised. */
  send(event: DeviceEvent, rethrow = true): void {
    if (
      this.#actor === null &&
      this.#env.directSteps !== false &&
      (event.type === 'ALIVE' || event.type === 'AVAILABILITY')
    ) {
      const direct = directAlive(this.#parked!, event, this.#parkedContext());
      if (direct) {
        this.#applyDirect(direct, rethrow);
        return;
      }
    }
    this.#sync();
    this.#dispatch(event, rethrow);
  }

  /**
   * A reading: booked on the fast lane when the machine would only book it, else sent. A reading
   * the lane refuses carries the lane's bookkeeping along (`sync`) rather than being preceded by a
   * SYNC macrostep of its own: this is most of what the machine does on the hot path.
   */
  reading(event: ReadingEvent): void {
    if (this.#tryFastLane(event)) {
      this.fastLaneReadings++;
      if (++this.#laneRun >= PARK_AFTER_LANE_READINGS) this.#park();
      return;
    }
    const shadow = this.#shadow;
    if (shadow) {
      this.#shadow = null;
      event.sync = syncOf(shadow);
    }
    if (this.#actor === null && this.#env.directSteps !== false) {
      const direct = directReading(this.#parked!, event);
      if (direct) {
        this.#applyDirect(direct, true);
        return;
      }
    }
    this.#dispatch(event, true);
  }

  /**
   * The parked snapshot's context with the fast lane's bookkeeping taken over, as the SYNC that
   * precedes a timer or a sign of life would (it never moves the machine); unchanged without any.
   */
  #parkedContext(): DeviceContext {
    const shadow = this.#shadow;
    const context = this.#parked!.context;
    return shadow ? sync(context, syncOf(shadow)) : context;
  }

  /** State changes done by a direct step (direct-step.ts) instead of an XState macrostep. */
  directSteps = 0;

  /**
   * A parked device takes a direct step: its timers as the macrostep would have left them, the new
   * snapshot, then what follows every macrostep (persist, live state, lane). It stays parked. An
   * error settling raised is rethrown (an input), or kept for the next send as after a timer.
   */
  #applyDirect(direct: DirectStep, rethrow: boolean): void {
    // The step started from the lane's bookkeeping (`#parkedContext`, or the reading's own `sync`).
    this.#shadow = null;
    for (const id of direct.cancel) this.#timers.cancelParked(id);
    for (const t of direct.arm) this.#timers.armParked(t.id, t.delay);
    this.#parked = direct.snapshot;
    this.#drafts.push(...direct.drafts);
    this.directSteps++;
    this.#settle(direct.snapshot);
    if (rethrow && this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      throw err;
    }
  }

  #dispatch(event: DeviceEvent, rethrow: boolean): void {
    this.#live().send(event);
    if (this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      if (rethrow) throw err;
    }
  }

  liveState(now: number): DeviceLiveState {
    const context = this.#shadow ?? this.#snapshot().context;
    return this.#liveStateOf(context, now);
  }

  /** A live message from the meter arrived at `at` (wall clock): feeds its usual interval. */
  heard(at: number): void {
    this.#interval.observe(at, this.config.session_config.message_timeout_s);
  }

  /** The next gap would span time nobody listened (broker outage, replayed backlog). */
  notListening(): void {
    this.#interval.restart();
  }

  #liveStateOf(context: DeviceContext, now: number): DeviceLiveState {
    const timeoutS = context.config.message_timeout_s;
    const expected = this.#interval.estimateS(timeoutS, this.#env.now());
    return liveStateOf(context, this.#label, this.#changedAt, now, this.#iso, expected);
  }

  /** Writes the latest snapshot if anything changed since the last commit, then stops the actor. */
  stop(): void {
    this.#sync();
    const snapshot = this.#snapshot();
    if (
      snapshot.status === 'active' &&
      (snapshot.context !== this.#savedContext ||
        this.#drafts.length > 0 ||
        this.#pending.length > 0)
    ) {
      try {
        this.#persist(snapshot);
      } catch (err) {
        this.#log().error({ err }, 'Final device snapshot failed');
      }
    }
    if (this.#actor) this.#actor.stop();
    else this.#timers.cancelAll();
  }

  // --- parking -------------------------------------------------------------------------------------

  /** The current snapshot, awake or parked. */
  #snapshot(): Snapshot {
    return this.#actor ? this.#actor.getSnapshot() : this.#parked!;
  }

  /** The actor, woken first when parked. */
  #live(): Actor<SessionMachine> {
    return this.#actor ?? this.#wake();
  }

  #listen(actor: Actor<SessionMachine>): void {
    actor.on('*', (emitted) => {
      if (emitted.type === 'draft') this.#drafts.push(emitted.draft);
      else this.#polls++;
    });
  }

  #observe(actor: Actor<SessionMachine>): void {
    actor.subscribe({
      next: (snapshot) => this.#settle(snapshot),
      error: (err) => this.#log().error({ err }, 'Device actor failed'),
    });
  }

  /**
   * A steady device (its readings on the fast lane, nothing pending) keeps only its snapshot: the
   * XState actor with its system, mailbox and closures is most of a device's memory (10,000 devices
   * on a small board). Its timers stay armed on the registry's clock (actor-timers.ts). Nothing
   * else changes: the snapshot is the actor's own, and `#wake` restores it unchanged.
   */
  #park(): void {
    const actor = this.#actor;
    const env = this.#env;
    if (!actor || this.#held || env.park === false || !env.fastLane || this.#drafts.length > 0)
      return;
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active') return;
    if (!this.#timers.detach(actor)) return;
    this.#actor = null;
    this.#parked = compactParked(snapshot);
    this.parkings++;
  }

  /**
   * The parked device's actor again, restored from its snapshot (same context object, same state),
   * its timers handed back to it. Subscribed after `start()`: a restored actor announces its
   * snapshot on start, which is not a step.
   */
  #wake(): Actor<SessionMachine> {
    if (this.#actor) return this.#actor;
    const snapshot = this.#parked!;
    const c = snapshot.context;
    // `input` is ignored with a snapshot (typed as required).
    const input = { deviceId: c.deviceId, workerUid: c.workerUid, config: c.config, at: c.now };
    const actor = createActor(wakeMachine, { input, clock: this.#timers, snapshot });
    this.#listen(actor);
    actor.start();
    this.#timers.adopt(actor);
    this.#observe(actor);
    this.#actor = actor;
    this.#parked = null;
    return actor;
  }

  // --- fast lane -----------------------------------------------------------------------------------

  #tryFastLane(event: ReadingEvent): boolean {
    const lane = this.#lane;
    if (!lane) return false;
    // The machine path persists the last-seen time now and then; let it.
    if (
      this.#savedLastMessageAt === null ||
      event.at - this.#savedLastMessageAt >= this.#persistLastSeenMs
    ) {
      return false;
    }
    let shadow = this.#shadow;
    if (!shadow) {
      const copy = shadowOf(this.#snapshot().context);
      if (!bookReading(lane, copy, event)) return false;
      this.#shadow = shadow = copy;
    } else if (!bookReading(lane, shadow, event)) {
      return false;
    }
    if (powerChanged(this.#power, shadow.power_w)) {
      this.#power = shadow.power_w;
      this.#env.onLiveState?.(this.#liveStateOf(shadow, event.at));
    }
    return true;
  }

  /** Hands the fast lane's bookkeeping to the actor; runs before anything else reaches it. */
  #sync(): void {
    const shadow = this.#shadow;
    if (!shadow) return;
    this.#shadow = null;
    this.#live().send(syncOf(shadow));
  }

  // --- after every macrostep -------------------------------------------------------------------------

  /**
   * After every macrostep (inputs and timers alike): persist what must survive, publish live state,
   * reopen the fast lane, run poll effects. Never throws (XState would rethrow it from a timer):
   * errors are logged and kept for `send()` to rethrow.
   */
  #settle(snapshot: Snapshot): void {
    const ctx = snapshot.context;
    const label = stateLabel(snapshot);
    this.#laneRun = 0;
    try {
      const lastSeenMoved =
        ctx.lastMessageAt !== null &&
        (this.#savedLastMessageAt === null ||
          ctx.lastMessageAt - this.#savedLastMessageAt >= persistLastSeenEvery(ctx));
      if (
        this.#drafts.length > 0 ||
        this.#pending.length > 0 ||
        ctx.rev !== this.#savedRev ||
        label !== this.#label ||
        lastSeenMoved
      ) {
        this.#persist(snapshot);
      }
    } catch (err) {
      this.#error ??= err;
    }
    try {
      const sessionId = ctx.session?.id ?? null;
      if (
        label !== this.#label ||
        sessionId !== this.#sessionId ||
        powerChanged(this.#power, ctx.power_w)
      ) {
        if (label !== this.#label) this.#changedAt = ctx.now;
        this.#label = label;
        this.#power = ctx.power_w;
        this.#sessionId = sessionId;
        this.#env.onLiveState?.(this.#liveStateOf(ctx, ctx.now));
      }
    } catch (err) {
      this.#log().error({ err }, 'Live state listener failed');
    }
    this.#lane = this.#env.fastLane ? laneOf(snapshot) : null;
    this.#persistLastSeenMs = persistLastSeenEvery(ctx);
    if (this.#polls > 0) {
      this.#polls = 0;
      this.#poll();
    }
  }

  #persist(snapshot: Snapshot): void {
    const ctx = snapshot.context;
    const drafts = this.#drafts;
    this.#drafts = [];
    const events = this.#pending;
    let invalid: unknown;
    for (const draft of drafts) {
      try {
        const source = { deviceId: this.deviceId, workerUid: this.#env.workerUid };
        events.push(buildEvent(draft, source, ctx.lastMessageAt));
      } catch (err) {
        // A bug, never handed on: Odoo sees the seq gap and flags the session for review.
        invalid ??= err;
        this.#log().error({ err, draft }, 'Dropping an invalid event');
      }
    }
    try {
      const json = persistedJson(snapshot, () => persistedOf(snapshot));
      this.#env.store.commit(this.deviceId, events, new SerializedSnapshot(json));
      this.#pending = [];
      this.#savedRev = ctx.rev;
      this.#savedLastMessageAt = ctx.lastMessageAt;
      this.#savedContext = ctx;
    } catch (err) {
      this.#pending = events;
      this.#log().error(
        { err, pending: events.length },
        'Committing device events failed; retrying with the next step',
      );
    }
    if (invalid !== undefined) throw invalid;
  }

  #poll(): void {
    const onPoll = this.#env.onPoll;
    let pollable = onPoll !== undefined;
    try {
      if (onPoll) pollable = onPoll(this.deviceId) !== false;
    } catch (err) {
      // Treated as sent: no answer will come, and the poll timeout takes the device offline.
      this.#log().warn({ err }, 'Polling the device failed');
    }
    if (!pollable) this.#live().send({ type: 'POLL_UNAVAILABLE', at: this.#env.now() });
  }

  #log(): Logger {
    return this.#env.log.child({ device_id: this.deviceId });
  }
}

/**
 * The session machine, but a parked snapshot is taken back as it is. XState's `restoreSnapshot`
 * rebuilds the snapshot's list of active state nodes from its value, in another order than the
 * entries made it, and that order decides which of the parallel regions' eventless transitions
 * runs first (a poll before or after a heartbeat due in the same step: a different heartbeat). A
 * parked snapshot is a live one (no child actors, no history), so nothing needs reviving.
 */
const wakeMachine: SessionMachine = Object.create(sessionMachine, {
  restoreSnapshot: { value: (snapshot: Snapshot) => snapshot },
});

/**
 * What `actor.getPersistedSnapshot()` returns for this machine, built directly: the generic one
 * destructures the whole snapshot and walks the context looking for actor refs, a few µs on every
 * commit. The session machine has no child actors, no history states and no refs in its context,
 * so its persisted form is the snapshot's own value and context (same objects, same key order).
 * device-actor.test.ts holds the two equal.
 */
export function persistedOf(snapshot: Snapshot) {
  return {
    status: snapshot.status,
    output: snapshot.output,
    error: snapshot.error,
    value: snapshot.value,
    historyValue: {},
    context: snapshot.context,
    children: {},
  };
}
