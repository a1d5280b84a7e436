/**
 * Group commit: `stage()` queues a write; at the end of the current event-loop turn the staged
 * writes of every device go to the writer thread (writer.ts) as ONE transaction, so one fsync covers
 * a whole burst of MQTT messages, off the event loop. One group is in flight at a time: what is
 * staged meanwhile becomes the next group as soon as the first is durable (every `stage()` checks
 * for the thread's reply itself, so a loop busy with a burst does not hold it), so commit order (the
 * outbox id order the sender reads) is staging order even when a commit has to be retried.
 *
 * Pacing (`groupIntervalMs`): under load the next group does not leave the moment the previous one
 * is durable, but at least `groupIntervalMs` after the previous one left. Each group costs the event
 * loop a fixed price whatever its size (waking the idle writer thread: measured 30-150 us on a small
 * VM, more than the rest of a group's work) and the writer thread a transaction; at 2 ms per fsync
 * that was one group per ~100 messages. A few ms more before an event is durable buys fewer,
 * larger groups; nothing counts as produced before it is durable, and a flush never waits. A quiet
 * stream is never delayed: its previous group left long ago.
 *
 * Its state is one `CommitState` (commit-state.ts), changed only through `#dispatch`; the timers
 * follow from the state. A failed commit (disk full, locked) keeps the group and retries it; a
 * writer thread that died is replaced and the group sent again; while no thread can start, writes
 * wait staged. See docs/architecture.md, "Outbox".
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import { WorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type CommitEvent, type CommitState, timerOf, transition } from './commit-state.ts';
import { WRITE_SQL } from './schema.ts';
import { type MaintenanceReply, OutboxWriter, type WriteBatch, type WriteReply } from './writer.ts';

export type Staged =
  | { kind: 'commit'; deviceId: string; events: WorkshopEvent[]; snapshot: string | null }
  | { kind: 'delete'; deviceId: string };

/** A group handed to the writer thread and not yet durable. */
export interface Flight {
  group: Staged[];
  batch: WriteBatch;
  snapshots: Map<string, string | null>;
}

export interface GroupCommitOptions {
  file: string;
  log: Logger;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
  /** false: every `stage()` is its own synchronous transaction. */
  groupCommit: boolean;
  /** A group leaves at least this long after the previous one (0: as soon as it is durable). */
  groupIntervalMs?: number;
  now: () => number;
  /** The events of the items a group made durable. */
  onDurable: (events: WorkshopEvent[]) => void;
  /** A new writer thread took over (requests of the old one are never answered). */
  onWriterReplaced?: () => void;
}

/** Staged writes per transaction at most (a burst after a stall commits in several). */
const MAX_GROUP_ITEMS = 1000;

export const writeFailed = (err: unknown) =>
  new WorkerError('OUTBOX_WRITE_FAILED', { reason: (err as Error).message }, undefined, {
    cause: err,
  });

export class GroupCommit {
  readonly #options: GroupCommitOptions;
  #state: CommitState<Flight> = { kind: 'idle' };
  #staged: Staged[] = [];
  /** Latest staged snapshot per device, so reads in the same turn see their own writes. */
  #stagedSnapshots = new Map<string, string | null>();
  #writer: OutboxWriter;
  /** The timer of the current state (`timerOf`), with its kind: each is cleared by its own function. */
  #timer:
    | { kind: 'immediate'; handle: NodeJS.Immediate }
    | { kind: 'delay'; handle: NodeJS.Timeout }
    | null = null;
  /** A group of one write that the database refused, for the `flush()` that waits for it. */
  #refusal: Error | null = null;
  /** When the last group left (options.now), for pacing. */
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(options: GroupCommitOptions) {
    this.#options = options;
    this.#writer = this.#startWriter();
  }

  get state(): CommitState<Flight>['kind'] {
    return this.#state.kind;
  }

  stage(item: Staged): void {
    if (this.#state.kind === 'closed') throw new Error('Outbox is closed');
    this.#staged.push(item);
    if (item.kind === 'delete') this.#stagedSnapshots.set(item.deviceId, null);
    else if (item.snapshot !== null) this.#stagedSnapshots.set(item.deviceId, item.snapshot);
    if (!this.#options.groupCommit) {
      this.flush();
      return;
    }
    this.#dispatch({ type: 'staged' });
    // The group in flight may be durable already: then this write goes in the next group now.
    this.#writer.poll();
    // Likewise a busy loop does not run the pacing timer: the first write after it is due sends (or
    // after the clock stepped back past the start of the wait: never wait on a wall-clock step).
    const state = this.#state;
    if (state.kind === 'pacing') {
      const now = this.#options.now();
      if (now >= state.dueAt || now < state.dueAt - state.ms)
        this.#dispatch({ type: 'paceDue', staged: true });
    }
  }

  /** The newest snapshot staged or in flight for `deviceId` (null: deleted), undefined if none. */
  pendingSnapshot(deviceId: string): string | null | undefined {
    const state = this.#state;
    const flight = 'flight' in state ? state.flight : null;
    for (const layer of [this.#stagedSnapshots, flight?.snapshots]) {
      if (layer?.has(deviceId)) return layer.get(deviceId) ?? null;
    }
    return undefined;
  }

  /** Commits are failing (disk full, I/O error, no writer thread): health reports degraded. */
  commitError(): Error | null {
    const state = this.#state;
    if (state.kind === 'committing') return state.failing;
    if (state.kind === 'retrying' || state.kind === 'writerDown') return state.error;
    return null;
  }

  /**
   * Waits (synchronously) until everything staged is durable. Throws when a commit fails on the
   * medium (the writes stay staged and are retried) or when a single write was refused.
   */
  flush(): void {
    this.#refusal = null;
    this.#dispatch({ type: 'flush', staged: this.#staged.length > 0 });
    for (;;) {
      const state = this.#state;
      if (state.kind === 'retrying' || state.kind === 'writerDown') throw writeFailed(state.error);
      if (this.#refusal) throw this.#refusal;
      if (state.kind === 'committing') {
        this.#writer.waitFor(() => this.#state !== state || this.#refusal !== null);
      } else if (state.kind === 'closed' || this.#staged.length === 0) return;
      else this.#dispatch({ type: 'flush', staged: true });
    }
  }

  /**
   * Replaces the writer thread (it died, or a test simulates that) and sends the in-flight group
   * again. Safe to repeat: inserts are OR IGNORE on event_uid and snapshots are upserts, so a group
   * the old thread may have committed before dying commits nothing twice.
   */
  restartWriter(): void {
    if (this.#state.kind === 'closed') return;
    this.#writer.terminate();
    this.#options.onWriterReplaced?.();
    try {
      this.#writer = this.#startWriter();
    } catch (err) {
      this.#options.log.error({ err }, 'Outbox writer thread cannot start; retrying');
      this.#dispatch({ type: 'writerFailed', error: err as Error });
      return;
    }
    this.#dispatch({ type: 'writerRestarted', staged: this.#staged.length > 0 });
  }

  batch(): WriteBatch {
    return this.#writer.batch();
  }

  /** One transaction in the writer thread, waited for: rare writes that callers expect done. */
  writeNow(batch: WriteBatch): number[] {
    const state = this.#state;
    if (state.kind === 'closed') throw new Error('Outbox is closed');
    if (state.kind === 'writerDown') throw writeFailed(state.error);
    const reply = this.#writer.run(batch);
    const failure = reply.ok ? reply.failed[0] : reply;
    if (failure) {
      throw writeFailed(Object.assign(new Error(failure.message), { code: failure.code }));
    }
    return reply.ok ? reply.changes : [];
  }

  /** Sends a maintenance request (outbox/reclaim.ts) unless no thread runs; false then. */
  maintain(
    request: { vacuumPages: number } | { checkpoint: true },
    onReply: (reply: MaintenanceReply) => void,
  ): boolean {
    const kind = this.#state.kind;
    if (kind === 'closed' || kind === 'writerDown') return false;
    this.#writer.maintain(request, onReply);
    return true;
  }

  /** Commits what is staged, then ends the writer thread (it checkpoints the WAL). */
  close(): void {
    if (this.#state.kind === 'closed') return;
    try {
      this.flush();
    } finally {
      this.#dispatch({ type: 'close' });
      this.#writer.close();
    }
  }

  #startWriter(): OutboxWriter {
    return new OutboxWriter(this.#options.file, {
      synchronous: this.#options.synchronous,
      busyTimeoutMs: this.#options.busyTimeoutMs,
      statements: WRITE_SQL,
      onExit: (err) => {
        this.#options.log.error(
          { err },
          'Outbox writer thread ended unexpectedly; starting a new one',
        );
        this.restartWriter();
      },
    });
  }

  /** The only place the state changes: the transition, then its timer, then its effects. */
  #dispatch(event: CommitEvent<Flight>): void {
    const previous = this.#state;
    const { state, effects } = transition(previous, event);
    this.#state = state;
    if (state !== previous) this.#armTimer(state);
    for (const effect of effects) {
      // A flush sends at once; so does the end of pacing (its wait is over).
      if (effect.type === 'send') this.#send(event.type !== 'flush' && event.type !== 'paceDue');
      else if (effect.type === 'submit') this.#submit(effect.flight);
      else if (effect.type === 'restartWriter') this.restartWriter();
      else this.#options.log.info('Outbox commits work again');
    }
  }

  #armTimer(state: CommitState<Flight>): void {
    if (this.#timer?.kind === 'immediate') clearImmediate(this.#timer.handle);
    else if (this.#timer) clearTimeout(this.#timer.handle);
    this.#timer = null;
    const timer = timerOf(state);
    if (!timer) return;
    const due = (event: () => CommitEvent<Flight>) => () => {
      this.#timer = null;
      this.#dispatch(event());
    };
    if (timer.kind === 'immediate') {
      const handle = setImmediate(
        due(() => ({ type: 'turnEnded', staged: this.#staged.length > 0 })),
      );
      this.#timer = { kind: 'immediate', handle };
      return;
    }
    const event = (): CommitEvent<Flight> => {
      if (state.kind === 'pacing') return { type: 'paceDue', staged: this.#staged.length > 0 };
      return { type: state.kind === 'writerDown' ? 'restartDue' : 'retryDue' };
    };
    this.#timer = { kind: 'delay', handle: setTimeout(due(event), timer.ms) };
  }

  /**
   * Takes at most MAX_GROUP_ITEMS staged writes (bounds the copy to the thread) as the next group;
   * `paced`: unless the previous group left less than `groupIntervalMs` ago (and no full group is
   * waiting), then the writes wait for the rest of that interval.
   */
  #send(paced: boolean): void {
    if (this.#state.kind !== 'idle' || this.#staged.length === 0) return;
    const at = this.#options.now();
    if (paced && this.#staged.length < MAX_GROUP_ITEMS && at >= this.#sentAt) {
      // `at >= #sentAt`: a clock that stepped back never makes a group wait longer than the interval.
      const dueAt = this.#sentAt + (this.#options.groupIntervalMs ?? 0);
      if (at < dueAt) {
        this.#dispatch({ type: 'paced', dueAt, ms: dueAt - at });
        return;
      }
    }
    this.#sentAt = at;
    let group = this.#staged;
    let snapshots = this.#stagedSnapshots;
    if (group.length > MAX_GROUP_ITEMS) {
      this.#staged = group.slice(MAX_GROUP_ITEMS);
      group = group.slice(0, MAX_GROUP_ITEMS);
      snapshots = snapshotsOf(group);
      this.#stagedSnapshots = snapshotsOf(this.#staged);
    } else {
      this.#staged = [];
      this.#stagedSnapshots = new Map();
    }
    const batch = this.#writer.batch();
    for (const item of group) addItem(batch, item, at);
    this.#dispatch({ type: 'submitted', flight: { group, batch, snapshots } });
  }

  #submit(flight: Flight): void {
    this.#writer.submit(flight.batch, (reply) => this.#settle(flight, reply));
  }

  #settle(flight: Flight, reply: WriteReply): void {
    if (!reply.ok) {
      // Disk full, I/O error, locked: the data is fine, the disk is not. Keep it and retry.
      const error = Object.assign(new Error(reply.message), { code: reply.code });
      this.#options.log.error(
        { err: error, staged: flight.group.length },
        'Outbox commit failed; keeping the writes staged and retrying',
      );
      this.#dispatch({ type: 'replied', flight, ok: false, error });
      return;
    }
    const refused = new Map(reply.failed.map((f) => [f.item, f]));
    for (const f of reply.failed) {
      // A write that can never commit (a bug upstream); the others of the group committed.
      this.#options.log.error(
        { err: { code: f.code, message: f.message }, device_id: flight.group[f.item]?.deviceId },
        'Outbox write refused by the database (not committed, nor its snapshot)',
      );
    }
    const only = reply.failed[0];
    if (only && flight.group.length === 1) {
      this.#refusal = writeFailed(Object.assign(new Error(only.message), { code: only.code }));
    }
    // Every event of a committed item is durable now. An insert that changed nothing (OR IGNORE)
    // found its row already there: a thread that died after committing this group, unanswered.
    const inserted: WorkshopEvent[] = [];
    flight.group.forEach((item, i) => {
      if (item.kind === 'commit' && !refused.has(i)) inserted.push(...item.events);
    });
    if (inserted.length > 0) this.#options.onDurable(inserted);
    this.#dispatch({ type: 'replied', flight, ok: true, staged: this.#staged.length > 0 });
  }
}

/** The latest snapshot (or deletion: null) per device among `items`. */
function snapshotsOf(items: Staged[]): Map<string, string | null> {
  const snapshots = new Map<string, string | null>();
  for (const item of items) {
    if (item.kind === 'delete') snapshots.set(item.deviceId, null);
    else if (item.snapshot !== null) snapshots.set(item.deviceId, item.snapshot);
  }
  return snapshots;
}

/** Adds one staged write as one item: its events, then its snapshot (`#settle` reads that order). */
function addItem(batch: WriteBatch, item: Staged, at: number): void {
  batch.item();
  if (item.kind === 'delete') {
    batch.op('deleteSnapshot', [item.deviceId]);
    return;
  }
  for (const e of item.events) {
    batch.op('insert', [item.deviceId, e.seq, e.event_uid, e.type, JSON.stringify(e), at]);
  }
  if (item.snapshot !== null) batch.op('putSnapshot', [item.deviceId, item.snapshot, at]);
}
