/**
 * Phase 1, a machine's life as an admin and a member see it: create the machine in Odoo (JSON-RPC)
 * -> the worker gets the config without a restart -> the simulator runs one full session -> the
 * session is in Odoo with the durations and billing units the scenario's timing implies -> billing
 * policy change recomputes the units -> threshold change reaches the worker -> archiving the
 * machine makes the worker drop it and unsubscribe.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import { waitFor } from '../lib/wait.ts';
import { Simulator } from '../sim/simulator.ts';
import { assert, assertNear } from './checks.ts';
import {
  type Ctx,
  deviceVals,
  odooTime,
  type SessionRow,
  sessionsOf,
  workerHasDevices,
} from './context.ts';

/** Simulated seconds per real second. The full-session profile (scripts/sim/scenarios.ts) is
 * 0 W until 60 s, 25 W (standby) until 180 s, 1200 W (working) until 600 s, 25 W until 720 s, then
 * 0 W; at x10 the session lasts 66 real seconds: 24 s standby + 42 s working. */
const SPEED = 10;
const EXPECT = {
  startOffset_s: 60 / SPEED,
  standby_s: (120 + 120) / SPEED,
  working_s: 420 / SPEED,
  total_s: 660 / SPEED,
};
/**
 * Each duration is the gap between two crossings, each seen when the first reading past the
 * threshold reaches the worker: at most one simulator tick late (1000/SPEED = 100 ms) plus MQTT
 * transit (p99 < 0.5 s on this shared VM, see worker/README.md figures), so <= 0.6 s per boundary
 * and <= 1.2 s per duration. The debounces do not enter: start time is the first crossing and end
 * time the drop (the stop debounce tail is not billed).
 */
const DURATION_TOLERANCE_S = 1.5;
/** started_at over JSON-RPC is truncated to the second (Odoo Datetime), plus one boundary delay. */
const START_TOLERANCE_S = 2;
/** Energy counter of the simulated meter: 25 W x 240 s + 1200 W x 420 s of *simulated* time. */
const EXPECT_ENERGY_WH = (25 * 240 + 1200 * 420) / 3600;

const SESSION_CONFIG = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 2,
  stop_debounce_s: 2,
  message_timeout_s: 30,
  heartbeat_interval_s: 10,
};

/** Billing units under "round up": whole minutes started. */
const unitsUp = (seconds: number, unitMinutes: number) => Math.ceil(seconds / (unitMinutes * 60));

// Over 50 lines on purpose: one phase of the scenario, its steps in order, read top to bottom.
export async function lifecyclePhase(ctx: Ctx): Promise<void> {
  const { checks, info } = ctx;
  const sim = new Simulator({
    brokerUrl: info.brokerUrl,
    ...(info.brokerUsername ? { username: info.brokerUsername } : {}),
    ...(info.brokerPassword ? { password: info.brokerPassword } : {}),
    scenario: 'full-session',
    families: ['shelly_gen2'],
    devices: 1,
    prefix: 'e2e-life',
    speed: SPEED,
    log: () => undefined,
  });
  const device: DeviceConfig = {
    ...sim.deviceConfigs()[0]!,
    name: 'E2E laser cutter',
    session_config: SESSION_CONFIG,
  };
  ctx.devices.add(device.device_id);
  let recordId = 0;
  let baseline = { subscriptions: 0, devices: 0 };
  const workerPid = ctx.stack.worker?.pid;

  await checks.step('admin creates a machine in Odoo over JSON-RPC', async () => {
    const h = await ctx.control.health();
    baseline = { subscriptions: h.subscriptions, devices: h.devices };
    recordId = await ctx.rpc.callKw<number>('workshop.device', 'create', [
      deviceVals(ctx, device, {
        billing_unit_minutes: 1,
        billing_rounding: 'up',
        billing_basis: 'working_standby',
        billing_min_units: 0,
      }),
    ]);
    assert(recordId > 0, 'create returned no id');
  });

  await checks.step(
    'the worker gets the machine without a restart (post-commit push)',
    async () => {
      const t0 = Date.now();
      await waitFor(
        () => workerHasDevices(ctx, [device.device_id]),
        'config with the machine',
        20_000,
        100,
      );
      const { config } = await ctx.control.config();
      const got = config.devices.find((d) => d.device_id === device.device_id)!;
      assert(
        JSON.stringify(got.session_config) === JSON.stringify(SESSION_CONFIG),
        `session_config ${JSON.stringify(got.session_config)}`,
      );
      assert(ctx.stack.worker?.pid === workerPid, 'the worker process changed');
      const h = await ctx.control.health();
      assert(h.subscriptions > baseline.subscriptions, `subscriptions ${h.subscriptions}`);
      const [w] = await ctx.rpc.searchRead<{ push_state: string; config_in_sync: boolean }>(
        'workshop.worker',
        [['id', '=', info.workerId]],
        ['push_state', 'config_in_sync'],
      );
      assert(w?.push_state === 'ok' && w.config_in_sync, `worker record ${JSON.stringify(w)}`);
      console.log(`         config reached the worker ${Date.now() - t0} ms after create`);
    },
  );

  let session: SessionRow | undefined;
  let simStart = 0;
  await checks.step('the simulator runs a session; Odoo closes it', async () => {
    simStart = Date.now();
    await sim.start();
    try {
      const rows = await waitFor(
        async () => {
          const r = await sessionsOf(ctx, [recordId]);
          return r.some((s) => s.state !== 'running') ? r : null;
        },
        'a closed session in Odoo',
        (EXPECT.total_s + EXPECT.startOffset_s + 40) * 1000,
        500,
      );
      assert(rows.length === 1, `${rows.length} sessions: ${JSON.stringify(rows)}`);
      session = rows[0];
    } finally {
      await sim.stop();
    }
  });

  await checks.check('the session has the durations of the scenario', async () => {
    const s = session!;
    console.log(
      `         total ${s.total_s.toFixed(2)} s, working ${s.working_s.toFixed(2)} s, standby ${s.standby_s.toFixed(2)} s, energy ${s.energy_wh} Wh`,
    );
    assert(s.state === 'done' && s.stop_reason === 'power_off', `${s.state}/${s.stop_reason}`);
    assertNear(s.total_s, EXPECT.total_s, DURATION_TOLERANCE_S, 'total_s');
    assertNear(s.working_s, EXPECT.working_s, DURATION_TOLERANCE_S, 'working_s');
    assertNear(s.standby_s, EXPECT.standby_s, DURATION_TOLERANCE_S, 'standby_s');
    assert(s.working_s + s.standby_s <= s.total_s + 0.001, 'working + standby > total');
    const started = (odooTime(s.started_at) - simStart) / 1000;
    assertNear(started, EXPECT.startOffset_s, START_TOLERANCE_S, 'started_at - simulator start');
    const span = (odooTime(s.ended_at as string) - odooTime(s.started_at)) / 1000;
    assertNear(span, s.total_s, 1, 'ended_at - started_at vs total_s');
    // The meter's own counter (simulated time), +-5 % for the simulator's 2 % power noise.
    assertNear(s.energy_wh, EXPECT_ENERGY_WH, EXPECT_ENERGY_WH * 0.05, 'energy_wh');
  });

  await checks.check('billing units follow the policy (1 min units, round up)', async () => {
    const s = session!;
    // 66 s of working + standby -> 2 units; 42 s of working alone -> 1 unit. Both are >= 6 s away
    // from a unit boundary, well outside the duration tolerance.
    assertNear(s.billable_s, s.working_s + s.standby_s, 0.01, 'billable_s');
    assert(
      s.billing_units === unitsUp(EXPECT.total_s, 1) && s.billing_units === 2,
      `units ${s.billing_units}`,
    );
    assert(s.billing_state === 'to_bill', `billing_state ${s.billing_state}`);
    await ctx.rpc.callKw('workshop.device', 'write', [[recordId], { billing_basis: 'working' }]);
    const [again] = await sessionsOf(ctx, [recordId]);
    assert(
      again?.billing_units === unitsUp(EXPECT.working_s, 1) && again.billing_units === 1,
      `units after basis=working: ${again?.billing_units}`,
    );
    assertNear(again.billable_s, again.working_s, 0.01, 'billable_s after basis=working');
  });

  await checks.step('threshold change in Odoo reaches the worker', async () => {
    await ctx.rpc.callKw('workshop.device', 'write', [
      [recordId],
      { standby_threshold_w: 20, working_threshold_w: 150, start_debounce_s: 3 },
    ]);
    await waitFor(
      async () => {
        const { config } = await ctx.control.config();
        const sc = config.devices.find((d) => d.device_id === device.device_id)?.session_config;
        return (
          sc?.standby_threshold_w === 20 &&
          sc.working_threshold_w === 150 &&
          sc.start_debounce_s === 3
        );
      },
      'the new thresholds in config.get',
      20_000,
      100,
    );
  });

  await checks.step('archiving the machine makes the worker drop it and unsubscribe', async () => {
    await ctx.rpc.callKw('workshop.device', 'action_archive', [[recordId]]);
    await waitFor(
      async () => !(await workerHasDevices(ctx, [device.device_id])),
      'config.get without the machine',
      20_000,
      100,
    );
    const h = await waitFor(
      async () => {
        const x = await ctx.control.health();
        return x.subscriptions === baseline.subscriptions ? x : null;
      },
      `subscriptions back to ${baseline.subscriptions}`,
      10_000,
      100,
    );
    assert(h.devices === baseline.devices, `devices ${h.devices} != ${baseline.devices}`);
  });
}
