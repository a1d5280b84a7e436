/**
 * The real stack the latency benches (e2e-latency, dashboard-latency) measure: Odoo with one cron
 * thread (the fold competes for the CPU as in a deployment), the worker at log level debug and
 * Odoo with WORKSHOP_IOT_RPC_TIMINGS=1 (their timing lines feed the per-phase split, phases.ts),
 * mosquitto. Without an Odoo tree it prints the bench's SKIPPED result and gives null.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeviceConfig } from '@workshop-iot/shared';
import { DEFAULT_ODOO_SRC, dropDatabase } from '../dev/odoo.ts';
import { Stack } from '../dev/stack.ts';
import { printResult } from './result.ts';

export interface LatencyStack {
  stack: Stack;
  db: string;
  stateDir: string;
  /** Stops the stack; drops the database and the state dir unless kept (or reused). */
  down(keep: boolean): Promise<void>;
}

export function latencyStack(o: {
  bench: string;
  workerUid: string;
  devices: DeviceConfig[];
  /** An installed database to reuse (--reuse-db) instead of a new one. */
  reuse: string | undefined;
}): LatencyStack | null {
  const odooSrc = process.env.ODOO_SRC || DEFAULT_ODOO_SRC;
  if (!fs.existsSync(path.join(odooSrc, 'odoo-bin'))) {
    console.log(`SKIPPED: no Odoo 18 tree at ODOO_SRC=${odooSrc}`);
    printResult({ bench: o.bench, metrics: [], notes: [`skipped: no Odoo tree at ${odooSrc}`] });
    return null;
  }
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `wiot-bench-${o.bench}-`));
  const db = o.reuse ?? `wiot_bench_${o.bench.replace(/-/g, '_')}_${process.pid}`;
  const stack = new Stack({
    stateDir,
    db,
    ...(o.reuse ? { reuse: true } : {}),
    workerUid: o.workerUid,
    devices: o.devices,
    maxCronThreads: 1, // the fold cron runs as in a deployment (it competes for the CPU)
    // Timing lines for the phase split: the worker's at debug, Odoo's with the flag (INFO).
    workerLogLevel: 'debug',
    odooEnv: { WORKSHOP_IOT_RPC_TIMINGS: '1' },
    log: (line) => console.error(`[${o.bench}] ${line}`),
  });
  return {
    stack,
    db,
    stateDir,
    down: async (keep) => {
      await stack.down();
      if (keep || o.reuse) console.error(`[${o.bench}] kept database ${db} and ${stateDir}`);
      else {
        await dropDatabase(db).catch(() => undefined);
        fs.rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}
