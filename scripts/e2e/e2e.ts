/**
 * End-to-end test against the real stack: Odoo 18 (ODOO_SRC) + PostgreSQL, Debian mosquitto, the
 * worker as a child process, the simulator library (scripts/sim). Run by scripts/e2e/run.sh:
 *
 *   node --import tsx scripts/e2e/e2e.ts [--keep]      # --keep: leave database and state dir
 *   node --import tsx scripts/e2e/e2e.ts --screenshots addon/workshop_iot_account/static/description
 *
 * Phases: stack up -> machine lifecycle (phase-lifecycle.ts) -> discovered meters become machines
 * (phase-discovery.ts) -> Calibrate one of them against the real worker (phase-calibration.ts) ->
 * a badge puts a session on a member, invoiced (phase-billing.ts) -> SIGKILL + Odoo outage
 * (phase-recovery.ts) -> integrity (integrity.ts). Every wait polls a condition with a deadline.
 * The last line printed is `N passed, N failed`; the exit code is 1 when anything failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropDatabase, OdooJsonRpc } from '../dev/odoo.ts';
import { Stack } from '../dev/stack.ts';
import { tail } from '../dev/util.ts';
import { freePort } from '../lib/net.ts';
import { Checks, exitWith, runScenario } from './checks.ts';
import type { Ctx } from './context.ts';
import { integrityChecks } from './integrity.ts';
import { OdooTap } from './odoo-tap.ts';
import { billingPhase } from './phase-billing.ts';
import { calibrationPhase } from './phase-calibration.ts';
import { discoveryPhase } from './phase-discovery.ts';
import { lifecyclePhase } from './phase-lifecycle.ts';
import { type RecoveryFacts, recoveryPhase } from './phase-recovery.ts';

/** Hard stop for a hung run (the scenario itself takes about 5 minutes). */
const GLOBAL_DEADLINE_MS = 10 * 60_000;

function argValue(flag: string): string | null {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}

// Over 50 lines on purpose: setup, the phases, and a teardown that must run on every exit path.
async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  const checks = new Checks();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wiot-e2e-'));
  const db = `wiot_e2e_${process.pid}_${Date.now().toString(36)}`;
  const odooPort = await freePort();
  const tap = new OdooTap(`http://127.0.0.1:${odooPort}`);
  await tap.start();
  const stack = new Stack({
    stateDir,
    db,
    httpPort: odooPort,
    workerUid: 'e2e-worker',
    // Invoicing is a glue module: the billing phase ends with a draft invoice. Maintenance is
    // installed so that its hooks in the fold run in the end-to-end flow too.
    modules: [
      'workshop_iot',
      'workshop_iot_account',
      'workshop_iot_portal',
      'workshop_iot_maintenance',
    ],
    // One cron thread: the fold cron turns stored events into sessions and live state (ingest
    // only stores). Other crons (5-min health check and stale sessions, 1-min push retry) leave
    // this ~2-minute scenario alone: the worker stays configured and never silent for 5 minutes.
    maxCronThreads: 1,
    workerStatusIntervalS: 5,
    workerOdooUrl: () => tap.url,
    log: (line) => console.log(`         ${line}`),
  });
  console.log(
    `end-to-end: database ${db}, state ${stateDir}, Odoo port ${odooPort}, tap ${tap.url}`,
  );

  let tornDown = false;
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    await stack.down();
    await tap.close();
    if (checks.failed > 0) {
      for (const [name, file] of Object.entries(stack.info?.logs ?? {})) {
        if (!file) continue;
        console.log(`\n----- ${name} log (last lines of ${file}) -----\n${tail(file, 25)}`);
      }
    }
    if (!keep) {
      await dropDatabase(db).catch((err: Error) => console.log(`dropdb: ${err.message}`));
      if (checks.failed === 0) fs.rmSync(stateDir, { recursive: true, force: true });
      else console.log(`logs kept in ${stateDir}`);
    } else console.log(`kept: database ${db}, state dir ${stateDir}`);
  };
  const abort = async (why: string) => {
    console.log(`\n${why}: tearing down`);
    await checks.check(why, async () => {
      throw new Error(why);
    });
    await teardown();
    checks.summary();
    process.exit(1);
  };
  const deadline = setTimeout(() => void abort('global deadline exceeded'), GLOBAL_DEADLINE_MS);
  process.once('SIGINT', () => void abort('interrupted (SIGINT)'));
  process.once('SIGTERM', () => void abort('terminated (SIGTERM)'));

  return runScenario(
    checks,
    async () => {
      const info = await checks.step(
        'stack up: database, mosquitto, Odoo, worker (config pulled)',
        () => stack.up(),
      );
      if (info) {
        const rpc = new OdooJsonRpc(info.odooUrl, info.db);
        await rpc.authenticate(info.adminLogin, info.adminPassword);
        const ctx: Ctx = {
          checks,
          stack,
          info,
          rpc,
          relogin: async () => {
            await rpc.authenticate(info.adminLogin, info.adminPassword);
          },
          control: stack.control!,
          tap,
          devices: new Set(),
          screenshots: argValue('--screenshots'),
        };
        await lifecyclePhase(ctx);
        checks.unblock();
        await discoveryPhase(ctx);
        checks.unblock();
        await calibrationPhase(ctx);
        checks.unblock();
        await billingPhase(ctx);
        checks.unblock();
        const facts: RecoveryFacts = await recoveryPhase(ctx);
        checks.unblock();
        if (!stack.odoo?.running) await stack.odoo?.start();
        await ctx.relogin();
        await integrityChecks(ctx, facts);
      }
    },
    async () => {
      clearTimeout(deadline);
      await teardown();
    },
  );
}

exitWith(main, 'end-to-end');
