/**
 * Reads a recording exported as JSON lines (format: worker/src/recording/types.ts) into memory for
 * the replay CLI. Every line is checked; the first bad one fails the whole file with
 * REPLAY_INPUT_INVALID naming the file, the line and the field, e.g.
 *   rec.jsonl: line 12: /power_w: must be a number >= 0 (got "abc")
 * Inputs of one machine must be oldest first, as the worker recorded them.
 */
import fs from 'node:fs';
import { WorkerError } from '../errors.ts';
import type { RecordedInput } from '../recording/types.ts';
import { MemoryRecording } from './memory-recording.ts';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function readRecordingFile(file: string): MemoryRecording {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new WorkerError('REPLAY_INPUT_INVALID', {
      file,
      reason: `cannot read the recording (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
  }
  return parseRecording(text, file);
}

export function parseRecording(text: string, file: string): MemoryRecording {
  const recording = new MemoryRecording();
  const batches = new Map<string, RecordedInput[]>();
  const lastAt = new Map<string, { at: number; line: number }>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const fail = (reason: string) =>
      new WorkerError('REPLAY_INPUT_INVALID', { file, reason: `line ${line}: ${reason}` });
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw fail(`not JSON (${(err as Error).message})`);
    }
    const { deviceId, input } = inputOf(value, fail);
    const previous = lastAt.get(deviceId);
    if (previous && input.at < previous.at)
      throw fail(
        `/at: ${new Date(input.at).toISOString()} is before the previous input of ${deviceId} (line ${previous.line}); inputs must be oldest first`,
      );
    lastAt.set(deviceId, { at: input.at, line });
    const batch = batches.get(deviceId);
    if (batch) batch.push(input);
    else batches.set(deviceId, [input]);
  });
  for (const [deviceId, inputs] of batches) recording.add(deviceId, inputs);
  return recording;
}

function inputOf(
  value: unknown,
  fail: (reason: string) => Error,
): { deviceId: string; input: RecordedInput } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('must be a JSON object');
  const o = value as Record<string, unknown>;
  const got = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  if (typeof o.device_id !== 'string' || !DEVICE_ID.test(o.device_id))
    throw fail(`/device_id: must be a device id (got ${got(o.device_id)})`);
  const at = typeof o.at === 'string' && o.at.endsWith('Z') ? Date.parse(o.at) : Number.NaN;
  if (Number.isNaN(at))
    throw fail(`/at: must be an ISO-8601 UTC time ending in Z (got ${got(o.at)})`);
  const deviceId = o.device_id;
  if (o.kind === 'reading') {
    if (typeof o.power_w !== 'number' || !Number.isFinite(o.power_w) || o.power_w < 0)
      throw fail(`/power_w: must be a number >= 0 (got ${got(o.power_w)})`);
    const energy = o.energy_wh ?? null;
    if (energy !== null && (typeof energy !== 'number' || !Number.isFinite(energy) || energy < 0))
      throw fail(`/energy_wh: must be a number >= 0, null or absent (got ${got(o.energy_wh)})`);
    return { deviceId, input: { at, kind: 'reading', power_w: o.power_w, energy_wh: energy } };
  }
  if (o.kind === 'availability') {
    if (typeof o.online !== 'boolean')
      throw fail(`/online: must be true or false (got ${got(o.online)})`);
    return { deviceId, input: { at, kind: 'availability', online: o.online } };
  }
  if (o.kind === 'alive') return { deviceId, input: { at, kind: 'alive' } };
  throw fail(`/kind: must be "reading", "availability" or "alive" (got ${got(o.kind)})`);
}
