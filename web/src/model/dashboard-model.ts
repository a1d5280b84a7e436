/**
 * The dashboard's state as a plain class (no OWL import): the component wraps one instance in
 * `useState`, and every mutation goes through that reactive proxy. Derived views (filtering,
 * grouping, live counters) are computed from `nowMs`, which `tick()` advances once a second.
 */
import { type DashboardMachine, DEVICE_STATES, type DeviceState } from '../data/machine.ts';

export type StateFilter = DeviceState | 'all';
export type LoadStatus = 'loading' | 'ready' | 'error';
/** Why no tile shows: no machine at all (say how to add one) or the filter hides them all. */
export type EmptyState = 'no-machines' | 'no-match';

/**
 * A meter is silent once it has said nothing for SILENCE_FACTOR times its usual interval plus
 * SILENCE_SLACK_S. The usual interval (`expected_interval_s`, worker/src/devices/report-interval.ts)
 * is already the LONGEST normal gap, not an average: at 1x a meter whose periodic report is a
 * second late would flicker. 2x means at least one whole report went missing; a meter that misses
 * one report (QoS 0 messages can be lost on Wi-Fi) is far more often alive than dead, one that
 * misses two is worth a look. The slack absorbs delivery delays (worker -> Odoo -> bus) and a small
 * clock difference between the browser and the worker, whose clock dates `last_seen_at`.
 */
export const SILENCE_FACTOR = 2;
export const SILENCE_SLACK_S = 10;

/** States in which the meter is expected to keep reporting (not offline, not never heard from). */
const REPORTING_STATES: ReadonlySet<DeviceState> = new Set([
  'idle',
  'starting',
  'standby',
  'working',
  'stopping',
]);

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
  /** Null ("—") while no reading exists: never heard from, or the sender has none. */
  powerW: number | null;
  /**
   * Seconds since the session started, null without a running session. Stops at the meter's last
   * message while it is silent: time after it will not be billed.
   */
  sessionS: number | null;
  todayWorkingS: number;
  todayStandbyS: number;
  lastSeenAt: string | null;
  /** The meter said nothing for well past its usual interval (SILENCE_FACTOR): "no data since". */
  silent: boolean;
  /** Who is on the machine (member of the running session); null when nobody or not known. */
  memberName: string | null;
  /** Open alerts of the machine (Odoo), shown as a banner on its tile; null when none. */
  alert: string | null;
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

  /** Why nothing shows once loaded (null when tiles show, or while loading or failed). */
  emptyState(): EmptyState | null {
    if (this.status !== 'ready') return null;
    if (Object.keys(this.entries).length === 0) return 'no-machines';
    return this.groups().length === 0 ? 'no-match' : null;
  }

  /** True when no machine has an area: the grouping toggle and headers are pointless then. */
  hasAreas(): boolean {
    return Object.values(this.entries).some(({ machine }) => machine.area !== null);
  }
}

function compareText(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}

/**
 * Whether the meter has been quiet too long at `nowMs` (see SILENCE_FACTOR). Without an expected
 * interval (a sender that predates it) nothing is ever called silent: the tile then behaves as
 * before, and the worker's message timeout takes the device offline.
 */
export function isSilent(machine: DashboardMachine, nowMs: number): boolean {
  if (!REPORTING_STATES.has(machine.state) || !machine.last_seen_at) return false;
  const expectedS = machine.expected_interval_s;
  if (expectedS === null || expectedS === undefined || !(expectedS > 0)) return false;
  const seenMs = Date.parse(machine.last_seen_at);
  if (Number.isNaN(seenMs)) return false;
  return nowMs - seenMs > (SILENCE_FACTOR * expectedS + SILENCE_SLACK_S) * 1000;
}

/** Live counters for one machine at `nowMs`. */
export function machineView({ machine, receivedMs }: MachineEntry, nowMs: number): MachineView {
  const sinceReceivedS = Math.max(0, (nowMs - receivedMs) / 1000);
  const silent = isSilent(machine, nowMs);
  // While silent nothing counts past the last message: a meter that stays dead ends its session
  // there (message timeout), so time after it would vanish from the tile later.
  const seenMs = silent ? Date.parse(machine.last_seen_at as string) : Number.NaN;
  const startedMs = machine.session_started_at
    ? Date.parse(machine.session_started_at)
    : Number.NaN;
  let sessionS: number | null = null;
  /** Seconds the dict's counters already hold past the last message (silent meters only). */
  let pastLastMessageS = 0;
  if (SESSION_STATES.has(machine.state) && machine.session_id !== null) {
    const accountedS = machine.session_working_s + machine.session_standby_s;
    // Wall clock from the start time is exact whatever the sender's accounting cadence; without a
    // start time fall back to the accounted seconds plus the time since the dict arrived.
    if (Number.isNaN(startedMs)) sessionS = accountedS + (silent ? 0 : sinceReceivedS);
    else sessionS = Math.max(0, ((silent ? Math.min(nowMs, seenMs) : nowMs) - startedMs) / 1000);
    // The sender accounted the session up to about start + accounted seconds, maybe past the last
    // message while the meter was already quiet: that part of today's counter comes off too.
    if (silent && !Number.isNaN(startedMs))
      pastLastMessageS = Math.max(0, (startedMs + accountedS * 1000 - seenMs) / 1000);
  }
  const accrual = (state: DeviceState, todayS: number) =>
    machine.state !== state
      ? todayS
      : silent
        ? Math.max(0, todayS - pastLastMessageS)
        : todayS + sinceReceivedS;
  return {
    key: machine.device_id,
    id: machine.id,
    name: machine.name || machine.device_id,
    area: machine.area,
    state: machine.state,
    // A machine never heard from has no reading, whatever number the sender put there.
    powerW: machine.last_seen_at ? machine.power_w : null,
    sessionS,
    todayWorkingS: accrual('working', machine.today_working_s),
    todayStandbyS: accrual('standby', machine.today_standby_s),
    lastSeenAt: machine.last_seen_at,
    silent,
    memberName: machine.member_name ?? null,
    alert: machine.alert ?? null,
  };
}
