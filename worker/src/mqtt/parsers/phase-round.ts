/**
 * Pairs the three phases of a Gen1 3EM, which publishes each phase on its own topic
 * (`emeter/0/power`, `emeter/1/power`, `emeter/2/power`), one burst per update period in that
 * order, milliseconds apart. A sum is emitted only when it is consistent: one value of EACH phase,
 * all received since the previous sum. A phase that repeats before the round is complete starts a
 * new round (its earlier value belonged to a burst whose other phases were lost), so values of two
 * different bursts are never added together unless the phases in between were all lost.
 */
export class PhaseRound {
  #values: (number | undefined)[] = [undefined, undefined, undefined];

  /** Phase `k`'s value; the sum when this completes the round, else undefined. */
  add(k: number, value: number): number | undefined {
    if (this.#values[k] !== undefined) this.reset();
    this.#values[k] = value;
    if (this.#values.some((v) => v === undefined)) return undefined;
    const sum = (this.#values as number[]).reduce((a, b) => a + b, 0);
    this.reset();
    return sum;
  }

  /** Whether phase `k` already has a value in the current round. */
  has(k: number): boolean {
    return this.#values[k] !== undefined;
  }

  reset(): void {
    this.#values = [undefined, undefined, undefined];
  }
}
