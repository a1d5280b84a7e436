/**
 * An admin's first hour, in a real browser (issue 14's walk-through): a bare Odoo 18 database ->
 * install Workshop IoT from Apps -> Settings > Workshop -> create the broker -> "Connect a worker"
 * (token and API key shown once, with the settings file to paste) -> the worker, started with
 * exactly that file, connects and the wizard turns green -> create a machine (topic derived from
 * the Shelly id) -> a simulated Shelly runs a session -> the session shows readable durations.
 * Throughout: no console error in the browser, and no WARNING/ERROR in Odoo's log.
 *
 *   node --import tsx scripts/e2e/onboarding.ts [--keep] [--screenshots <dir>]
 *
 * `--screenshots addon/workshop_iot/static/description` refreshes the addon readme's screenshots.
 * Run by scripts/e2e/run.sh --onboarding (part of `npm test`). The last line printed is
 * `N passed, N failed`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerSettings } from '@workshop-iot/shared';
import type { Browser, Page } from 'playwright-core';
import { STACK_ACL, stackBroker } from '../dev/mosquitto.ts';
import { dropDatabase, installModule, OdooServer, odooTree, runSetup } from '../dev/odoo.ts';
import { secret, tail } from '../dev/util.ts';
import { WorkerChild, WorkerControl, writeWorkerSettings } from '../dev/worker.ts';
import { freePort } from '../lib/net.ts';
import { waitFor } from '../lib/wait.ts';
import { Simulator } from '../sim/simulator.ts';
import { assert, Checks } from './checks.ts';
import { launchChromium } from './chromium.ts';
import { BrowserProblems, odooLogProblems } from './onboarding-log.ts';
import { OdooUi } from './onboarding-ui.ts';

const GLOBAL_DEADLINE_MS = 10 * 60_000;
/** Simulated seconds per real second for the session (full-session scenario: 11 simulated min). */
const SPEED = 30;

function argValue(flag: string): string | null {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}

// Over 50 lines on purpose: the walk-through reads top to bottom, one step per screen.
async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  const shotsDir = argValue('--screenshots');
  const checks = new Checks();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wiot-onboarding-'));
  const db = `wiot_onb_${process.pid}_${Date.now().toString(36)}`;
  const tree = odooTree(path.join(stateDir, 'odoo-data'));
  const [odooPort, mqttPort, workerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const logs = {
    odoo: path.join(stateDir, 'odoo.log'),
    setup: path.join(stateDir, 'setup.log'),
    worker: path.join(stateDir, 'worker.log'),
  };
  const logins = {
    worker: { username: 'worker', password: secret(18) },
    devices: { username: 'devices', password: secret(18) },
  };
  const broker = stackBroker({
    dir: path.join(stateDir, 'mosquitto'),
    port: mqttPort,
    logins: [logins.worker, logins.devices],
    aclFile: STACK_ACL,
  });
  const odoo = new OdooServer({ tree, db, port: odooPort, logFile: logs.odoo, maxCronThreads: 1 });
  let worker: WorkerChild | null = null;
  let browser: Browser | null = null;
  const problems = new BrowserProblems();
  console.log(`onboarding: database ${db}, state ${stateDir}, Odoo port ${odooPort}`);

  const teardown = async () => {
    if (checks.failed > 0 && ui) {
      const file = path.join(stateDir, 'failure.png');
      await ui.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.log(`screenshot of the last screen: ${file}`);
    }
    await browser?.close().catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    await odoo.stop().catch(() => undefined);
    await broker.stop().catch(() => undefined);
    if (checks.failed > 0)
      for (const [name, file] of Object.entries(logs))
        if (fs.existsSync(file)) console.log(`\n----- ${name} log -----\n${tail(file, 25)}`);
    if (!keep) {
      await dropDatabase(db).catch((err: Error) => console.log(`dropdb: ${err.message}`));
      if (checks.failed === 0) fs.rmSync(stateDir, { recursive: true, force: true });
      else console.log(`logs kept in ${stateDir}`);
    } else console.log(`kept: database ${db}, state dir ${stateDir}`);
  };
  const deadline = setTimeout(async () => {
    await checks.check('global deadline', async () => {
      throw new Error(`not done within ${GLOBAL_DEADLINE_MS / 60_000} min`);
    });
    await teardown();
    checks.summary();
    process.exit(1);
  }, GLOBAL_DEADLINE_MS);

  let adminPassword = '';
  let ui: OdooUi | null = null;
  const shot = async (page: Page, name: string) => {
    if (shotsDir) await page.screenshot({ path: path.join(shotsDir, `${name}.png`) });
  };

  await checks.step('a bare Odoo database, the broker and Odoo start', async () => {
    await Promise.all([installModule(tree, db, 'install', logs.setup, 'base'), broker.start()]);
    adminPassword = secret(12);
    await runSetup(
      tree,
      db,
      { admin_password: adminPassword },
      logs.setup,
      'scripts/e2e/onboarding_setup.py',
    );
    await odoo.start();
    // One request before the browser's burst: Odoo computes its table of static paths lazily on
    // the first request, and concurrent first requests can trip CPython 3.11's
    // "AST constructor recursion depth mismatch" in ast.literal_eval (a 500 on an asset).
    await fetch(`${odoo.url}/web/static/img/favicon.ico`);
  });

  await checks.step('the administrator logs in', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    problems.watch(page);
    ui = new OdooUi(page, odoo.url);
    await ui.login('admin', adminPassword);
  });

  await checks.step('installs Workshop IoT from Apps', async () => {
    await ui!.installApp('Workshop IoT');
  });

  await checks.step('Settings > Workshop: sets the workshop timezone', async () => {
    await ui!.workshopSettings({ timezone: 'Europe/Berlin' });
    await shot(ui!.page, 'settings');
  });

  await checks.step('creates the broker', async () => {
    await ui!.createBroker({
      name: 'Workshop mosquitto',
      url: broker.url,
      username: logins.worker.username,
      password: logins.worker.password,
    });
  });

  let settings: WorkerSettings | null = null;
  await checks.step(
    '"Connect a worker": token and API key shown once with the settings',
    async () => {
      settings = await ui!.connectWorkerStart({
        name: 'Hall A worker',
        uid: 'hall-a',
        url: `http://127.0.0.1:${workerPort}`,
        broker: 'Workshop mosquitto',
      });
      assert(settings.odoo?.api_key && settings.odoo.api_key.length >= 40, 'no API key shown');
      assert(settings.http?.token && settings.http.token.length >= 32, 'no worker token shown');
    },
  );

  await checks.step(
    'the worker started with that file connects; the wizard turns green',
    async () => {
      const s = settings!;
      // Only what this machine dictates changes: where the worker keeps its data.
      const file = path.join(stateDir, 'worker-settings.json');
      writeWorkerSettings(file, { ...s, data_dir: path.join(stateDir, 'worker-data') });
      worker = new WorkerChild({
        settingsFile: file,
        logFile: logs.worker,
        url: `http://127.0.0.1:${workerPort}`,
      });
      await ui!.connectWorkerWaitOnline();
      await worker.start();
      await ui!.connectWorkerOnline(60_000);
      await shot(ui!.page, 'connect_worker_online');
      await ui!.connectWorkerFinish();
      const control = new WorkerControl(`http://127.0.0.1:${workerPort}`, s.http!.token!);
      await waitFor(
        async () => (await control.health()).broker.connected,
        'the worker connected to the broker (config pulled from Odoo)',
        30_000,
        100,
      );
    },
  );

  const sim = new Simulator({
    brokerUrl: broker.url,
    username: logins.devices.username,
    password: logins.devices.password,
    scenario: 'full-session',
    families: ['shelly_gen2'],
    devices: 1,
    // A three-phase meter beside it, for discovery (no machine reads it).
    kinds: ['pro3em'],
    prefix: 'onboarding',
    speed: SPEED,
    log: () => undefined,
  });
  const simDevice = sim.deviceConfigs()[0]!;
  await checks.step('creates a machine; the topic follows the Shelly device id', async () => {
    const topic = await ui!.createMachine({
      name: 'Laser cutter',
      deviceId: simDevice.device_id,
      worker: 'Hall A worker',
      area: 'Hall A',
      standbyW: simDevice.session_config.standby_threshold_w,
      workingW: simDevice.session_config.working_threshold_w,
    });
    assert(topic === simDevice.topic, `topic ${topic} (expected ${simDevice.topic})`);
    await shot(ui!.page, 'machine_form');
  });

  await checks.step('a simulated session appears with readable durations', async () => {
    await sim.start();
    try {
      await ui!.dashboardShowsWorking('Laser cutter', 90_000);
      await shot(ui!.page, 'dashboard');
      const row = await ui!.closedSessionRow('Laser cutter', 120_000);
      // H:MM:SS everywhere: the full-session scenario is 11 simulated minutes.
      for (const [what, text] of Object.entries(row.durations))
        assert(/^\d+:\d\d:\d\d$/.test(text), `${what} shows "${text}", not H:MM:SS`);
      await shot(ui!.page, 'sessions');
    } finally {
      await sim.stop();
    }
  });

  await checks.step(
    'Discovered meters lists the Pro 3EM; "Add as machine" pre-fills the form',
    async () => {
      const pro3em = sim.devices[1]!;
      await ui!.discoveredMeterListed(pro3em.topic, 30_000);
      await shot(ui!.page, 'discovered_meters');
      const topic = await ui!.addDiscoveredMeter(pro3em.topic);
      assert(topic === pro3em.topic, `pre-filled topic ${topic} (expected ${pro3em.topic})`);
    },
  );

  checks.unblock();
  await checks.check('no console error or uncaught exception in the browser', async () => {
    assert(problems.list.length === 0, problems.list.join('\n'));
  });
  await checks.check("no WARNING or ERROR in Odoo's log", async () => {
    const bad = odooLogProblems(fs.readFileSync(logs.odoo, 'utf8'));
    assert(bad.length === 0, bad.slice(0, 10).join('\n'));
  });

  clearTimeout(deadline);
  await teardown();
  checks.summary();
  return checks.failed ? 1 : 0;
}

process.exitCode = await main();
