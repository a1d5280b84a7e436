/**
 * The worker's own topics on its broker, for other MQTT consumers (Home Assistant, Node-RED):
 *
 * - `<prefix>/status`: retained `online` / `offline`, the last will included (the publishing is done
 *   by `MqttConnection`, option `availability`; this file only names the topic).
 * - `<prefix>/machines/<device_id>` (opt-in, `mqtt_status.machine_summaries`): a retained JSON
 *   summary per machine, built from an explicit list of fields so no setting, token, API key or
 *   broker password can ever reach it. Published when the summary changes (any field but
 *   `last_seen_at`, which rides along), at most once per machine per `minIntervalMs` (the latest
 *   state wins: a trailing publish at the end of the interval), again for every machine after each
 *   connect (what failed while disconnected is fixed then), and cleared with an empty retained
 *   payload when a machine leaves the config.
 *
 * The prefix defaults to `workshop-iot/<worker_uid>`; device ids cannot hold `/`, `+` or `#` (their
 * contract pattern), so a summary topic never contains a wildcard or an extra level.
 */
import type { DeviceConfig, DeviceLiveState } from '@workshop-iot/shared';
import type { Logger } from 'pino';
import type { AvailabilityTopic } from './client-types.ts';

export const ONLINE = 'online';
export const OFFLINE = 'offline';

export function statusPrefix(prefix: string | null, workerUid: string): string {
  return prefix ?? `workshop-iot/${workerUid}`;
}

export function availabilityTopic(prefix: string): AvailabilityTopic {
  return { topic: `${prefix}/status`, online: ONLINE, offline: OFFLINE };
}

export function summaryTopic(prefix: string, deviceId: string): string {
  return `${prefix}/machines/${deviceId}`;
}

/** The retained JSON of one machine: these fields and no others. */
export interface MachineSummary {
  device_id: string;
  name: string;
  area: string | null;
  state: DeviceLiveState['state'] | 'unknown';
  power_w: number | null;
  session_running: boolean;
  session_started_at: string | null;
  last_seen_at: string | null;
  changed_at: string | null;
}

export function machineSummary(
  device: Pick<DeviceConfig, 'device_id' | 'name' | 'area'>,
  live: DeviceLiveState | undefined,
): MachineSummary {
  return {
    device_id: device.device_id,
    name: device.name,
    area: device.area ?? null,
    state: live?.state ?? 'unknown',
    power_w: live?.power_w ?? null,
    session_running: (live?.session_id ?? null) !== null,
    session_started_at: live?.session_started_at ?? null,
    last_seen_at: live?.last_seen_at ?? null,
    changed_at: live?.changed_at ?? null,
  };
}

/** What decides that a summary changed: everything but `last_seen_at`. */
function changeKey(s: MachineSummary): string {
  const { last_seen_at: _ignored, ...rest } = s;
  return JSON.stringify(rest);
}

export interface SummaryClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface MachineSummariesOptions {
  prefix: string;
  minIntervalMs: number;
  /** Resolves false when not connected (nothing is queued: `connected()` republishes). */
  publish(topic: string, payload: string, opts: { qos: 1; retain: true }): Promise<boolean>;
  liveState(deviceId: string): DeviceLiveState | undefined;
  clock?: SummaryClock;
  log?: Logger;
}

interface Machine {
  device: Pick<DeviceConfig, 'device_id' | 'name' | 'area'>;
  sentKey: string | null;
  sentAt: number | null;
  timer: unknown;
}

const realClock: SummaryClock = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class MachineSummaries {
  readonly #machines = new Map<string, Machine>();
  /** Removed machines whose empty retained payload has not reached the broker yet. */
  readonly #pendingClears = new Set<string>();
  readonly #clock: SummaryClock;
  #published = 0;

  constructor(private readonly options: MachineSummariesOptions) {
    this.#clock = options.clock ?? realClock;
  }

  /** Summaries published so far (tests, metrics). */
  get published(): number {
    return this.#published;
  }

  /** The configured machines: new ones are published, changed names/areas too, removed ones cleared. */
  setMachines(devices: readonly DeviceConfig[]): void {
    const wanted = new Map(devices.map((d) => [d.device_id, d]));
    for (const [id, machine] of this.#machines) {
      if (wanted.has(id)) continue;
      if (machine.timer !== null) this.#clock.clearTimeout(machine.timer);
      this.#machines.delete(id);
      this.#clear(id);
    }
    for (const device of devices) {
      const { device_id, name, area } = device;
      this.#pendingClears.delete(device_id);
      const known = this.#machines.get(device_id);
      if (known) known.device = { device_id, name, area };
      else
        this.#machines.set(device_id, {
          device: { device_id, name, area },
          sentKey: null,
          sentAt: null,
          timer: null,
        });
      this.changed(device_id);
    }
  }

  /** A machine's live state changed: publish now, or at the end of its interval. */
  changed(deviceId: string): void {
    const machine = this.#machines.get(deviceId);
    if (!machine || machine.timer !== null) return;
    const now = this.#clock.now();
    const wait = machine.sentAt === null ? 0 : machine.sentAt + this.options.minIntervalMs - now;
    if (wait <= 0) {
      this.#send(machine, false);
      return;
    }
    machine.timer = this.#clock.setTimeout(() => {
      machine.timer = null;
      if (this.#machines.get(deviceId) === machine) this.#send(machine, false);
    }, wait);
  }

  /** After each connect: every summary again (retained state may be stale), pending clears too. */
  connected(): void {
    for (const id of this.#pendingClears) this.#clear(id);
    for (const machine of this.#machines.values()) {
      if (machine.timer !== null) this.#clock.clearTimeout(machine.timer);
      machine.timer = null;
      this.#send(machine, true);
    }
  }

  stop(): void {
    for (const machine of this.#machines.values()) {
      if (machine.timer !== null) this.#clock.clearTimeout(machine.timer);
      machine.timer = null;
    }
  }

  #send(machine: Machine, force: boolean): void {
    const summary = machineSummary(
      machine.device,
      this.options.liveState(machine.device.device_id),
    );
    const key = changeKey(summary);
    if (!force && key === machine.sentKey) return;
    machine.sentKey = key;
    machine.sentAt = this.#clock.now();
    this.#published++;
    const topic = summaryTopic(this.options.prefix, machine.device.device_id);
    void this.options
      .publish(topic, JSON.stringify(summary), { qos: 1, retain: true })
      .then((ok) => {
        // Not delivered: the next connect republishes everything.
        if (!ok && machine.sentKey === key) machine.sentKey = null;
      });
  }

  #clear(deviceId: string): void {
    this.#pendingClears.add(deviceId);
    const topic = summaryTopic(this.options.prefix, deviceId);
    void this.options.publish(topic, '', { qos: 1, retain: true }).then((ok) => {
      if (ok) this.#pendingClears.delete(deviceId);
      else this.options.log?.info({ topic }, 'Summary clear deferred until the broker is back');
    });
  }
}
