/**
 * The real stack the latency benches (e2e-latency, dashboard-latency) measure: Odoo with one cron
 * thread (the fold competes for the CPU as in a deployment), the worker at log level debug and
 * Odoo with WORKSHOP_IOT_RPC_TIMINGS=1 (their timing lines feed the per-phase split, phases.ts),
 * mosquitto. Without an Odoo tree it prints the bench's SKIPPED result and gives null.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
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

/** The latency benches' command line: sample count, machines, interval, --keep, --reuse-db. */
export function latencyArgs(defaults: { samples: number; devices: number; intervalMs: number }) {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: String(defaults.samples) },
      devices: { type: 'string', default: String(defaults.devices) },
      'interval-ms': { type: 'string', default: String(defaults.intervalMs) },
      keep: { type: 'boolean', default: false },
      /** An existing database with workshop_iot (e.g. a copy: createdb -T): updated, not installed. */
      'reuse-db': { type: 'string' },
    },
  });
  return {
    samples: Number(values.samples),
    devices: Number(values.devices),
    intervalMs: Number(values['interval-ms']),
    keep: values.keep === true,
    reuseDb: values['reuse-db'],
  };
}

/**
 * Shelly Gen2 machines that switch at once (no debounce) and send nothing but the measured
 * readings: no polls, no heartbeats within the measurement.
 */
export function benchMachines(count: number, idPrefix: string, name: string): DeviceConfig[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    return {
      device_id: `${idPrefix}-${n}`,
      name: `${name} ${n}`,
      parser_type: 'shelly_gen2',
      topic: `${idPrefix}-${n}`,
      session_config: {
        standby_threshold_w: 10,
        working_threshold_w: 100,
        start_debounce_s: 0,
        stop_debounce_s: 0,
        message_timeout_s: 3600,
        heartbeat_interval_s: 3600,
      },
    };
  });
}
