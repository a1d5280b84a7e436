/**
 * How often a meter usually speaks, learnt from the gaps between its messages. The dashboard
 * compares a meter's silence with it to show "no data since …" long before `message_timeout_s`
 * takes the device offline (issue 14, finding 7).
 *
 * Meters differ: a Shelly Gen2 reports on every power change and about every 60 s, a Tasmota every
 * TelePeriod (300 s by default, 10 s at least), a JSON meter whatever its firmware does. So the
 * interval is observed, not configured. The estimate is the LONGEST gap seen in the last hour (in
 * six 10-minute buckets, so memory stays at six numbers): a meter that reports on change sends
 * bursts of one-second gaps while the load moves, and only its longest gaps show its periodic
 * report. A max errs towards a longer interval, i.e. towards flagging silence later, never
 * towards a false alarm. Bounded on both sides:
 *   - gaps longer than `message_timeout_s` are outages, not the usual interval, and are ignored
 *     (the device actor's liveness handles them); so is the gap across a broker outage or a
 *     replayed backlog (`restart()`);
 *   - at least FLOOR_S (or the timeout if shorter): an on-change meter whose hour was all busy
 *     load has only short gaps in memory, and must not look dead as soon as its load is steady
 *     and it falls back to its periodic report (60 s on a Shelly Gen2, 30 s on a Gen1);
 *   - at most `message_timeout_s`: past it the device is polled and then offline anyway.
 * Until LEARN_MS of listening with MIN_GAPS gaps, the estimate is `message_timeout_s`: with no
 * knowledge of the meter, "silent" starts where the worker's own liveness already acts.
 */

export const FLOOR_S = 60;
export const MIN_GAPS = 3;
export const LEARN_MS = 10 * 60_000;
const BUCKET_MS = 10 * 60_000;
const BUCKETS = 6;

interface Bucket {
  index: number;
  maxGapMs: number;
}

export class ReportInterval {
  #lastAt: number | null = null;
  #listeningSince: number | null = null;
  #gaps = 0;
  /** Newest last; at most BUCKETS, each the longest gap that ended in its 10 minutes. */
  #buckets: Bucket[] = [];

  /** A live message arrived at `at` (ms, wall clock of the worker). */
  observe(at: number, timeoutS: number): void {
    const last = this.#lastAt;
    this.#lastAt = at;
    this.#listeningSince ??= at;
    if (last === null || at < last) return;
    const gapMs = at - last;
    if (gapMs > timeoutS * 1000) return;
    this.#gaps = Math.min(this.#gaps + 1, MIN_GAPS);
    const index = Math.floor(at / BUCKET_MS);
    const newest = this.#buckets.at(-1);
    if (newest?.index === index) newest.maxGapMs = Math.max(newest.maxGapMs, gapMs);
    else this.#buckets.push({ index, maxGapMs: gapMs });
    while (this.#buckets.length > BUCKETS) this.#buckets.shift();
  }

  /**
   * Forget the last arrival: the next gap would span time the worker was not listening (broker
   * down, backlog replayed), which says nothing about the meter. What was learnt stays.
   */
  restart(): void {
    this.#lastAt = null;
  }

  /** The usual interval in seconds at `at`, in [min(FLOOR_S, timeout), timeout]. */
  estimateS(timeoutS: number, at: number): number {
    const since = this.#listeningSince;
    if (this.#gaps < MIN_GAPS || since === null || at - since < LEARN_MS) return timeoutS;
    const oldest = Math.floor(at / BUCKET_MS) - BUCKETS + 1;
    let maxMs = -1;
    for (const bucket of this.#buckets)
      if (bucket.index >= oldest) maxMs = Math.max(maxMs, bucket.maxGapMs);
    // Nothing heard for an hour: the device is long offline; what it did before says nothing now.
    if (maxMs < 0) return timeoutS;
    return Math.min(timeoutS, Math.max(Math.min(FLOOR_S, timeoutS), Math.ceil(maxMs / 1000)));
  }
}
