/**
 * `config.apply`: the single path by which a new `WorkerConfig` takes effect, whether Odoo pushed it
 * (JSON-RPC) or `worker.hello` pulled it.
 *
 * validate (field errors back, old config kept) -> worker check -> version check (older: error; same:
 * no-op `applied: false`) -> diff -> persist atomically -> hand to the targets in registration order
 * (device registry, ingest + MQTT subscriptions, broker). Applies are serialised, so two pushes racing
 * each other are applied one after the other and the version rule decides.
 *
 * Persist comes before the targets on purpose: `applied: true` promises the config survives a crash.
 * A target that throws on a valid config is a bug in that module: it is logged, the rest still run.
 */
import {
  type ConfigApplyResult,
  type ConfigChanges,
  type DeviceConfig,
  validate,
  type WorkerConfig,
} from '@workshop-iot/shared';
import { WorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConfigStore, StoredConfig } from './store.ts';

/** Something that must follow the config (registry, ingest, MQTT). */
export interface ConfigTarget {
  name: string;
  apply(next: WorkerConfig, changes: ConfigChanges, prev: WorkerConfig): void | Promise<void>;
}

export type ApplySource = 'rpc' | 'hello' | 'start';

export interface ConfigManagerOptions {
  initial: WorkerConfig;
  appliedAt: string | null;
  store: Pick<ConfigStore, 'save'>;
  workerUid: string;
  log: Logger;
  now?: () => Date;
}

export class ConfigManager {
  #config: WorkerConfig;
  #appliedAt: string | null;
  readonly #targets: ConfigTarget[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  readonly #now: () => Date;

  readonly #options: ConfigManagerOptions;

  constructor(options: ConfigManagerOptions) {
    this.#options = options;
    this.#config = options.initial;
    this.#appliedAt = options.appliedAt;
    this.#now = options.now ?? (() => new Date());
  }

  current(): { config: WorkerConfig; applied_at: string | null } {
    return { config: this.#config, applied_at: this.#appliedAt };
  }

  get version(): number {
    return this.#config.version;
  }

  addTarget(target: ConfigTarget): void {
    this.#targets.push(target);
  }

  /** Validates and applies `candidate`; throws a `WorkerError` (old config kept) when refused. */
  apply(candidate: unknown, source: ApplySource): Promise<ConfigApplyResult> {
    const run = this.#queue.then(() => this.#applyNow(candidate, source));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #applyNow(candidate: unknown, source: ApplySource): Promise<ConfigApplyResult> {
    const log = this.#options.log;
    const errors = validate('worker_config', candidate);
    if (errors.length > 0) {
      log.warn({ source, errors: errors.slice(0, 20) }, 'Config refused: validation failed');
      throw new WorkerError('CONFIG_INVALID', { count: errors.length }, { errors });
    }
    const next = candidate as WorkerConfig;
    if (next.worker_uid !== undefined && next.worker_uid !== this.#options.workerUid)
      throw new WorkerError('CONFIG_WORKER_MISMATCH', {
        got: next.worker_uid,
        expected: this.#options.workerUid,
      });
    const prev = this.#config;
    if (next.version < prev.version)
      throw new WorkerError('CONFIG_VERSION_OLDER', {
        version: next.version,
        applied: prev.version,
      });
    if (next.version === prev.version && this.#appliedAt !== null) {
      if (stableJson(next) !== stableJson(prev))
        log.warn(
          { version: next.version },
          'Config with an applied version but other content ignored',
        );
      return { applied: false, version: prev.version, changes: emptyChanges() };
    }
    const changes = diffConfig(prev, next);
    const stored: StoredConfig = { config: next, applied_at: this.#now().toISOString() };
    this.#options.store.save(stored);
    this.#config = next;
    this.#appliedAt = stored.applied_at;
    for (const target of this.#targets) {
      try {
        await target.apply(next, changes, prev);
      } catch (err) {
        log.error({ err, target: target.name, version: next.version }, 'Config target failed');
      }
    }
    log.info(
      {
        source,
        version: next.version,
        added: changes.added.length,
        updated: changes.updated.length,
        removed: changes.removed.length,
        broker_changed: changes.broker_changed,
      },
      'Config applied',
    );
    return { applied: true, version: next.version, changes };
  }
}

export const emptyChanges = (): ConfigChanges => ({
  added: [],
  updated: [],
  removed: [],
  broker_changed: false,
});

/** Device-level diff by `device_id` plus whether the broker settings changed. */
export function diffConfig(prev: WorkerConfig, next: WorkerConfig): ConfigChanges {
  const before = new Map<string, DeviceConfig>(prev.devices.map((d) => [d.device_id, d]));
  const after = new Map<string, DeviceConfig>(next.devices.map((d) => [d.device_id, d]));
  const changes = emptyChanges();
  for (const [id, device] of after) {
    const old = before.get(id);
    if (!old) changes.added.push(id);
    else if (stableJson(old) !== stableJson(device)) changes.updated.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) changes.removed.push(id);
  changes.broker_changed = stableJson(prev.broker) !== stableJson(next.broker);
  return changes;
}

/** JSON with sorted keys, so key order in a pushed document never counts as a change. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
