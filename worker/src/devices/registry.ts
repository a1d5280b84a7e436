/**
 * The device registry: one session-machine actor per configured device (device-actor.ts), in a Map
 * keyed by device_id. It diffs configs, stamps every input with the clock, restores actors from the
 * store's snapshots (a restart resumes exactly: same session, same seq, debounces and deadlines
 * kept), hands every fresh input to the recording, and stops them all on shutdown. Just over 400
 * lines (STYLE rule 1): the hot path and the config diff read best in one place.
 *
 * Example:
 *   const registry = new DeviceRegistry({ workerUid, store: outbox, log, onPoll: (id) => poll(id) });
 *   registry.apply(config.devices);                       // { added, updated, removed }
 *   registry.input('shelly-1', { kind: 'reading', power_w: 250, energy_wh: 1234.5 });
 *   registry.stop({ closeSessions: false });              // sessions resume after the restart
 */
import type { DeviceConfig, DeviceLiveState } from '@workshop-iot/shared';
import type { Logger } from 'pino';
import { WorkerError } from '../errors.ts';
import { type InputRecorder, recordedInput } from '../recording/recorded-input.ts';
import { type Clock, DeviceActor, type DeviceEnv, type RestoredSnapshot } from './device-actor.ts';
import { type DeviceContext, SNAPSHOT_VERSION } from './session.context.ts';
import type { DeviceStore } from './stores.ts';
import type { DeviceInput, LiveStateListener } from './types.ts';

export type { Clock } from './device-actor.ts';
export { type DeviceStore, LoggingDeviceStore, MemoryDeviceStore } from './stores.ts';

const REVIVE_EVERY_MS = 60_000;

// Delays never exceed 86,400 s (schema bound), far below setTimeout's 2^31-1 ms limit.
const REAL_TIMERS: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export interface DeviceRegistryOptions {
  workerUid: string;
  store: DeviceStore;
  /** Wall clock in ms; default Date.now. Tests pass one fake clock as both clocks. */
  clock?: { now(): number };
  /** Timer source of the actors (xstate `Clock`, e.g. SimulatedClock); default real timers. */
  xstateClock?: Clock;
  log: Logger;
  onLiveState?: LiveStateListener;
  /**
   * Asks the device for its status after `message_timeout_s` of silence. Return `false` when it
   * cannot be polled (no poll request for its parser): it then goes offline at once with reason
   * `silence` instead of waiting for an answer that cannot come. Any other result (`undefined`
   * included) means the poll went out.
   */
  onPoll?: (deviceId: string) => unknown;
  /** The hot-path fast lane (fast-lane.ts); default on. Off only to prove both give equal events. */
  fastLane?: boolean;
  /**
   * Park the XState actor of a device whose readings keep to the fast lane, keeping its snapshot
   * (device-actor.ts, "Parking"); default on. Off only to prove both give equal events.
   */
  park?: boolean;
  /**
   * A parked device's hot state changes without XState (direct-step.ts); default on. Off only to
   * prove both give equal events, or to measure the difference.
   */
  directSteps?: boolean;
  /**
   * The broker may deliver readings it queued while the worker was down (a persistent session):
   * devices resumed from a snapshot are held at its time until `catchUp()` (catch-up.ts), so those
   * readings count at their own time. Default off: they resume at the spawn time.
   */
  backlog?: boolean;
  /** Gets each fresh input at its resolved time (recording), unless `recording: false` (device). */
  recorder?: InputRecorder;
}

export interface ApplyResult {
  added: string[];
  updated: string[];
  removed: string[];
}

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceActor>();
  readonly #env: DeviceEnv;
  readonly #log: Logger;
  readonly #revivedAt = new Map<string, number>();
  readonly #recorder: InputRecorder | undefined;
  #listening = true;
  #replaying = false;
  /** Until the first `catchUp()`: devices resumed from a snapshot are held (`backlog`). */
  #holding: boolean;
  #stopped = false;

  constructor(options: DeviceRegistryOptions) {
    const clock = options.clock ?? { now: Date.now };
    this.#log = options.log;
    this.#holding = options.backlog ?? false;
    this.#recorder = options.recorder;
    this.#env = {
      workerUid: options.workerUid,
      store: options.store,
      xstateClock: options.xstateClock ?? REAL_TIMERS,
      fastLane: options.fastLane ?? true,
      park: options.park ?? true,
      directSteps: options.directSteps ?? true,
      log: options.log,
      onLiveState: options.onLiveState,
      onPoll: options.onPoll,
      now: () => clock.now(),
    };
  }

  /**
   * Diffs by device_id. `updated` lists devices whose config changed in any field; only a changed
   * `session_config` reaches the actor (thresholds and timers change, the open session stays).
   * A removed device's session ends with reason `removed` and its snapshot is deleted.
   */
  apply(devices: DeviceConfig[]): ApplyResult {
    if (this.#stopped) throw new WorkerError('INTERNAL_ERROR', {}, { reason: 'registry_stopped' });
    const result: ApplyResult = { added: [], updated: [], removed: [] };
    const wanted = new Set(devices.map((d) => d.device_id));
    const at = this.#env.now();
    for (const [id, device] of this.#devices) {
      if (wanted.has(id)) continue;
      device.send({ type: 'REMOVE', at }, false);
      device.stop();
      // Keep the seq so a device configured again continues its sequence: seq is per-device monotonic
      // for Odoo's gap detection, even across a removal.
      const tombstone: DeviceTombstone = { tombstone: true, deviceId: id, seq: device.seq };
      this.#env.store.commit(id, [], tombstone);
      this.#devices.delete(id);
      result.removed.push(id);
    }
    for (const config of devices) {
      const device = this.#devices.get(config.device_id);
      if (!device) {
        this.#devices.set(config.device_id, this.#spawn(config, at));
        result.added.push(config.device_id);
      } else if (!sameJson(device.config, config)) {
        const sessionChanged = !sameJson(device.config.session_config, config.session_config);
        device.config = config;
        // A held device takes it at its own time: the backlog still to come is judged by it.
        const from = device.held ? device.now : at;
        if (sessionChanged)
          device.send({ type: 'CONFIG', at: from, config: config.session_config });
        result.updated.push(config.device_id);
      }
    }
    return result;
  }

  /**
   * Hands one parsed message to the device (the hot path). Unknown devices are ignored. A retained
   * message (`meta.retained`, an MQTT replay) is a sign of life only: it never starts or stops a
   * session and never touches power or energy, and is not recorded (it repeats an old message).
   * Throws a WorkerError only on a bug (invalid event).
   */
  input(deviceId: string, input: DeviceInput, meta?: { retained?: boolean }): void {
    let device = this.#devices.get(deviceId);
    if (!device || this.#stopped) return;
    const now = this.#env.now();
    if (device.failed) {
      device = this.#revive(device, now);
      if (!device) return;
    }
    const retained = meta?.retained === true;
    // Only a message the meter sends now shows its usual interval: not a retained replay, not the
    // broker's queued backlog.
    if (!retained && !this.#replaying && !device.held) device.heard(now);
    // A held device's own clock is the backlog's: see `#heldTime`.
    let at = now;
    if (device.held) at = this.#heldTime(device, input, now);
    else if (input.kind === 'reading' && input.at !== undefined && this.#replaying)
      at = deviceTime(input.at, device.now, now);
    if (this.#recorder && !retained && device.config.recording !== false)
      this.#recorder.record(deviceId, recordedInput(input, at));
    if (input.kind === 'reading') {
      device.reading({
        type: 'READING',
        at,
        power_w: input.power_w,
        energy_wh: input.energy_wh,
        retained,
      });
    } else if (input.kind === 'availability') {
      device.send({ type: 'AVAILABILITY', at, online: input.online, retained });
    } else {
      device.send({ type: 'ALIVE', at, retained });
    }
  }

  /**
   * The time of an input to a held device (catch-up.ts). A backlog reading with the device's own
   * time counts at it (`deviceTime`) once the deadlines passed on the way have decided; a sign of
   * life or an availability carries no time and counts at the device's time (in order, liveness is
   * paused anyway). A reading without own time counts at its arrival: the device catches up to
   * now first (later backlog readings then count at now, in order), as does any input once the
   * replay is over.
   */
  #heldTime(device: DeviceActor, input: DeviceInput, now: number): number {
    if (this.#replaying && input.kind !== 'reading') return device.now;
    if (!this.#replaying || input.kind !== 'reading' || input.at === undefined) {
      this.#release(device, now);
      return now;
    }
    const at = deviceTime(input.at, device.now, now);
    device.catchUpTo(at);
    return at;
  }

  /**
   * The backlog is delivered (every SUBSCRIBE of the connection answered): every held device
   * catches up to now, its debounces deciding at their own deadlines, and listens again (the
   * silence clock starts now). Later restored devices resume at the spawn time.
   */
  catchUp(): void {
    this.#holding = false;
    if (this.#stopped) return;
    const now = this.#env.now();
    for (const device of this.#devices.values()) this.#release(device, now);
  }

  #release(device: DeviceActor, now: number): void {
    if (!device.held) return;
    device.release(now);
    if (!this.#listening) device.send({ type: 'LISTEN', at: now, listening: false }, false);
  }

  /**
   * Tells the devices whether the broker connection is up. While it is down, silence is not the
   * devices' fault: liveness is paused (no polls, nobody goes offline) and the silence clock
   * restarts on reconnect.
   */
  setBrokerConnected(connected: boolean): void {
    if (this.#listening === connected || this.#stopped) return;
    this.#listening = connected;
    const at = this.#env.now();
    for (const device of this.#devices.values()) {
      device.notListening();
      if (!device.held) device.send({ type: 'LISTEN', at, listening: connected }, false);
    }
  }

  /**
   * While on, a reading that carries the device's own time is dated by it (within [the device's
   * time, now], see `deviceTime`): the broker is delivering what it queued while the worker was
   * away (from CONNACK until the connection's SUBSCRIBEs are answered). Off, the arrival time
   * counts: for a live message it is the truth, and a device clock that is off (a Shelly before
   * its SNTP sync reports 1970) must not date it.
   */
  setReplaying(on: boolean): void {
    this.#replaying = on;
    if (on) for (const device of this.#devices.values()) device.notListening();
  }

  /**
   * Asks every pollable device for its status now (after start and after each broker reconnect,
   * once the subscriptions are answered): a restarted worker does not know any meter's present
   * power until the meter next speaks, which may be minutes at steady power. The answer comes in as
   * a normal reading. Unlike a silence poll, nothing waits for it: a device that cannot be polled
   * is skipped, and liveness stays with the silence deadline. Returns the devices polled.
   */
  pollAll(): string[] {
    const onPoll = this.#env.onPoll;
    if (!onPoll || this.#stopped) return [];
    const polled: string[] = [];
    for (const id of this.#devices.keys()) {
      try {
        if (onPoll(id) !== false) polled.push(id);
      } catch (err) {
        this.#log.warn({ err, device_id: id }, 'Polling the device failed');
      }
    }
    return polled;
  }

  liveStates(): DeviceLiveState[] {
    const now = this.#env.now();
    return [...this.#devices.values()].map((device) => device.liveState(now));
  }

  liveState(deviceId: string): DeviceLiveState | undefined {
    return this.#devices.get(deviceId)?.liveState(this.#env.now());
  }

  /** Readings booked on the fast lane by the devices held now (since each was created). */
  fastLaneReadings(): number {
    let n = 0;
    for (const actor of this.#devices.values()) n += actor.fastLaneReadings;
    return n;
  }

  /** Devices parked now, and how often the devices held now were parked (device-actor.ts). */
  parking(): { parked: number; parkings: number } {
    let parked = 0;
    let parkings = 0;
    for (const actor of this.#devices.values()) {
      if (actor.parked) parked++;
      parkings += actor.parkings;
    }
    return { parked, parkings };
  }

  /** State changes the devices held now took as direct steps, without XState (direct-step.ts). */
  directSteps(): number {
    let steps = 0;
    for (const actor of this.#devices.values()) steps += actor.directSteps;
    return steps;
  }

  get size(): number {
    return this.#devices.size;
  }

  /**
   * Stops every actor and its timers, writing each latest snapshot. With `closeSessions`, open
   * sessions end with reason `shutdown`; without (the default of the worker config), they stay
   * open in the snapshots and resume after a restart. A stopped registry cannot be restarted.
   */
  stop(opts: { closeSessions: boolean }): void {
    if (this.#stopped) return;
    const at = this.#env.now();
    for (const device of this.#devices.values()) {
      if (opts.closeSessions) device.send({ type: 'SHUTDOWN', at }, false);
      device.stop();
    }
    this.#devices.clear();
    this.#stopped = true;
  }

  /**
   * A device whose actor died (a bug in an action) restarts from its last committed snapshot, at
   * most once per REVIVE_EVERY_MS, so one bad device never takes the worker or its peers down.
   */
  #revive(dead: DeviceActor, at: number): DeviceActor | undefined {
    const last = this.#revivedAt.get(dead.deviceId);
    if (last !== undefined && at - last < REVIVE_EVERY_MS) return undefined;
    this.#revivedAt.set(dead.deviceId, at);
    this.#log.error(
      { device_id: dead.deviceId },
      'Reviving a failed device from its last snapshot',
    );
    dead.stop();
    let device = this.#spawn(dead.config, at);
    if (device.failed) {
      // The snapshot itself is poison: start afresh rather than stay dead (its session is lost).
      this.#log.error({ device_id: dead.deviceId }, 'Snapshot cannot be resumed; starting afresh');
      device.stop();
      // Its seq continues: seq is per-device monotonic for Odoo even when the session is lost.
      device = this.#spawn(dead.config, at, { seq: Math.max(dead.seq, device.seq) });
    }
    this.#devices.set(dead.deviceId, device);
    return device;
  }

  /** A device's actor: resumed from its snapshot, or `fresh` (no snapshot) continuing a known seq. */
  #spawn(config: DeviceConfig, at: number, fresh?: { seq: number }): DeviceActor {
    const id = config.device_id;
    if (fresh) return this.#listen(new DeviceActor(this.#env, config, null, at, fresh.seq), at);
    const stored = this.#env.store.loadSnapshot(id);
    if (isTombstone(stored))
      return this.#listen(new DeviceActor(this.#env, config, null, at, stored.seq), at);
    const restored = this.#restorable(id, stored);
    if (!restored || !this.#holding)
      return this.#listen(new DeviceActor(this.#env, config, restored, at), at);
    // Held at its snapshot's time, liveness paused, until the backlog is replayed (catch-up.ts).
    const from = Math.min(at, restored.context.now);
    const device = new DeviceActor(this.#env, config, restored, from, 0, true);
    device.send({ type: 'LISTEN', at: from, listening: false }, false);
    return device;
  }

  #listen(device: DeviceActor, at: number): DeviceActor {
    if (!this.#listening) device.send({ type: 'LISTEN', at, listening: false }, false);
    return device;
  }

  /** The stored snapshot when usable; an unusable one is logged and the device starts afresh. */
  #restorable(deviceId: string, snapshot: unknown): RestoredSnapshot | null {
    const stored = snapshot as {
      status?: unknown;
      context?: Partial<DeviceContext>;
    } | null;
    if (!stored) return null;
    const ctx = stored.context;
    if (
      stored.status !== 'active' ||
      ctx?.version !== SNAPSHOT_VERSION ||
      ctx.deviceId !== deviceId
    ) {
      this.#log.warn(
        { device_id: deviceId, version: ctx?.version, status: stored.status },
        'Discarding an unusable device snapshot; the device starts afresh',
      );
      return null;
    }
    return stored as unknown as RestoredSnapshot;
  }
}

/**
 * The time of a reading that carries the device's own time (`devTime`): never before the device's
 * logical time (`floor`: its state machine must not go backwards, so an older reading counts at the
 * last known time, in arrival order) and never after the wall clock (a device clock running ahead).
 */
export function deviceTime(devTime: number, floor: number, now: number): number {
  return Math.min(Math.max(devTime, floor), Math.max(now, floor));
}

/** Structural equality of JSON values (configs): key order does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && sameJson(ra[k], rb[k]));
}

/** What stays of a removed device: its last seq, so a re-added device continues the sequence. */
interface DeviceTombstone {
  tombstone: true;
  deviceId: string;
  seq: number;
}

function isTombstone(value: unknown): value is DeviceTombstone {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { tombstone?: unknown }).tombstone === true &&
    typeof (value as { seq?: unknown }).seq === 'number'
  );
}
