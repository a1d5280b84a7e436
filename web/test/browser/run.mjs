#!/usr/bin/env node
/**
 * Real-browser tests of the standalone dashboard: Debian's chromium (playwright-core) loads the
 * built page (web/generated/worker-page) from the worker's own dashboard routes
 * (worker/src/http/dashboard-routes.ts), fed by a scripted machine list that the test changes
 * through the real SSE stream. The page clock is Playwright's fake clock, so timers are exact.
 *
 *   node web/test/browser/run.mjs        prints "N passed, N failed", exits 1 on any failure
 *
 * Screenshots go to web/test-results/screenshots/ (gitignored) for review.
 */
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { register } from 'tsx/esm/api';

register();
const { createDashboardRoutes } = await import('../../../worker/src/http/dashboard-routes.ts');
const { TokenAuth } = await import('../../../worker/src/http/auth.ts');

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(webDir, 'test-results/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'read-only-test-token';
const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const iso = (ms) => new Date(ms).toISOString();
const SESSION = '0190a0c2-7a3b-7cde-8f00-0000000000';
const STATES = ['unknown', 'idle', 'starting', 'standby', 'working', 'stopping', 'offline'];
const LABELS = {
  idle: 'Idle',
  starting: 'Starting',
  standby: 'Standby',
  working: 'Working',
  stopping: 'Stopping',
  offline: 'Offline',
  unknown: 'Unknown',
};

// ---------------------------------------------------------------------------------------------
// Scripted backend: the machine list and a push that goes out on every open event stream.

function machine(deviceId, name, area, state, extra = {}) {
  const inSession = ['starting', 'standby', 'working', 'stopping'].includes(state);
  return {
    id: null,
    name,
    device_id: deviceId,
    area,
    state,
    power_w:
      { working: 1250, standby: 35.2, starting: 12, stopping: 4.5, idle: 0.8 }[state] ?? null,
    session_id: inSession ? `${SESSION}${deviceId.length.toString().padStart(2, '0')}` : null,
    session_started_at: inSession ? iso(T0 - 600_000) : null,
    session_working_s: 0,
    session_standby_s: 0,
    today_working_s: 3600,
    today_standby_s: 900,
    last_seen_at: state === 'unknown' ? null : iso(T0 - 5000),
    changed_at: iso(T0 - 60_000),
    expected_interval_s: 60,
    ...extra,
  };
}

const machines = new Map();
function resetMachines() {
  machines.clear();
  const list = [
    machine('lathe', 'Lathe', 'Metal shop', 'working', {
      session_started_at: iso(T0 - 3_723_000),
      today_working_s: 7200,
    }),
    machine('mill', 'Milling machine', 'Metal shop', 'standby'),
    machine('saw', 'Table saw', 'Wood shop', 'idle'),
    machine('planer', 'Planer', 'Wood shop', 'starting'),
    machine('laser', 'Laser cutter', null, 'stopping'),
    machine('printer', '3D printer', null, 'offline', { last_seen_at: iso(T0 - 3 * 3_600_000) }),
    machine('kiln', 'Kiln', 'Ceramics', 'unknown'),
  ];
  for (const m of list) machines.set(m.device_id, m);
}

const streamListeners = new Set();
const openStreams = new Set();
let machineLoads = 0;
let changeSeq = 0;

/** Change one machine and send it over SSE, like the worker does on a state change. */
function push(deviceId, patch, { broadcast = true } = {}) {
  changeSeq += 1;
  const next = { ...machines.get(deviceId), ...patch, changed_at: iso(T0 + changeSeq * 1000) };
  machines.set(deviceId, next);
  if (broadcast) for (const listener of streamListeners) listener(next);
  return next;
}

const routes = createDashboardRoutes({
  listMachines: () => {
    machineLoads += 1;
    return [...machines.values()];
  },
  subscribe: (listener) => {
    streamListeners.add(listener);
    return () => streamListeners.delete(listener);
  },
  auth: new TokenAuth(`admin-${TOKEN}`, TOKEN),
  retryMs: 300,
});
const server = http.createServer((req, res) => {
  if (req.url?.startsWith('/api/events')) {
    openStreams.add(res);
    res.on('close', () => openStreams.delete(res));
  }
  if (!routes.handle(req, res)) res.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const BASE = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------------------------------------
// Tiny test harness.

const results = [];
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(
      `FAIL ${name}\n     ${String(err?.stack ?? err)
        .split('\n')
        .slice(0, 4)
        .join('\n     ')}`,
    );
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}
function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const tile = (id) => `.o_workshop_iot_tile[data-device-id="${id}"]`;
/** textContent, not innerText: CSS `text-transform: uppercase` must not change what we compare. */
const text = async (page, selector) => (await page.locator(selector).textContent()).trim();

async function openPage(browser, viewport, query = `?token=${TOKEN}`, locale = 'en-US') {
  const context = await browser.newContext({ viewport, locale, timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/401|Failed to load resource/.test(msg.text())) {
      errors.push(msg.text());
    }
  });
  await page.clock.install({ time: T0 });
  await page.goto(`${BASE}/${query}`);
  return { context, page, errors };
}

/** Elements whose content is wider than their box (text running into the next column). */
function overflowing(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.o_workshop_iot_tile, .o_workshop_iot_fact dd')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.closest('[data-device-id]')?.dataset.deviceId}: ${el.className}`),
  );
}

// ---------------------------------------------------------------------------------------------

await mkdir(SHOTS, { recursive: true });
resetMachines();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
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

try {
  const { context, page, errors } = await openPage(browser, { width: 1280, height: 720 });

  await test('loads every machine from /api/machines and drops the token from the URL', async () => {
    await page.locator(tile('kiln')).waitFor();
    assertEqual(await page.locator('.o_workshop_iot_tile').count(), 7, 'tile count');
    assert(!page.url().includes('token='), `token still in URL: ${page.url()}`);
    assertEqual(await text(page, '.o_workshop_iot_connection'), 'Live', 'connection status');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-1280x720.png') });
  });

  await test('shows each state with its own class, icon and text', async () => {
    for (const state of STATES) {
      const sel = `.o_workshop_iot_tile.o_workshop_iot_state_${state}`;
      assertEqual(await page.locator(sel).count(), 1, `tiles in state ${state}`);
      assertEqual(await text(page, `${sel} .o_workshop_iot_state_text`), LABELS[state], state);
      assertEqual(
        await page.locator(`${sel} .o_workshop_iot_state_badge svg path`).count(),
        1,
        `${state} icon`,
      );
    }
    const aria = await page.locator(tile('printer')).getAttribute('aria-label');
    assertEqual(aria, '3D printer: Offline', 'tile aria-label');
  });

  await test('walks one machine through every state over the live stream', async () => {
    for (const state of STATES) {
      push('saw', { state, power_w: state === 'working' ? 2300 : 3 });
      await page.locator(`${tile('saw')}[data-state="${state}"]`).waitFor({ timeout: 3000 });
      assertEqual(
        await text(page, `${tile('saw')} .o_workshop_iot_state_text`),
        LABELS[state],
        state,
      );
      const hasClass = await page
        .locator(tile('saw'))
        .evaluate((el, s) => el.classList.contains(`o_workshop_iot_state_${s}`), state);
      assert(hasClass, `class for ${state}`);
    }
    assertEqual(
      await text(page, `${tile('saw')} .o_workshop_iot_power`),
      '3.0 W',
      'power after walk',
    );
    push('saw', { state: 'working', power_w: 2300 });
    await page.locator(`${tile('saw')}[data-state="working"]`).waitFor({ timeout: 3000 });
    assertEqual(await text(page, `${tile('saw')} .o_workshop_iot_power`), '2.30 kW', 'power in kW');
  });

  await test('ticks the session timer every second and accrues today working time', async () => {
    await page.clock.pauseAt(T0 + 60_000);
    await page.clock.runFor(100);
    const session = `${tile('lathe')} .o_workshop_iot_session`;
    // Started 1:02:03 before T0, clock now T0 + 60.1 s.
    assertEqual(await text(page, session), '1:03:03', 'session at T0+60s');
    const todayBefore = await text(page, `${tile('lathe')} .o_workshop_iot_today_working`);
    await page.clock.runFor(5000);
    assertEqual(await text(page, session), '1:03:08', 'session 5 s later');
    const todayAfter = await text(page, `${tile('lathe')} .o_workshop_iot_today_working`);
    const secs = (t) => t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
    assertEqual(secs(todayAfter) - secs(todayBefore), 5, 'today working accrual');
    assertEqual(
      await text(page, `${tile('printer')} .o_workshop_iot_last_seen`),
      '3 hr. ago',
      'last seen',
    );
    assertEqual(
      await text(page, `${tile('kiln')} .o_workshop_iot_last_seen`),
      'never',
      'never seen',
    );
    await page.clock.resume();
  });

  await test('filters by state and shows all again', async () => {
    await page.locator('.o_workshop_iot_filter[data-filter="offline"]').click();
    await page
      .locator('.o_workshop_iot_filter[data-filter="offline"][aria-pressed="true"]')
      .waitFor();
    const ids = await page
      .locator('.o_workshop_iot_tile')
      .evaluateAll((els) => els.map((e) => e.dataset.deviceId));
    assertEqual(ids, ['printer'], 'tiles with offline filter');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-filter-offline.png') });
    await page.locator('.o_workshop_iot_filter[data-filter="all"]').click();
    await page.locator(tile('kiln')).waitFor();
    assertEqual(await page.locator('.o_workshop_iot_tile').count(), 7, 'tiles with all');
  });

  await test('groups by area A-Z, machines without area last, and can ungroup', async () => {
    const titles = await page
      .locator('.o_workshop_iot_area_title')
      .evaluateAll((els) => els.map((e) => e.firstChild.textContent.trim()));
    assertEqual(titles, ['Ceramics', 'Metal shop', 'Wood shop', 'No area'], 'area titles');
    await page.locator('.o_workshop_iot_group_toggle input').uncheck();
    await page.waitForFunction(() => !document.querySelector('.o_workshop_iot_area_title'));
    assertEqual(await page.locator('.o_workshop_iot_area').count(), 1, 'one section ungrouped');
    await page.locator('.o_workshop_iot_group_toggle input').check();
    await page.locator('.o_workshop_iot_area_title').first().waitFor();
  });

  await test('kiosk mode enlarges the tiles for a wall screen and Escape leaves it', async () => {
    const nameSize = () =>
      page
        .locator(`${tile('lathe')} .o_workshop_iot_tile_name`)
        .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    const normal = await nameSize();
    assert(normal >= 20, `tile name ${normal}px is too small`);
    await page.locator('.o_workshop_iot_kiosk_toggle').click();
    await page.locator('.o_workshop_iot_dashboard.o_workshop_iot_kiosk').waitFor();
    const kiosk = await nameSize();
    assert(kiosk >= 32, `kiosk tile name ${kiosk}px is too small for 3 m`);
    const sessionSize = await page
      .locator(`${tile('lathe')} .o_workshop_iot_session`)
      .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    // On a 55" 1080p screen one CSS px is ~0.63 mm: 36 px digits are ~23 mm, the usual
    // "1 inch per 10 feet" rule of thumb for reading at 3 m.
    assert(sessionSize >= 36, `kiosk timer ${sessionSize}px is too small`);
    assertEqual(await overflowing(page), [], 'overflowing text in kiosk');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-kiosk.png') });
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('.o_workshop_iot_kiosk'));
  });

  await test('recovers after the stream drops: shows it, reconnects and reloads the list', async () => {
    const loadsBefore = machineLoads;
    // While disconnected the mill stops; nobody tells the browser except the reload.
    for (const res of openStreams) res.destroy();
    push(
      'mill',
      { state: 'idle', power_w: 0.5, session_id: null, session_started_at: null },
      { broadcast: false },
    );
    await page.locator(`${tile('mill')}[data-state="idle"]`).waitFor({ timeout: 5000 });
    assert(machineLoads > loadsBefore, 'list was not reloaded');
    assertEqual(await text(page, '.o_workshop_iot_connection'), 'Live', 'connection status after');
    push('mill', { state: 'working', power_w: 900 });
    await page.locator(`${tile('mill')}[data-state="working"]`).waitFor({ timeout: 3000 });
  });

  await test('a click on a tile does nothing harmful without an Odoo sessions view', async () => {
    assertEqual(await page.locator('.o_workshop_iot_tile_open').count(), 0, 'open buttons');
    await page.locator(tile('lathe')).click();
    assertEqual(await page.locator('.o_workshop_iot_tile').count(), 7, 'tiles after click');
  });

  await test('a machine never heard from shows no power and "never"', async () => {
    assertEqual(await text(page, `${tile('kiln')} .o_workshop_iot_power`), '—', 'power');
    assertEqual(await text(page, `${tile('kiln')} .o_workshop_iot_last_seen`), 'never', 'seen');
    assertEqual(await page.locator(`${tile('kiln')} .o_workshop_iot_silent`).count(), 0, 'silent');
  });

  await test('a meter silent past twice its usual interval shows "no data since" and stops counting', async () => {
    // The page clock has been running since the earlier tests: work from its current time.
    const now = await page.evaluate(() => Date.now());
    const since = new Intl.DateTimeFormat('en-US', {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'UTC',
    }).format(now);
    push('saw', {
      state: 'standby',
      power_w: 3,
      session_id: `${SESSION}99`,
      session_started_at: iso(now - 600_000),
      session_working_s: 0,
      session_standby_s: 600,
      today_working_s: 0,
      today_standby_s: 900,
      last_seen_at: iso(now),
      expected_interval_s: 60,
    });
    const saw = tile('saw');
    await page.locator(`${saw}[data-state="standby"]`).waitFor({ timeout: 3000 });
    await page.clock.pauseAt(now + 100_000); // 100 s < 2 x 60 s + 10 s: still counting
    await page.clock.runFor(1000);
    assertEqual(await page.locator(`${saw}[data-silent="true"]`).count(), 0, 'silent at 101 s');
    // The one-second tick lands somewhere in the last second: 100 or 101 s past the message.
    const counting = await text(page, `${saw} .o_workshop_iot_session`);
    assert(['0:11:40', '0:11:41'].includes(counting), `session at ~101 s: ${counting}`);
    await page.clock.runFor(35_000); // 136 s: silent
    await page.locator(`${saw}[data-silent="true"]`).waitFor({ timeout: 3000 });
    assertEqual(
      await text(page, `${saw} .o_workshop_iot_silent`),
      `No data since ${since}`,
      'line',
    );
    assertEqual(await text(page, `${saw} .o_workshop_iot_session`), '0:10:00', 'frozen session');
    assertEqual(
      await text(page, `${saw} .o_workshop_iot_today_standby`),
      '0:15:00',
      'frozen today',
    );
    await page.screenshot({ path: path.join(SHOTS, 'desktop-silent-meter.png') });
    await page.clock.runFor(120_000);
    assertEqual(await text(page, `${saw} .o_workshop_iot_session`), '0:10:00', 'still frozen');
    // The meter speaks again (the clock runs again: OWL renders on animation frames).
    push('saw', { last_seen_at: iso(now + 251_000), session_standby_s: 851 });
    await page.clock.resume();
    await page.locator(`${saw}[data-silent="false"]`).waitFor({ timeout: 3000 });
    assertEqual(await page.locator(`${saw} .o_workshop_iot_silent`).count(), 0, 'line gone');
  });

  await test('no console errors on the desktop page', async () => {
    assertEqual(errors, [], 'page errors');
  });
  await context.close();

  await test('fits a 390 px phone: one column, no horizontal scroll, readable', async () => {
    const phone = await openPage(browser, { width: 390, height: 844 });
    await phone.page.locator(tile('kiln')).waitFor();
    const overflow = await phone.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    assert(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    const lefts = await phone.page
      .locator('.o_workshop_iot_tile')
      .evaluateAll((els) => [
        ...new Set(els.map((e) => Math.round(e.getBoundingClientRect().left))),
      ]);
    assertEqual(lefts.length, 1, 'tile columns');
    assertEqual(await overflowing(phone.page), [], 'overflowing text on phone');
    await phone.page.screenshot({ path: path.join(SHOTS, 'phone-390x844.png'), fullPage: true });
    await phone.page.locator('.o_workshop_iot_kiosk_toggle').click();
    await phone.page.locator('.o_workshop_iot_kiosk').waitFor();
    const kioskOverflow = await phone.page.evaluate(() => {
      const el = document.querySelector('.o_workshop_iot_dashboard');
      return el.scrollWidth - el.clientWidth;
    });
    assert(kioskOverflow <= 0, `kiosk scrolls sideways by ${kioskOverflow}px`);
    assertEqual(await overflowing(phone.page), [], 'overflowing text in phone kiosk');
    await phone.page.screenshot({ path: path.join(SHOTS, 'phone-kiosk.png') });
    assertEqual(phone.errors, [], 'page errors');
    await phone.context.close();
  });

  await test('a wrong token shows a clear error instead of machines', async () => {
    const bad = await openPage(browser, { width: 1280, height: 720 }, '?token=wrong');
    await bad.page.locator('.o_workshop_iot_error').waitFor();
    assertEqual(
      await text(bad.page, '.o_workshop_iot_error'),
      'Could not load the machines',
      'error text',
    );
    assertEqual(await bad.page.locator('.o_workshop_iot_tile').count(), 0, 'tiles');
    await bad.context.close();
  });

  await test('a worker without machines says how to add the first one', async () => {
    machines.clear();
    const empty = await openPage(browser, { width: 1280, height: 720 });
    await empty.page.locator('.o_workshop_iot_empty[data-empty="no-machines"]').waitFor();
    const help = await text(empty.page, '.o_workshop_iot_empty');
    for (const part of ['No machines yet', 'Workshop > Configuration > Machines', 'settings file'])
      assert(help.includes(part), `empty state lacks "${part}": ${help}`);
    assertEqual(await empty.page.locator('[data-empty="no-match"]').count(), 0, 'no-match text');
    assertEqual(await empty.page.locator('.o_workshop_iot_add_machine').count(), 0, 'add button');
    await empty.page.screenshot({ path: path.join(SHOTS, 'desktop-no-machines.png') });
    // The first machine arrives over the live stream: its tile replaces the help.
    const first = machine('saw', 'Table saw', null, 'idle');
    machines.set('saw', first);
    push('saw', {});
    await empty.page.locator(tile('saw')).waitFor({ timeout: 3000 });
    assertEqual(await empty.page.locator('.o_workshop_iot_empty').count(), 0, 'help gone');
    assertEqual(empty.errors, [], 'page errors');
    await empty.context.close();
    resetMachines();
  });

  await test('a German browser (de-DE) gets the page in German', async () => {
    const german = await openPage(
      browser,
      { width: 1280, height: 720 },
      `?token=${TOKEN}`,
      'de-DE',
    );
    const { page } = german;
    await page.locator(tile('kiln')).waitFor();
    assertEqual(await page.evaluate(() => navigator.language), 'de-DE', 'browser language');
    assertEqual(await page.evaluate(() => document.documentElement.lang), 'de', 'html lang');
    assertEqual(await page.title(), 'Workshop IoT — Maschinen', 'tab title');
    assertEqual(await text(page, '.o_workshop_iot_title'), 'Maschinen', 'title');
    const GERMAN_STATES = {
      idle: 'Inaktiv',
      starting: 'Startet',
      standby: 'Standby',
      working: 'Arbeitet',
      stopping: 'Stoppt',
      offline: 'Offline',
      unknown: 'Unbekannt',
    };
    for (const state of STATES) {
      assertEqual(
        await text(page, `.o_workshop_iot_state_${state} .o_workshop_iot_state_text`),
        GERMAN_STATES[state],
        state,
      );
    }
    assertEqual(
      await page.locator(tile('printer')).getAttribute('aria-label'),
      '3D printer: Offline',
      'tile aria-label',
    );
    assertEqual(await text(page, '.o_workshop_iot_kiosk_toggle'), 'Vollbild', 'kiosk button');
    assertEqual(
      await text(page, '.o_workshop_iot_group_toggle'),
      'Nach Bereich gruppieren',
      'group',
    );
    assertEqual(
      await page.locator(`${tile('lathe')} .o_workshop_iot_fact dt`).allTextContents(),
      ['Leistung', 'Nutzungsdauer', 'Arbeit heute', 'Standby heute'],
      'tile facts',
    );
    // German number format too: decimal comma.
    assertEqual(
      await text(page, `${tile('lathe')} .o_workshop_iot_power`),
      '1,25 kW',
      'power value',
    );
    assertEqual(await text(page, `${tile('kiln')} .o_workshop_iot_last_seen`), 'nie', 'never seen');
    assertEqual(await overflowing(page), [], 'German text running out of its box');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-german.png') });
    assertEqual(german.errors, [], 'page errors');
    await german.context.close();
  });

  await test('an English browser keeps the English page', async () => {
    const english = await openPage(
      browser,
      { width: 1280, height: 720 },
      `?token=${TOKEN}`,
      'en-GB',
    );
    await english.page.locator(tile('kiln')).waitFor();
    assertEqual(
      await english.page.evaluate(() => document.documentElement.lang),
      'en',
      'html lang',
    );
    assertEqual(await text(english.page, '.o_workshop_iot_title'), 'Machines', 'title');
    await english.context.close();
  });
} finally {
  await browser.close();
  routes.stop();
  server.closeAllConnections();
  server.close();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
console.log(`screenshots: ${path.relative(process.cwd(), SHOTS)}`);
process.exit(failed ? 1 : 0);
