/**
 * Where the device registry writes events and actor snapshots. The SQLite outbox implements
 * `DeviceStore` for production; the two stores here serve the log-only mode and tests.
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import type { Logger } from 'pino';
import { snapshotObject, snapshotText } from './snapshot-json.ts';

export interface DeviceStore {
  /**
   * Atomic: the events and the persisted snapshot become durable together, or neither does. The
   * snapshot is an object to serialise, or a SerializedSnapshot (the devices' own, already JSON).
   */
  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void;
  loadSnapshot(deviceId: string): unknown | null;
  deleteSnapshot(deviceId: string): void;
}

/**
 * In-memory store for tests: keeps every committed event in order and snapshots as JSON copies,
 * so a test that restores from it also proves the snapshot survives serialisation.
 */
export class MemoryDeviceStore implements DeviceStore {
  readonly events: WorkshopEvent[] = [];
  readonly snapshots = new Map<string, string>();
  commits = 0;

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    this.commits++;
    this.events.push(...events);
    this.snapshots.set(deviceId, snapshotText(snapshot) ?? 'null');
  }

  loadSnapshot(deviceId: string): unknown | null {
    const json = this.snapshots.get(deviceId);
    return json === undefined ? null : JSON.parse(json);
  }

  deleteSnapshot(deviceId: string): void {
    this.snapshots.delete(deviceId);
  }

  eventsOf(deviceId: string): WorkshopEvent[] {
    return this.events.filter((e) => e.device_id === deviceId);
  }
}

/**
 * Runs the worker without an outbox (log-only mode): events go to the log at info level, snapshots
 * stay in memory (a restart starts every device afresh).
 */
export class LoggingDeviceStore implements DeviceStore {
  readonly #snapshots = new Map<string, unknown>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    for (const event of events) this.#log.info({ device_id: deviceId, event }, 'Event');
    this.#snapshots.set(deviceId, snapshotObject(snapshot));
  }

  loadSnapshot(deviceId: string): unknown | null {
    return this.#snapshots.get(deviceId) ?? null;
  }

  deleteSnapshot(deviceId: string): void {
    this.#snapshots.delete(deviceId);
  }
}
