/**
 * The recording (issue 18): every input a machine's actor received, with the time the registry
 * resolved for it, kept in a bounded local store separate from the outbox so a machine's real power
 * profile can be analysed and replayed through the same session state machine.
 *
 * Export/import format (`npm run recording -- export|import`, `npm run replay -- --recording`):
 * JSON lines, one input per line, oldest first per machine:
 *   {"device_id":"laser-1","at":"2026-12-05T08:00:01.250Z","kind":"reading","power_w":301.5,"energy_wh":1234.5}
 *   {"device_id":"laser-1","at":"2026-12-05T08:10:00Z","kind":"availability","online":false}
 *   {"device_id":"laser-1","at":"2026-12-05T08:10:03Z","kind":"alive"}
 * (`energy_wh` null or absent: the meter reports no counter.)
 */

/** One recorded input; `at` is epoch milliseconds (the registry's resolved device time). */
export type RecordedInput =
  | { at: number; kind: 'reading'; power_w: number; energy_wh: number | null }
  | { at: number; kind: 'availability'; online: boolean }
  | { at: number; kind: 'alive' };

/** Where the registry hands every input it passes to an actor (after resolving its time). */
export interface InputRecorder {
  record(deviceId: string, input: RecordedInput): void;
}

/** Reads a machine's recorded inputs back, oldest first, `fromMs <= at < toMs`. */
export interface RecordingReader {
  inputs(deviceId: string, fromMs: number, toMs: number): Iterable<RecordedInput>;
}
