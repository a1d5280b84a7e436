/**
 * The device snapshot store (devices/stores.ts `DeviceStore`) on top of the group commit: an event
 * and the snapshot produced with it are staged as ONE write, so they become durable in one
 * transaction, and after a kill -9 the restored actor state always matches the events already in
 * the outbox. Until then the device reads its own snapshot from the staged or in-flight group.
 */
import type { WorkshopEvent } from '@workshop-iot/shared';
import type Database from 'better-sqlite3';
import { snapshotText } from '../devices/snapshot-json.ts';
import type { DeviceStore } from '../devices/stores.ts';
import type { GroupCommit } from './group-commit.ts';

export class SnapshotStore implements DeviceStore {
  readonly #commits: GroupCommit;
  readonly #get: Database.Statement;

  constructor(db: Database.Database, commits: GroupCommit) {
    this.#commits = commits;
    this.#get = db.prepare('SELECT body FROM snapshots WHERE device_id = ?');
  }

  commit(deviceId: string, events: WorkshopEvent[], snapshot: unknown): void {
    const json = snapshotText(snapshot);
    this.#commits.stage({ kind: 'commit', deviceId, events, snapshot: json });
  }

  loadSnapshot(deviceId: string): unknown | null {
    // Newest first: staged, then in flight, then committed. null: deleted there.
    const pending = this.#commits.pendingSnapshot(deviceId);
    if (pending !== undefined) return pending === null ? null : JSON.parse(pending);
    const row = this.#get.get(deviceId) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : null;
  }

  deleteSnapshot(deviceId: string): void {
    this.#commits.stage({ kind: 'delete', deviceId });
  }
}
