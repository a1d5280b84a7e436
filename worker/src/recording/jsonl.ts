/**
 * The recording's export/import format (types.ts): one JSON object per line,
 *   {"device_id":"laser-1","at":"2026-12-05T08:00:01.250Z","kind":"reading","power_w":301.5,"energy_wh":1234.5}
 * `formatLine` writes it, `parseLine` checks one line completely and says everything wrong with it
 * (the import names the line; nothing is skipped silently).
 */
import { DeviceId, type FieldError, validateSchema } from '@workshop-iot/shared';
import type { RecordedInput } from './types.ts';

export interface ParsedLine {
  deviceId: string;
  input: RecordedInput;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;
const FIELDS: Record<RecordedInput['kind'], string[]> = {
  reading: ['power_w', 'energy_wh'],
  availability: ['online'],
  alive: [],
};

export function formatLine(deviceId: string, input: RecordedInput): string {
  const at = new Date(input.at).toISOString();
  if (input.kind === 'reading')
    return `{"device_id":${JSON.stringify(deviceId)},"at":"${at}","kind":"reading","power_w":${num(input.power_w)},"energy_wh":${input.energy_wh === null ? 'null' : num(input.energy_wh)}}`;
  if (input.kind === 'availability')
    return `{"device_id":${JSON.stringify(deviceId)},"at":"${at}","kind":"availability","online":${input.online}}`;
  return `{"device_id":${JSON.stringify(deviceId)},"at":"${at}","kind":"alive"}`;
}

/** JSON has no NaN or Infinity: such a value (never recorded from a parser) is written as null. */
const num = (v: number) => (Number.isFinite(v) ? String(v) : 'null');

/** One line checked in full: the input, or every problem found (each names its field). */
export function parseLine(text: string): ParsedLine | { errors: string[] } {
  if (text.trim() === '') return { errors: ['empty line'] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { errors: [`not valid JSON (${(err as Error).message})`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { errors: ['must be a JSON object'] };
  const line = value as Record<string, unknown>;
  const errors: string[] = [];
  const deviceErrors: FieldError[] = [];
  validateSchema(DeviceId, line.device_id, '/device_id', deviceErrors);
  if (line.device_id === undefined) errors.push('device_id is missing');
  else if (deviceErrors.length > 0)
    errors.push(`device_id ${deviceErrors.map((e) => e.message).join(', ')}`);
  const at = parseTime(line.at);
  if (typeof at === 'string') errors.push(at);
  const kind = line.kind;
  if (kind !== 'reading' && kind !== 'availability' && kind !== 'alive') {
    errors.push(
      `kind must be reading, availability or alive (got ${JSON.stringify(kind) ?? 'nothing'})`,
    );
    return { errors };
  }
  const allowed = new Set(['device_id', 'at', 'kind', ...FIELDS[kind]]);
  for (const key of Object.keys(line))
    if (!allowed.has(key)) errors.push(`unknown field '${key}' for kind ${kind}`);
  let input: RecordedInput | null = null;
  const time = typeof at === 'number' ? at : 0;
  if (kind === 'reading') {
    const power = line.power_w;
    const energy = line.energy_wh ?? null;
    if (typeof power !== 'number' || !Number.isFinite(power))
      errors.push('power_w must be a number (W)');
    if (energy !== null && (typeof energy !== 'number' || !Number.isFinite(energy)))
      errors.push('energy_wh must be a number (Wh), null or absent');
    input = { at: time, kind, power_w: power as number, energy_wh: energy as number | null };
  } else if (kind === 'availability') {
    if (typeof line.online !== 'boolean') errors.push('online must be true or false');
    input = { at: time, kind, online: line.online as boolean };
  } else input = { at: time, kind };
  if (errors.length > 0) return { errors };
  return { deviceId: line.device_id as string, input };
}

function parseTime(value: unknown): number | string {
  const expected = 'an ISO 8601 time to the millisecond at most, e.g. 2026-12-05T08:00:01.250Z';
  if (value === undefined) return `at is missing (${expected})`;
  if (typeof value !== 'string' || !ISO_TIME.test(value))
    return `at must be ${expected} (got ${JSON.stringify(value)})`;
  const ms = Date.parse(value);
  // Date.parse rolls 2026-02-30 over to March 2nd rather than refusing it.
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const monthDays = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (!Number.isFinite(ms) || m < 1 || m > 12 || d < 1 || d > monthDays)
    return `at is not a valid time (got ${JSON.stringify(value)})`;
  return ms;
}
