/** Machine dicts for tests: a valid default with any field overridden. */
import type { DashboardMachine } from '../../src/data/machine.ts';

export const T0 = Date.parse('2026-11-25T10:00:00.000Z');

export const iso = (ms: number): string => new Date(ms).toISOString();

export function machine(overrides: Partial<DashboardMachine> = {}): DashboardMachine {
  return {
    id: 1,
    name: 'Lathe',
    device_id: 'shelly-lathe',
    area: 'Metal',
    state: 'idle',
    power_w: 0,
    session_id: null,
    session_started_at: null,
    session_working_s: 0,
    session_standby_s: 0,
    today_working_s: 0,
    today_standby_s: 0,
    last_seen_at: iso(T0),
    changed_at: iso(T0),
    ...overrides,
  };
}

export const SESSION = '0190a0c2-7a3b-7cde-8f00-000000000001';
