/**
 * Phase: Calibrate against the real worker (issue 18). A machine of the discovery phase received
 * simulated readings and ran a session; its "Calibrate" dialog asks the worker's analysis.run
 * (through Odoo, with the admin token Odoo holds) for the last 7 days. Checked twice: over Odoo's
 * JSON-RPC (the dialog's record: readings, histogram, both session lists billed), then in Chromium as
 * the admin sees it (the Chart.js canvas and both lists). `--screenshots <dir>` saves the dialog as
 * calibrate.png there.
 */
import path from 'node:path';
import { assert } from './checks.ts';
import { launchChromium } from './chromium.ts';
import type { Ctx } from './context.ts';

interface Calibration {
  error_message: string | false;
  readings: number;
  chart_data: { bins: unknown[] } | false;
  current_count: number;
  proposed_count: number;
  current_units: number;
  proposed_working_threshold_w: number;
}

/** A machine of the scenario that ran a closed session: it has recorded readings. */
async function recordedMachine(ctx: Ctx): Promise<number> {
  const [session] = await ctx.rpc.searchRead<{ device_id: [number, string] }>(
    'workshop.session',
    [
      ['state', '!=', 'running'],
      ['device_id.device_id', 'in', [...ctx.devices]],
      ['device_id.active', '=', true],
    ],
    ['device_id'],
    { order: 'id desc', limit: 1 },
  );
  if (!session) throw new Error('no machine of the scenario ran a session');
  return session.device_id[0];
}

// Over 50 lines on purpose: one phase of the scenario, its steps in order, read top to bottom.
export async function calibrationPhase(ctx: Ctx): Promise<void> {
  const { checks, rpc, info } = ctx;
  let machine = 0;

  await checks.step('Calibrate over JSON-RPC: the real worker analyses the readings', async () => {
    machine = await recordedMachine(ctx);
    const action = await rpc.callKw<{ res_model: string; res_id: number }>(
      'workshop.device',
      'action_calibrate',
      [[machine]],
    );
    assert(action.res_model === 'workshop.device.calibration', `opens ${action.res_model}`);
    const [wizard] = await rpc.callKw<Calibration[]>(
      'workshop.device.calibration',
      'read',
      [[action.res_id]],
      {
        fields: [
          'error_message',
          'readings',
          'chart_data',
          'current_count',
          'proposed_count',
          'current_units',
          'proposed_working_threshold_w',
        ],
      },
    );
    assert(wizard, 'the dialog record');
    assert(!wizard.error_message, `the dialog says: ${wizard.error_message}`);
    assert(wizard.readings > 0, `readings ${wizard.readings}`);
    assert(wizard.chart_data && wizard.chart_data.bins.length > 0, 'histogram bins');
    assert(wizard.current_count >= 1, `current sessions ${wizard.current_count}`);
    assert(wizard.proposed_count >= 1, `proposed sessions ${wizard.proposed_count}`);
    assert(wizard.proposed_working_threshold_w > 0, 'a proposed working threshold');
  });

  await checks.step('Calibrate in Chromium: the histogram and both session lists', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${info.odooUrl}/web/login`);
      await page.fill('input[name=login]', info.adminLogin);
      await page.fill('input[name=password]', info.adminPassword);
      await page.click('button[type=submit]');
      await page.waitForURL((url) => !url.pathname.startsWith('/web/login'));
      await page.goto(`${info.odooUrl}/odoo/action-workshop_iot.workshop_device_action/${machine}`);
      await page.click('button[name=action_calibrate]');
      const dialog = page.locator('.modal .o_workshop_iot_calibration');
      await dialog.locator('.o_workshop_iot_histogram canvas').waitFor({ timeout: 30_000 });
      const problem = dialog.locator('.o_workshop_iot_calibration_problem:not(.d-none)');
      // The message is read only when there is one (textContent would wait for the element).
      if ((await problem.count()) > 0)
        throw new Error(`the dialog says: ${await problem.textContent()}`);
      const rows = (side: string) =>
        dialog.locator(`.o_workshop_iot_calibration_${side} .o_data_row`);
      await rows('current').first().waitFor();
      await rows('proposed').first().waitFor();
      const bars = await page.evaluate(() => {
        const canvas = document.querySelector('.modal .o_workshop_iot_histogram canvas');
        const chart = (
          window as unknown as { Chart: { getChart(c: unknown): { data: { labels: unknown[] } } } }
        ).Chart.getChart(canvas);
        return chart?.data.labels.length ?? 0;
      });
      assert(bars > 0, 'the chart has bars');
      if (ctx.screenshots) {
        await page.screenshot({ path: path.join(ctx.screenshots, 'calibrate.png') });
      }
    } finally {
      await browser.close();
    }
  });
}
