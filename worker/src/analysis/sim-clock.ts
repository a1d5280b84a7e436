/**
 * A simulated clock for replays: the registry's clock and the actors' timer source in one object.
 * `advanceTo(t)` fires the timers due by `t` one by one at their own instant (ties in the order they
 * were set), so a timer set by another timer's callback counts from the right time — exactly what
 * real timers do when the event loop is not blocked (a timer due at an input's instant fires first).
 *
 * The replay calls `advanceTo` once per recorded input (604,800 times for a week at 1 Hz) while an
 * actor holds two or three timers, so the earliest deadline is cached: most calls only move `now`.
 */
export class SimClock {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, { end: number; fn: () => void }>();
  /** Earliest end among the timers (Infinity: none); NaN when it must be recomputed. */
  #earliest = Number.POSITIVE_INFINITY;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#nextId;
    const end = this.#now + Math.max(0, ms);
    this.#timers.set(id, { end, fn });
    if (end < this.#earliest) this.#earliest = end;
    return id;
  }

  clearTimeout(id: unknown): void {
    const timer = this.#timers.get(id as number);
    if (!timer) return;
    this.#timers.delete(id as number);
    if (timer.end <= this.#earliest) this.#earliest = Number.NaN;
  }

  /** Fires every timer due by `t` in order, then moves the clock to `t` (never backwards). */
  advanceTo(t: number): void {
    for (;;) {
      const earliest = this.#earliestEnd();
      if (earliest > t) break;
      let dueId = 0;
      let due: { end: number; fn: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.end === earliest) {
          due = timer;
          dueId = id;
          break;
        }
      }
      if (!due) break;
      this.#timers.delete(dueId);
      this.#earliest = Number.NaN;
      if (due.end > this.#now) this.#now = due.end;
      due.fn();
    }
    if (t > this.#now) this.#now = t;
  }

  #earliestEnd(): number {
    if (!Number.isNaN(this.#earliest)) return this.#earliest;
    let min = Number.POSITIVE_INFINITY;
    for (const timer of this.#timers.values()) if (timer.end < min) min = timer.end;
    this.#earliest = min;
    return min;
  }
}
