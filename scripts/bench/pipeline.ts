/**
 * The worker's intake pipeline as `worker/src/app.ts` wires it, minus HTTP and Odoo:
 * Ingest -> DeviceRegistry (real timers) -> store. The store is the SQLite outbox (as in production)
 * when worker/src/outbox exists, else the in-memory store; `storeKind` says which, since the
 * outbox's JSON + SQLite work is a large part of the cost per event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceConfig } from '@workshop-iot/shared';
import {
  DeviceRegistry,
  type DeviceStore,
  MemoryDeviceStore,
} from '../../worker/src/devices/registry.ts';
import { silentLogger } from '../../worker/src/log.ts';
import { Ingest } from '../../worker/src/mqtt/ingest.ts';

export interface Pipeline {
  storeKind: string;
  registry: DeviceRegistry;
  ingest: Ingest;
  /** Events made durable so far. */
  events(): number;
  /** Commit whatever the store has staged (the outbox commits once per event-loop turn). */
  flush(): void;
  stop(): void;
}

interface OpenedStore {
  kind: string;
  store: DeviceStore;
  events(): number;
  flush(): void;
  close(): void;
}

export async function buildPipeline(
  devices: DeviceConfig[],
  options: { park?: boolean; directSteps?: boolean } = {},
): Promise<Pipeline> {
  const log = silentLogger();
  const opened = await openStore();
  const registry = new DeviceRegistry({
    workerUid: 'bench',
    store: opened.store,
    xstateClock: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id),
    },
    log,
    onLiveState: () => {},
    park: options.park ?? true,
    directSteps: options.directSteps ?? true,
  });
  registry.apply(devices);
  registry.setBrokerConnected(true);
  const ingest = new Ingest({ onInput: (id, input, meta) => registry.input(id, input, meta) });
  ingest.setDevices(devices);
  return {
    storeKind: opened.kind,
    registry,
    ingest,
    events: opened.events,
    flush: opened.flush,
    stop: () => {
      registry.stop({ closeSessions: false });
      opened.close();
    },
  };
}

async function openStore(): Promise<OpenedStore> {
  let module: typeof import('../../worker/src/outbox/outbox.ts');
  try {
    module = await import('../../worker/src/outbox/outbox.ts');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const store = new MemoryDeviceStore();
    return {
      kind: 'memory store (worker/src/outbox/outbox.ts not found)',
      store,
      events: () => store.events.length,
      flush: () => {},
      close: () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
  let events = 0;
  const outbox = new module.Outbox({
    dir,
    log: silentLogger(),
    maxEvents: 1_000_000_000,
    onCommitted: (committed) => {
      events += committed.length;
    },
  });
  return {
    kind: `SQLite outbox (synchronous=FULL, group commit per event-loop turn, groups >= ${module.GROUP_INTERVAL_MS} ms apart under load, temp dir)`,
    store: outbox,
    events: () => events,
    flush: () => outbox.flush(),
    close: () => {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
