/**
 * The worker's answer to the dashboard: one `DashboardMachine` per configured device, built from the
 * device config (name, area), its live state and today's working/standby time.
 *
 * Today's time comes from the events the worker commits (heartbeats carry exact interval sums; a stop
 * carries the session's final sums) plus the running session's time not yet covered by a heartbeat.
 * It is kept in memory, so after a worker restart it counts from the restart; "today" is the worker's
 * local calendar day. Odoo's dashboard, fed from stored sessions, is the authoritative one.
 */
import type {
  DashboardMachine,
  DeviceConfig,
  DeviceLiveState,
  WorkshopEvent,
} from '@workshop-iot/shared';

interface Sums {
  working: number;
  standby: number;
}

const localDay = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
};

export class TodayTotals {
  #day: string;
  /** Per device: time already booked today from heartbeats and stops. */
  readonly #booked = new Map<string, Sums>();
  /** Per open session: how much of it has been booked (by any day), to book only the rest later. */
  readonly #sessionBooked = new Map<string, Sums>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#day = localDay(now());
  }

  /** Feed every committed event (the outbox's onCommitted hook). */
  record(events: readonly WorkshopEvent[]): void {
    this.#rollover();
    for (const event of events) {
      if (event.type === 'session_heartbeat') {
        const p = event.payload;
        this.#book(event.device_id, p.session_id, p.interval_working_s, p.interval_standby_s);
      } else if (event.type === 'session_stopped') {
        const p = event.payload;
        const done = this.#sessionBooked.get(p.session_id) ?? { working: 0, standby: 0 };
        this.#book(
          event.device_id,
          p.session_id,
          Math.max(0, p.working_s - done.working),
          Math.max(0, p.standby_s - done.standby),
        );
        this.#sessionBooked.delete(p.session_id);
      }
    }
  }

  /** Today's sums for a device, including the running session's unbooked part. */
  of(live: DeviceLiveState | undefined, deviceId: string): Sums {
    this.#rollover();
    const booked = this.#booked.get(deviceId) ?? { working: 0, standby: 0 };
    if (!live?.session_id) return { ...booked };
    const done = this.#sessionBooked.get(live.session_id) ?? { working: 0, standby: 0 };
    return {
      working: booked.working + Math.max(0, live.session_working_s - done.working),
      standby: booked.standby + Math.max(0, live.session_standby_s - done.standby),
    };
  }

  /** At local midnight the day's sums restart; open sessions keep what they booked before. */
  #rollover(): void {
    const day = localDay(this.#now());
    if (day === this.#day) return;
    this.#day = day;
    this.#booked.clear();
  }

  #book(deviceId: string, sessionId: string, working: number, standby: number): void {
    const day = this.#booked.get(deviceId) ?? { working: 0, standby: 0 };
    day.working += working;
    day.standby += standby;
    this.#booked.set(deviceId, day);
    const session = this.#sessionBooked.get(sessionId) ?? { working: 0, standby: 0 };
    session.working += working;
    session.standby += standby;
    this.#sessionBooked.set(sessionId, session);
  }
}

/** One dashboard machine; a device without live state yet is `unknown`. */
export function machineOf(
  device: DeviceConfig,
  live: DeviceLiveState | undefined,
  today: Sums,
  nowIso: string,
): DashboardMachine {
  return {
    id: null,
    name: device.name,
    area: device.area ?? null,
    device_id: device.device_id,
    state: live?.state ?? 'unknown',
    power_w: live?.power_w ?? null,
    session_id: live?.session_id ?? null,
    session_started_at: live?.session_started_at ?? null,
    session_working_s: live?.session_working_s ?? 0,
    session_standby_s: live?.session_standby_s ?? 0,
    last_seen_at: live?.last_seen_at ?? null,
    changed_at: live?.changed_at ?? nowIso,
    expected_interval_s: live?.expected_interval_s ?? device.session_config.message_timeout_s,
    today_working_s: today.working,
    today_standby_s: today.standby,
  };
}
