/**
 * The dashboard's state as a plain class (no OWL import): the component wraps one instance in
 * `useState`, and every mutation goes through that reactive proxy. Derived views (filtering,
 * grouping, live counters) are computed from `nowMs`, which `tick()` advances once a second.
 */
import { type DashboardMachine, DEVICE_STATES, type DeviceState } from '../data/machine.ts';

export type StateFilter = DeviceState | 'all';
export type LoadStatus = 'loading' | 'ready' | 'error';

interface MachineEntry {
  machine: DashboardMachine;
  /** Browser time the dict arrived: live counters accrue from here (skew-free, see machine.ts). */
  receivedMs: number;
}

/** Everything a tile shows, already computed for the current second. */
export interface MachineView {
  key: string;
  id: number | null;
  name: string;
  area: string | null;
  state: DeviceState;
  powerW: number | null;
  /** Seconds since the session started, null without a running session. */
  sessionS: number | null;
  todayWorkingS: number;
  todayStandbyS: number;
  lastSeenAt: string | null;
}

export interface AreaGroup {
  key: string;
  area: string | null;
  machines: MachineView[];
}

/** States in which a session is running, so its timer ticks. */
const SESSION_STATES: ReadonlySet<DeviceState> = new Set([
  'starting',
  'standby',
  'working',
  'stopping',
]);

export class DashboardModel {
  entries: Record<string, MachineEntry> = {};
  filter: StateFilter = 'all';
  groupByArea = true;
  kiosk = false;
  status: LoadStatus = 'loading';
  online = true;
  nowMs: number;

  constructor(nowMs: number) {
    this.nowMs = nowMs;
  }

  /** Replace every machine by a freshly loaded list (initial load and each resync). */
  replaceAll(machines: DashboardMachine[], receivedMs: number): void {
    const entries: Record<string, MachineEntry> = {};
    for (const machine of machines) entries[machine.device_id] = { machine, receivedMs };
    this.entries = entries;
    this.status = 'ready';
    this.nowMs = Math.max(this.nowMs, receivedMs);
  }

  /**
   * Apply one live update. An update older than what is shown (by `changed_at`) arrived out of
   * order and is dropped; returns whether it was applied. Unknown devices are added.
   */
  applyUpdate(machine: DashboardMachine, receivedMs: number): boolean {
    const current = this.entries[machine.device_id];
    if (current && Date.parse(machine.changed_at) < Date.parse(current.machine.changed_at)) {
      return false;
    }
    this.entries[machine.device_id] = { machine, receivedMs };
    return true;
  }

  tick(nowMs: number): void {
    this.nowMs = nowMs;
  }

  setFilter(filter: StateFilter): void {
    this.filter = filter;
  }

  setGroupByArea(groupByArea: boolean): void {
    this.groupByArea = groupByArea;
  }

  setKiosk(kiosk: boolean): void {
    this.kiosk = kiosk;
  }

  setOnline(online: boolean): void {
    this.online = online;
  }

  setLoadFailed(): void {
    // Keep showing the machines of an earlier successful load: stale data beats an empty wall.
    if (this.status !== 'ready') this.status = 'error';
  }

  /** Number of machines per state (all states present, zero included). */
  counts(): Record<DeviceState, number> {
    const counts = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Record<
      DeviceState,
      number
    >;
    for (const { machine } of Object.values(this.entries)) counts[machine.state] += 1;
    return counts;
  }

  /** Filter chips to show: every state that has machines, plus the selected one. */
  filterOptions(): StateFilter[] {
    const counts = this.counts();
    return [
      'all',
      ...DEVICE_STATES.filter((s) => counts[s] > 0 || s === this.filter),
    ] as StateFilter[];
  }

  /** Visible machines, grouped by area (areas A-Z, "no area" last) or in one group, by name. */
  groups(): AreaGroup[] {
    const views = Object.values(this.entries)
      .filter(({ machine }) => this.filter === 'all' || machine.state === this.filter)
      .map((entry) => machineView(entry, this.nowMs))
      .sort((a, b) => compareText(a.name, b.name) || compareText(a.key, b.key));
    if (!this.groupByArea) return views.length ? [{ key: 'all', area: null, machines: views }] : [];
    const byArea = new Map<string | null, MachineView[]>();
    for (const view of views) {
      const list = byArea.get(view.area);
      if (list) list.push(view);
      else byArea.set(view.area, [view]);
    }
    return [...byArea.entries()]
      .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : compareText(a, b)))
      .map(([area, machines]) => ({
        key: area === null ? '\u0000none' : `a:${area}`,
        area,
        machines,
      }));
  }

  /** True when no machine has an area: the grouping toggle and headers are pointless then. */
  hasAreas(): boolean {
    return Object.values(this.entries).some(({ machine }) => machine.area !== null);
  }
}

function compareText(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}

/** Live counters for one machine at `nowMs`. */
export function machineView({ machine, receivedMs }: MachineEntry, nowMs: number): MachineView {
  const sinceReceivedS = Math.max(0, (nowMs - receivedMs) / 1000);
  let sessionS: number | null = null;
  if (SESSION_STATES.has(machine.state) && machine.session_id !== null) {
    // Wall clock from the start time is exact whatever the sender's accounting cadence; without a
    // start time fall back to the accounted seconds plus the time since the dict arrived.
    const startedMs = machine.session_started_at
      ? Date.parse(machine.session_started_at)
      : Number.NaN;
    sessionS = Number.isNaN(startedMs)
      ? machine.session_working_s + machine.session_standby_s + sinceReceivedS
      : Math.max(0, (nowMs - startedMs) / 1000);
  }
  return {
    key: machine.device_id,
    id: machine.id,
    name: machine.name || machine.device_id,
    area: machine.area,
    state: machine.state,
    powerW: machine.power_w,
    sessionS,
    todayWorkingS: machine.today_working_s + (machine.state === 'working' ? sinceReceivedS : 0),
    todayStandbyS: machine.today_standby_s + (machine.state === 'standby' ? sinceReceivedS : 0),
    lastSeenAt: machine.last_seen_at,
  };
}
