/**
 * Phase 2, failures mid-stream: six simulated meters (two per family) run a session each; the
 * worker is killed with SIGKILL while they work (its "offline" alert goes to its responsible user,
 * and is done once it is back: worker-alert.ts) and restarted; then Odoo is stopped (SIGTERM)
 * while the meters keep publishing (heartbeats and the session stops pile up in the outbox), the
 * worker is killed once more with that outbox undelivered, and Odoo is started again on the same
 * database and port. Afterwards the outbox must drain, every event be in
 * Odoo exactly once and each machine have exactly one unbroken session (integrity.ts).
 */

import { waitFor } from '../lib/wait.ts';
import { Simulator } from '../sim/simulator.ts';
import { assert } from './checks.ts';
import { type Ctx, deviceVals, sessionsOf, workerHasDevices } from './context.ts';
import { deadLetters, type PendingRow, readOutbox } from './outbox-reader.ts';
import {
  expectOfflineAlert,
  expectOfflineAlertDone,
  giveWorkerAResponsible,
} from './worker-alert.ts';

/** x30: 0 W until 2 s, standby until 6 s, working until 20 s, standby until 24 s, then off. */
const SPEED = 30;
const SESSION_CONFIG = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 2,
  stop_debounce_s: 2,
  message_timeout_s: 30,
  // The schema's minimum: the most events while Odoo is down.
  heartbeat_interval_s: 5,
};

export interface RecoveryFacts {
  /** Events in the outbox right after the SIGKILL (committed, not yet acknowledged). */
  pendingAtKill: PendingRow[];
  /** Events in the outbox at the second SIGKILL, while Odoo was down (must survive the kill). */
  pendingAtSecondKill: PendingRow[];
  /** Events in the outbox just before Odoo came back. */
  pendingAtOdooRestart: PendingRow[];
  deviceIds: string[];
}

// Over 50 lines on purpose: one phase of the scenario, its steps in order, read top to bottom.
export async function recoveryPhase(ctx: Ctx): Promise<RecoveryFacts> {
  const { checks, info, stack } = ctx;
  const facts: RecoveryFacts = {
    pendingAtKill: [],
    pendingAtSecondKill: [],
    pendingAtOdooRestart: [],
    deviceIds: [],
  };
  const sim = new Simulator({
    brokerUrl: info.brokerUrl,
    ...(info.brokerUsername ? { username: info.brokerUsername } : {}),
    ...(info.brokerPassword ? { password: info.brokerPassword } : {}),
    scenario: 'full-session',
    devices: 6,
    prefix: 'e2e-crash',
    speed: SPEED,
    // Tasmota reports every TelePeriod: 60 simulated s = 2 real s at x30.
    telePeriodS: 60,
    log: () => undefined,
  });
  const configs = sim.deviceConfigs().map((c) => ({ ...c, session_config: SESSION_CONFIG }));
  facts.deviceIds = configs.map((c) => c.device_id);
  for (const id of facts.deviceIds) ctx.devices.add(id);
  let recordIds: number[] = [];

  await checks.step(
    'admin creates six machines (Shelly Gen2, Gen1, Tasmota) in one call',
    async () => {
      recordIds = await ctx.rpc.callKw<number[]>('workshop.device', 'create', [
        configs.map((c) => deviceVals(ctx, c)),
      ]);
      assert(recordIds.length === 6, `created ${recordIds.length}`);
      await waitFor(
        () => workerHasDevices(ctx, facts.deviceIds),
        'the six machines in config.get',
        20_000,
        100,
      );
    },
  );

  try {
    await checks.step('all six sessions run and Odoo shows the machines working', async () => {
      await sim.start();
      await waitFor(
        async () => {
          const rows = await ctx.rpc.searchRead<{ live_state: string }>(
            'workshop.device',
            [['id', 'in', recordIds]],
            ['live_state'],
          );
          const sessions = await sessionsOf(ctx, recordIds);
          return (
            rows.length === 6 &&
            rows.every((r) => r.live_state === 'working') &&
            sessions.filter((s) => s.state === 'running').length === 6
          );
        },
        'six running sessions and six working machines in Odoo',
        20_000,
        200,
      );
    });

    let responsible = 0;
    await checks.step('SIGKILL the worker mid-session, start it again', async () => {
      responsible = await giveWorkerAResponsible(ctx);
      const pid = stack.worker!.pid;
      await stack.worker!.kill();
      facts.pendingAtKill = readOutbox(info.workerDataDir);
      console.log(
        `         killed pid ${pid}; ${facts.pendingAtKill.length} event(s) committed but unacknowledged`,
      );
      await checks.check("the killed worker's offline activity goes to its responsible, once", () =>
        expectOfflineAlert(ctx, responsible),
      );
      await stack.worker!.start();
      await waitFor(
        async () => (await ctx.control.health()).broker.connected,
        'the restarted worker connected to the broker',
        20_000,
        100,
      );
      await checks.check('the worker is back: its offline activity is done', () =>
        expectOfflineAlertDone(ctx),
      );
    });

    let failedBefore = 0;
    await checks.step('SIGTERM Odoo while the meters keep publishing', async () => {
      const how = await stack.odoo!.stop();
      assert(how === 'term', 'Odoo needed SIGKILL after SIGTERM');
      failedBefore = ctx.tap.stats.failed;
    });

    await checks.step(
      'SIGKILL the worker again while Odoo is down: its outbox survives',
      async () => {
        // Wait until heartbeats pile up undelivered, then kill: they exist only in the outbox now.
        await waitFor(
          () => readOutbox(info.workerDataDir).some((r) => r.type === 'session_heartbeat'),
          'an undelivered heartbeat in the outbox',
          20_000,
          200,
        );
        await stack.worker!.kill();
        facts.pendingAtSecondKill = readOutbox(info.workerDataDir);
        await stack.worker!.start();
        const after = new Set(readOutbox(info.workerDataDir).map((r) => r.event_uid));
        const lost = facts.pendingAtSecondKill.filter((r) => !after.has(r.event_uid));
        assert(lost.length === 0, `lost by the kill: ${JSON.stringify(lost)}`);
        console.log(
          `         ${facts.pendingAtSecondKill.length} unacknowledged event(s) survived kill -9`,
        );
      },
    );

    await checks.step(
      'the sessions end while Odoo is down: every stop waits in the outbox',
      async () => {
        facts.pendingAtOdooRestart = await waitFor(
          () => {
            const rows = readOutbox(info.workerDataDir);
            const stopped = new Set(
              rows.filter((r) => r.type === 'session_stopped').map((r) => r.device_id),
            );
            return facts.deviceIds.every((id) => stopped.has(id)) ? rows : null;
          },
          'every session_stopped queued in the outbox while Odoo is down',
          45_000,
          200,
        );
        assert(
          ctx.tap.stats.failed > failedBefore,
          'the worker never tried to deliver during the outage',
        );
        const h = await ctx.control.health();
        assert(h.odoo.last_error !== null, 'worker health shows no Odoo error during the outage');
        console.log(
          `         ${facts.pendingAtOdooRestart.length} event(s) waiting, ${ctx.tap.stats.failed - failedBefore} failed delivery attempt(s)`,
        );
      },
    );
  } finally {
    await sim.stop();
  }

  await checks.step(
    'start Odoo again on the same database and port; the outbox drains',
    async () => {
      if (!stack.odoo!.running) await stack.odoo!.start();
      await ctx.relogin();
      // The sender retries with exponential backoff and full jitter (cap 60 s): up to ~1 min.
      await waitFor(
        async () => (await ctx.control.health()).outbox.depth === 0,
        'outbox depth 0',
        90_000,
        250,
      );
      assert(deadLetters(info.workerDataDir) === 0, 'dead letters in the outbox');
    },
  );
  return facts;
}
