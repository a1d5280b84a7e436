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
  /** Machines exist, the selected state filter hides them all. */
  noMachinesMatch: string;
  /** No machine at all: a title, then how to get the first one on the wall (per audience). */
  noMachinesYet: string;
  firstMachineHelp: string;
  /** Button that opens a new machine form (only where the viewer may create machines). */
  addMachine: string;
  /** Shown on a tile whose meter is silent, before the time of its last message. */
  noDataSince: string;
  openSessions: string;
  /** Who is on the machine (before the member's name). */
  onMachine: string;
  /** Tile button: assign the machine's running or last session to a member. */
  claim: string;
  /** Tile button in a self-service kiosk: assign it to the logged-in user. */
  claimAsMyself: string;
  /** Claim panel: title before the machine's name, search box, outcomes. */
  claimTitle: string;
  searchMember: string;
  noMemberFound: string;
  claiming: string;
  claimedFor: string;
  close: string;
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
  power: 'Power draw',
  session: 'Session time',
  noSession: 'No session',
  todayWorking: 'Working today',
  todayStandby: 'Standby today',
  lastSeen: 'Last seen',
  never: 'never',
  online: 'Live',
  offline: 'Connection lost, reconnecting…',
  loading: 'Loading machines…',
  loadFailed: 'Could not load the machines',
  noMachinesMatch: 'No machines match this filter.',
  noMachinesYet: 'No machines yet',
  // The defaults are the worker's own page: a worker with Odoo, or standalone with its config file.
  firstMachineHelp:
    'This worker has no machines. With Odoo, add them in Workshop > Configuration > Machines ' +
    '(worker: this one): Odoo sends them here. Without Odoo, list them under "devices" in the ' +
    "worker's settings file (see workshop-iot.example.json) and restart the worker. A tile " +
    'comes alive when its meter sends its first message.',
  addMachine: 'Add a machine',
  noDataSince: 'No data since',
  openSessions: 'Open the sessions of',
  onMachine: 'On the machine:',
  claim: 'Claim session',
  claimAsMyself: 'This is me',
  claimTitle: 'Who is using',
  searchMember: 'Name or card',
  noMemberFound: 'No member found',
  claiming: 'Claiming…',
  claimedFor: 'Session claimed for',
  close: 'Close',
};
