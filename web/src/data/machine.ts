/**
 * The machine dict the dashboard renders: one device's live state (the shared `DeviceLiveState`
 * contract) plus what Odoo or the worker knows about the machine around it.
 *
 * Durations (`session_*_s`, `today_*_s`) are accounted up to the moment the sender built the dict;
 * the dashboard adds the time elapsed since it *received* the dict to the counter of the current
 * state, so browser/server clock skew never shows up in the counters (see web/README.md).
 */
import type { DashboardMachine, DeviceLiveState } from '@workshop-iot/shared';

export type DeviceState = DeviceLiveState['state'];

/** The wire shape is the shared `DashboardMachine` contract (shared/src/contracts/dashboard.ts). */
export type { DashboardMachine };

/** Every state in display order: the order of filter chips and of the legend. */
export const DEVICE_STATES: readonly DeviceState[] = [
  'working',
  'standby',
  'starting',
  'stopping',
  'idle',
  'offline',
  'unknown',
];
