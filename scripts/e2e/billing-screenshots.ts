/**
 * Screenshots of billing for the readme (`e2e.ts --screenshots <dir>`): the draft invoice the
 * billing phase created, as the admin sees it, and the member's own sessions in the portal
 * (`/my/machine-sessions`, module workshop_iot_portal), as the member sees them. Chromium
 * (playwright-core, Debian's chromium), headless with the project's usual flags.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { secret } from '../dev/util.ts';
import { launchChromium } from './chromium.ts';
import type { Ctx } from './context.ts';

async function login(page: Page, url: string, login: string, password: string): Promise<void> {
  await page.goto(`${url}/web/login`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  // The web client keeps its bus connection open (never "network idle"): wait for leaving the form.
  await page.waitForURL((url) => !url.pathname.startsWith('/web/login'));
}

export async function billingScreenshots(
  ctx: Ctx,
  dir: string,
  facts: { member: number; invoice: number },
): Promise<void> {
  const { info, rpc } = ctx;
  // The member logs in to the portal: a portal user for the member's partner.
  const password = secret(12);
  const portalGroup = await groupId(ctx, 'base.group_portal');
  await rpc.callKw('res.users', 'create', [
    {
      name: 'E2E Member',
      login: 'e2e-member',
      password,
      partner_id: facts.member,
      groups_id: [[6, 0, [portalGroup]]],
    },
  ]);
  const browser = await launchChromium();
  try {
    const admin = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await login(admin, info.odooUrl, info.adminLogin, info.adminPassword);
    await admin.goto(
      `${info.odooUrl}/odoo/action-account.action_move_out_invoice_type/${facts.invoice}`,
    );
    await admin.waitForSelector('.o_form_view .o_field_widget[name=invoice_line_ids] .o_data_row');
    await admin.screenshot({ path: path.join(dir, 'draft_invoice.png') });

    const member = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await login(member, info.odooUrl, 'e2e-member', password);
    await member.goto(`${info.odooUrl}/my/machine-sessions`);
    await member.waitForSelector('.o_wiot_portal_totals');
    await member.screenshot({ path: path.join(dir, 'portal_sessions.png') });
  } finally {
    await browser.close();
  }
}

async function groupId(ctx: Ctx, xmlid: string): Promise<number> {
  const [module, name] = xmlid.split('.');
  const [row] = await ctx.rpc.searchRead<{ res_id: number }>(
    'ir.model.data',
    [
      ['module', '=', module],
      ['name', '=', name],
    ],
    ['res_id'],
  );
  if (!row) throw new Error(`no ${xmlid}`);
  return row.res_id;
}
