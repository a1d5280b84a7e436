/**
 * A recording held in memory: an array per machine, oldest first. Serves the replay CLI (a JSON-lines
 * file read whole) and tests; the worker's durable recording is the SQLite store (worker/src/recording).
 */
import type { RecordedInput, RecordingReader } from '../recording/types.ts';

export class MemoryRecording implements RecordingReader {
  readonly #byDevice = new Map<string, RecordedInput[]>();

  /** Appends inputs of one machine; they must come oldest first (as recorded). */
  add(deviceId: string, inputs: Iterable<RecordedInput>): void {
    let list = this.#byDevice.get(deviceId);
    if (!list) {
      list = [];
      this.#byDevice.set(deviceId, list);
    }
    for (const input of inputs) list.push(input);
  }

  devices(): string[] {
    return [...this.#byDevice.keys()];
  }

  inputs(deviceId: string, fromMs: number, toMs: number): RecordedInput[] {
    const list = this.#byDevice.get(deviceId) ?? [];
    return list.slice(lowerBound(list, fromMs), lowerBound(list, toMs));
  }
}

/** First index whose `at` is >= t (binary search: the inputs are oldest first). */
function lowerBound(list: RecordedInput[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as RecordedInput).at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
