/**
 * The timers of one device's XState actor, armed on the registry's clock through slots the device
 * owns, so they outlive the actor when it is parked (device-actor.ts, "Parking"). XState arms a
 * delayed event (`after`) by `system.scheduler.schedule(…)`, which calls the clock's `setTimeout`
 * and records the event in `system.getSnapshot()._scheduledEvents`; it cancels by `clearTimeout`.
 *
 * - `detach(actor)` (park): records, for every armed slot, the scheduled event XState keeps for it
 *   (same order: both are insertion-ordered and change together), stops the actor without
 *   cancelling anything, and leaves the slots armed on the base clock with their original instants.
 * - `adopt(actor)` (wake): hands each slot back to the new actor's scheduler under the same event
 *   and id; the slot stays armed (no new base timer), so the delayed event fires at the instant it
 *   was armed for and a state exit still cancels it by id.
 *
 * So a parked device's timers fire exactly as the live actor's would (same instant, same order on
 * a SimulatedClock), and the XState actor, its system and its closures exist only while awake.
 */
import type { AnyActorRef, EventObject } from 'xstate';
import type { Clock } from './device-actor.ts';

/** The id of a timer not armed because the device is held (catch-up.ts). */
export const HELD_TIMER = Symbol('held');

interface Slot {
  handle: unknown;
  ms: number;
  /** XState's callback while an actor owns the slot; null while parked. */
  fn: (() => void) | null;
  /** The delayed event XState had scheduled, kept while parked. */
  scheduled: { event: EventObject; id: string; delay: number } | null;
}

/** What the timers need from their device (DeviceActor). */
export interface TimerOwner {
  /** Held (catch-up.ts): arm nothing; its logical time lags the clock, RESUME re-arms. */
  readonly held: boolean;
  /**
   * A slot's instant came: wake the actor if parked, sync the fast lane, then `run` (XState's).
   * `timerId`: XState's id of the delayed event while parked (a direct step may take it), else null.
   */
  timerDue(run: () => void, timerId: string | null): void;
}

/**
 * The Clock given to the device's XState actor. Methods, not arrow fields: a per-instance arrow
 * costs ~300 bytes (closure plus its own `name`), times 10,000 devices.
 */
export class ActorTimers implements Clock {
  readonly #base: Clock;
  readonly #owner: TimerOwner;
  readonly #armed = new Set<Slot>();
  #adopting: Slot | null = null;
  #detaching = false;

  constructor(base: Clock, owner: TimerOwner) {
    this.#base = base;
    this.#owner = owner;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const adopting = this.#adopting;
    if (adopting) {
      this.#adopting = null;
      adopting.fn = fn;
      return adopting;
    }
    if (this.#owner.held) return HELD_TIMER;
    const slot: Slot = { handle: undefined, ms, fn, scheduled: null };
    slot.handle = this.#base.setTimeout(() => this.#fire(slot), ms);
    this.#armed.add(slot);
    return slot;
  }

  clearTimeout(id: unknown): void {
    if (this.#detaching || id === HELD_TIMER) return;
    const slot = id as Slot;
    if (this.#armed.delete(slot)) this.#base.clearTimeout(slot.handle);
  }

  /** Timers armed now (tests). */
  get armed(): number {
    return this.#armed.size;
  }

  #fire(slot: Slot): void {
    this.#owner.timerDue(
      () => {
        this.#armed.delete(slot);
        slot.fn?.();
      },
      slot.fn === null ? (slot.scheduled?.id ?? null) : null,
    );
  }

  /**
   * Parked, a direct step (direct-step.ts) arms a timer as XState's scheduler would have: a slot
   * keyed by the same id, holding the same event for the actor that adopts it when woken.
   */
  armParked(id: string, delay: number): void {
    if (this.#owner.held) return;
    const slot: Slot = {
      handle: undefined,
      ms: delay,
      fn: null,
      scheduled: { event: { type: id }, id, delay },
    };
    slot.handle = this.#base.setTimeout(() => this.#fire(slot), delay);
    this.#armed.add(slot);
  }

  /** Parked, a direct step cancels a timer by XState's id (a no-op when none is armed). */
  cancelParked(id: string): void {
    for (const slot of this.#armed) {
      if (slot.scheduled?.id !== id) continue;
      this.#armed.delete(slot);
      this.#base.clearTimeout(slot.handle);
      return;
    }
  }

  /**
   * Parks: keeps every armed slot with the event XState scheduled for it, then stops `actor`
   * without cancelling them. Returns false (and changes nothing) when XState's record does not
   * match the slots one to one; the actor then stays awake.
   */
  detach(actor: AnyActorRef): boolean {
    const scheduled = Object.values(actor.system.getSnapshot()._scheduledEvents);
    const slots = [...this.#armed];
    if (scheduled.length !== slots.length) return false;
    for (let i = 0; i < slots.length; i++) {
      const s = scheduled[i]!;
      if (s.source !== actor || s.target !== actor || s.delay !== slots[i]!.ms) return false;
    }
    for (let i = 0; i < slots.length; i++) {
      const s = scheduled[i]!;
      const slot = slots[i]!;
      slot.fn = null;
      slot.scheduled = { event: s.event, id: s.id, delay: s.delay };
    }
    this.#detaching = true;
    try {
      actor.stop();
    } finally {
      this.#detaching = false;
    }
    return true;
  }

  /** Wakes: the new actor's scheduler takes over every armed slot, same event, same id. */
  adopt(actor: AnyActorRef): void {
    for (const slot of this.#armed) {
      const s = slot.scheduled;
      if (!s) continue;
      slot.scheduled = null;
      this.#adopting = slot;
      actor.system.scheduler.schedule(actor, actor, s.event, s.delay, s.id);
      this.#adopting = null;
    }
  }

  /** Cancels every armed slot (a parked device that stops for good). */
  cancelAll(): void {
    for (const slot of this.#armed) this.#base.clearTimeout(slot.handle);
    this.#armed.clear();
  }
}
