/**
 * Badge readers (issue 16): each card presentation becomes one `badge_presented` event of the
 * reader, committed to the outbox like every device event (durable, exactly once, in order).
 *
 * A reader has no session, so no state machine: what it keeps is its `seq` (per reader, monotonic,
 * continued across restarts and removals like a device's) and the last card it read, for the
 * repeat window. The seq lives in the store's snapshot row of the reader, written in the same
 * atomic commit as the event, in the shape of a removed device's tombstone: if the id is later
 * used for a device, that device continues the sequence (registry.ts).
 *
 * Repeats: a reader reports the same card again while it stays on it (an RDM6300 on every read,
 * Tasmota's PN532 on each poll that finds it). The same card on the same reader within
 * `DEDUPE_WINDOW_MS` of its previous read is the same presentation: no event. The window slides
 * with every read, so a card left on the reader stays one presentation; it is in memory only (a
 * repeat right across a worker restart makes a second event, which Odoo's attribution absorbs: a
 * member's badge on a machine they already hold changes nothing).
 */
import { type BadgeReaderConfig, validate, type WorkshopEvent } from '@workshop-iot/shared';
import type { Logger } from 'pino';
import { v7 } from 'uuid';
import { iso } from '../devices/session.context.ts';
import type { DeviceStore } from '../devices/stores.ts';
import { WorkerError } from '../errors.ts';

/** The same card on the same reader within this window (since its last read) is one presentation. */
export const DEDUPE_WINDOW_MS = 3_000;

export interface CardPresented {
  card_id: string;
  /** The reader's own time of the read (from the payload), when it has one. */
  at?: number;
}

export interface BadgeReadersOptions {
  workerUid: string;
  store: Pick<DeviceStore, 'commit' | 'loadSnapshot'>;
  log: Logger;
  /** Wall clock in ms; default Date.now. Tests pass a simulated one. */
  clock?: { now(): number };
  dedupeWindowMs?: number;
}

export interface ReaderApplyResult {
  added: string[];
  updated: string[];
  removed: string[];
}

export interface BadgeReaderStats {
  presentations: number;
  repeats: number;
}

interface ReaderState {
  config: BadgeReaderConfig;
  seq: number;
  last: { card_id: string; at: number } | null;
}

/** The reader's snapshot: a tombstone (registry.ts) carrying its seq, marked as a reader's. */
interface ReaderSnapshot {
  tombstone: true;
  deviceId: string;
  seq: number;
  badge_reader: true;
}

export class BadgeReaders {
  readonly #options: BadgeReadersOptions;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #readers = new Map<string, ReaderState>();
  readonly #stats: BadgeReaderStats = { presentations: 0, repeats: 0 };

  constructor(options: BadgeReadersOptions) {
    this.#options = options;
    const clock = options.clock ?? { now: Date.now };
    this.#now = () => clock.now();
    this.#windowMs = options.dedupeWindowMs ?? DEDUPE_WINDOW_MS;
  }

  /**
   * Replace the reader list (diff by reader_id). A reader that reads another topic or payload than
   * before forgets its last card; a new machine pairing applies from the next presentation.
   */
  apply(readers: readonly BadgeReaderConfig[]): ReaderApplyResult {
    const result: ReaderApplyResult = { added: [], updated: [], removed: [] };
    const wanted = new Set(readers.map((r) => r.reader_id));
    for (const id of this.#readers.keys()) {
      if (wanted.has(id)) continue;
      // Nothing to write: the stored snapshot already holds the seq a re-added reader continues.
      this.#readers.delete(id);
      result.removed.push(id);
    }
    for (const config of readers) {
      const state = this.#readers.get(config.reader_id);
      if (!state) {
        const seq = storedSeq(this.#options.store.loadSnapshot(config.reader_id));
        this.#readers.set(config.reader_id, { config, seq, last: null });
        result.added.push(config.reader_id);
      } else if (JSON.stringify(state.config) !== JSON.stringify(config)) {
        if (readsDifferently(state.config, config)) state.last = null;
        state.config = config;
        result.updated.push(config.reader_id);
      }
    }
    return result;
  }

  /**
   * A card read on a reader. Returns the committed event, or null for a repeat within the window
   * (or an unknown reader). Throws only when the store refuses the commit (nothing is then counted:
   * the next read of the card is a presentation again).
   */
  present(readerId: string, card: CardPresented): WorkshopEvent | null {
    const state = this.#readers.get(readerId);
    if (!state) return null;
    const now = this.#now();
    // The reader's own time, never in the future (a reader clock running ahead).
    const at = card.at === undefined ? now : Math.min(card.at, now);
    const last = state.last;
    if (last && last.card_id === card.card_id && Math.abs(at - last.at) < this.#windowMs) {
      last.at = Math.max(last.at, at);
      this.#stats.repeats++;
      return null;
    }
    const seq = state.seq + 1;
    const event = this.#build(state.config, seq, at, card.card_id);
    const snapshot: ReaderSnapshot = {
      tombstone: true,
      deviceId: readerId,
      seq,
      badge_reader: true,
    };
    this.#options.store.commit(readerId, [event], snapshot);
    state.seq = seq;
    state.last = { card_id: card.card_id, at };
    this.#stats.presentations++;
    this.#options.log.info(
      { reader_id: readerId, machine_device_id: state.config.machine_device_id, seq },
      'Badge presented',
    );
    return event;
  }

  get size(): number {
    return this.#readers.size;
  }

  stats(): BadgeReaderStats {
    return { ...this.#stats };
  }

  #build(config: BadgeReaderConfig, seq: number, at: number, cardId: string): WorkshopEvent {
    const event = {
      event_uid: v7(),
      type: 'badge_presented',
      device_id: config.reader_id,
      worker_uid: this.#options.workerUid,
      seq,
      occurred_at: iso(at),
      payload: { card_id: cardId, machine_device_id: config.machine_device_id },
    } as WorkshopEvent;
    const errors = validate('event', event);
    if (errors.length > 0) {
      const about = { type: event.type, device_id: config.reader_id };
      throw new WorkerError('EVENT_INVALID', about, { ...about, errors });
    }
    return event;
  }
}

/** The seq a reader continues: its own snapshot's, or a removed device's tombstone under that id. */
function storedSeq(snapshot: unknown): number {
  const seq = (snapshot as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
}

function readsDifferently(a: BadgeReaderConfig, b: BadgeReaderConfig): boolean {
  return (
    a.parser_type !== b.parser_type ||
    a.topic !== b.topic ||
    a.tasmota_full_topic !== b.tasmota_full_topic ||
    a.card_path !== b.card_path
  );
}
