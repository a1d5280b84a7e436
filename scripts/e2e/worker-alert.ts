/**
 * The worker's "offline" alert (issue 17), on the real stack: the worker gets a responsible user;
 * once it is killed, Odoo's health check (what the 5-minute health cron runs, called over RPC here
 * through the form's "Check now") raises ONE activity of the Workshop IoT alert type for that user,
 * a second check adds none; when the worker is back, the next check marks it done with a note.
 */

import { assert } from './checks.ts';
import type { Ctx } from './context.ts';

interface AlertRow {
  id: number;
  user_id: [number, string] | false;
  summary: string | false;
  active: boolean;
  date_done: string | false;
}

function offlineAlerts(ctx: Ctx): Promise<AlertRow[]> {
  return ctx.rpc.searchRead<AlertRow>(
    'mail.activity',
    [
      ['res_model', '=', 'workshop.worker'],
      ['res_id', '=', ctx.info.workerId],
      ['workshop_alert_condition', '=', 'worker_offline'],
    ],
    ['user_id', 'summary', 'active', 'date_done'],
    { context: { active_test: false } },
  );
}

function checkHealth(ctx: Ctx): Promise<unknown> {
  return ctx.rpc.callKw('workshop.worker', 'action_check_health', [[ctx.info.workerId]]);
}

/**
 * A fresh user as the worker's responsible for alerts; returns its id. Then a health check of the
 * running worker closes an alert left open since the stack started (the health cron may have run
 * before the worker was up: that alert went to the default responsible, the administrator).
 */
export async function giveWorkerAResponsible(ctx: Ctx): Promise<number> {
  const login = `e2e-alerts-${Date.now()}`;
  const uid = await ctx.rpc.callKw<number>('res.users', 'create', [
    { name: 'E2E alert responsible', login },
  ]);
  await ctx.rpc.callKw('workshop.worker', 'write', [[ctx.info.workerId], { alert_user_id: uid }]);
  await checkHealth(ctx);
  const open = (await offlineAlerts(ctx)).filter((a) => a.active);
  assert(
    open.length === 0,
    `the running worker has an open offline alert: ${JSON.stringify(open)}`,
  );
  return uid;
}

/** While the worker is down: one open "offline" activity for ``responsible``, not repeated. */
export async function expectOfflineAlert(ctx: Ctx, responsible: number): Promise<void> {
  const before = (await offlineAlerts(ctx)).length;
  await checkHealth(ctx);
  await checkHealth(ctx);
  const open = (await offlineAlerts(ctx)).filter((a) => a.active);
  assert(open.length === 1, `open offline activities: ${JSON.stringify(open)}`);
  assert(
    open[0]!.user_id && open[0]!.user_id[0] === responsible,
    `activity for ${JSON.stringify(open[0]!.user_id)}, not the responsible ${responsible}`,
  );
  assert((await offlineAlerts(ctx)).length === before + 1, 'the second check raised another one');
}

/** The worker is back: the next health check marks the activity done (kept, with its date). */
export async function expectOfflineAlertDone(ctx: Ctx): Promise<void> {
  await checkHealth(ctx);
  const rows = await offlineAlerts(ctx);
  const open = rows.filter((a) => a.active);
  assert(open.length === 0, `still open: ${JSON.stringify(open)}`);
  const done = rows.filter((a) => !a.active && a.date_done);
  assert(done.length >= 1, `no done offline activity: ${JSON.stringify(rows)}`);
}
