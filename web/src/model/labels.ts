/**
 * Every user-visible string of the dashboard in one object. The standalone page uses the English
 * defaults; the Odoo entry builds the same object with `_t("…")` literals so Odoo's translation
 * export finds them.
 */
import type { DeviceState } from '../data/machine.ts';

export interface DashboardLabels {
  title: string;
  states: Record<DeviceState, string>;
  all: string;
  filterByState: string;
  groupByArea: string;
  noArea: string;
  kiosk: string;
  exitKiosk: string;
  power: string;
  session: string;
  noSession: string;
  todayWorking: string;
  todayStandby: string;
  lastSeen: string;
  never: string;
  online: string;
  offline: string;
  loading: string;
  loadFailed: string;
  noMachines: string;
  openSessions: string;
}

export const DEFAULT_LABELS: DashboardLabels = {
  title: 'Machines',
  states: {
    idle: 'Idle',
    starting: 'Starting',
    standby: 'Standby',
    working: 'Working',
    stopping: 'Stopping',
    offline: 'Offline',
    unknown: 'Unknown',
  },
  all: 'All',
  filterByState: 'Filter by state',
  groupByArea: 'Group by area',
  noArea: 'No area',
  kiosk: 'Full screen',
  exitKiosk: 'Exit full screen',
  power: 'Power',
  session: 'Session',
  noSession: 'No session',
  todayWorking: 'Working today',
  todayStandby: 'Standby today',
  lastSeen: 'Last seen',
  never: 'never',
  online: 'Live',
  offline: 'Connection lost, reconnecting…',
  loading: 'Loading machines…',
  loadFailed: 'Could not load the machines',
  noMachines: 'No machines match this filter.',
  openSessions: 'Open the sessions of',
};
