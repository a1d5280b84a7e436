#!/usr/bin/env node
/**
 * The live path against a RUNNING Odoo (not its test mode, where websockets are disabled): log in,
 * open the dashboard, send a state change through the ingest route (`worker.status`, as the
 * worker does), and check that the tile shows it within a second, without a page reload.
 * Meant for the end-to-end stack (scripts/e2e); prints "N passed, N failed".
 *
 *   ODOO_URL=http://localhost:8069 ODOO_DB=wiot ODOO_LOGIN=admin ODOO_PASSWORD=admin \
 *   WORKSHOP_IOT_API_KEY=… WORKER_UID=wk-1 DEVICE_ID=shelly-1 node web/test/odoo/live-dashboard.mjs
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const SHOTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test-results/screenshots',
);

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};
const ODOO_URL = env('ODOO_URL', 'http://localhost:8069').replace(/\/$/, '');
const DB = env('ODOO_DB');
const DEVICE_ID = env('DEVICE_ID');
const WORKER_UID = env('WORKER_UID');
const API_KEY = env('WORKSHOP_IOT_API_KEY');
const MAX_LATENCY_MS = Number(process.env.MAX_LATENCY_MS ?? 1000);

async function sendStatus(state) {
  const now = new Date().toISOString();
  const inSession = state === 'working' || state === 'standby';
  const params = {
    worker_uid: WORKER_UID,
    config_version: 0,
    health: {
      status: 'ok',
      broker_connected: true,
      outbox_depth: 0,
      oldest_pending_s: null,
      dead_letters: 0,
      uptime_s: 1,
      software_version: 'live-dashboard-test',
    },
    devices: [
      {
        device_id: DEVICE_ID,
        state,
        power_w: state === 'working' ? 1250 : 30,
        session_id: inSession ? '0190a0c2-7a3b-7cde-8f00-00000000e2e0' : null,
        session_started_at: inSession ? now : null,
        session_working_s: 0,
        session_standby_s: 0,
        last_seen_at: now,
        changed_at: now,
      },
    ],
    full: false,
  };
  const response = await fetch(`${ODOO_URL}/workshop_iot/rpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'worker.status', params }),
  });
  const answer = await response.json();
  if (!answer.result?.ok) throw new Error(`worker.status: ${JSON.stringify(answer)}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
let passed = 0;
let failed = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${ODOO_URL}/web/login?db=${encodeURIComponent(DB)}`);
  await page.fill('input[name="login"]', env('ODOO_LOGIN'));
  await page.fill('input[name="password"]', env('ODOO_PASSWORD'));
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  await page.goto(`${ODOO_URL}/odoo/action-workshop_iot.dashboard_action`);
  const tile = page.locator(`.o_workshop_iot_tile[data-device-id="${DEVICE_ID}"]`);
  await tile.waitFor({ timeout: 30_000 });
  await page.evaluate(() => {
    window.__workshopIotNoReload = true;
  });
  for (const state of ['working', 'standby', 'idle']) {
    const started = Date.now();
    await sendStatus(state);
    try {
      await page
        .locator(`.o_workshop_iot_tile[data-device-id="${DEVICE_ID}"][data-state="${state}"]`)
        .waitFor({ timeout: 10_000 });
      const latency = Date.now() - started;
      const noReload = await page.evaluate(() => window.__workshopIotNoReload === true);
      if (!noReload) throw new Error('the page reloaded');
      if (latency > MAX_LATENCY_MS) throw new Error(`${state} shown after ${latency} ms`);
      console.log(`ok   ${state} shown ${latency} ms after worker.status`);
      passed += 1;
    } catch (err) {
      console.log(`FAIL ${state}: ${err.message}`);
      failed += 1;
    }
  }
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'odoo-dashboard-1280x720.png') });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
