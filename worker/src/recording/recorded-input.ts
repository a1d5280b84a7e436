/**
 * The registry's input as the recording keeps it: the parser's input with the time the registry
 * resolved for it (arrival, or the device's own time while the broker delivers its backlog).
 */
import type { DeviceInput } from '../devices/types.ts';
import type { RecordedInput } from './types.ts';

export type { InputRecorder } from './types.ts';

export function recordedInput(input: DeviceInput, at: number): RecordedInput {
  if (input.kind === 'reading')
    return { at, kind: 'reading', power_w: input.power_w, energy_wh: input.energy_wh };
  if (input.kind === 'availability') return { at, kind: 'availability', online: input.online };
  return { at, kind: 'alive' };
}
