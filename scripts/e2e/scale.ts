/**
 * Scale past one worker (issue 20): three workers, each with its own machines, against ONE Odoo
 * running multi-process as in production (`--workers 2` HTTP workers + a cron worker + the gevent
 * websocket process, behind a reverse proxy that routes `/websocket` like nginx), one mosquitto.
 *
 *   node --import tsx scripts/e2e/scale.ts [--keep]        # or: scripts/e2e/run.sh --scale
 *
 * Checks: each worker is configured with exactly its own machines; every machine's session in Odoo
 * belongs to its own worker; a worker's key cannot write another worker's machine or speak for
 * another worker (over HTTP, through the proxy, whichever Odoo process answers); the dashboard in
 * Chromium shows the machines of all three workers and follows a live change from the third one
 * (bus notification from the cron process to the gevent process); Odoo's log stays clean. The last
 * line printed is `N passed, N failed`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeviceConfig } from '@workshop-iot/shared';
import mqtt from 'mqtt';
import { dropDatabase, type OdooJsonRpc } from '../dev/odoo.ts';
import { OdooProxy } from '../dev/proxy.ts';
import { Stack, type StackInfo, workerSettings } from '../dev/stack.ts';
import { secret, tail } from '../dev/util.ts';
import { WorkerChild, WorkerControl, writeWorkerSettings } from '../dev/worker.ts';
import { freePort } from '../lib/net.ts';
import { waitFor } from '../lib/wait.ts';
import { assert, Checks, exitWith, runScenario } from './checks.ts';
import { launchChromium } from './chromium.ts';
import { BrowserProblems, odooLogProblems } from './onboarding-log.ts';
import { OdooUi } from './onboarding-ui.ts';

/** Hard stop for a hung run (about 2 minutes on a quiet machine, most of it the install). */
const GLOBAL_DEADLINE_MS = 15 * 60_000;
const SITES = ['a', 'b', 'c'] as const;
type Site = (typeof SITES)[number];

interface SiteWorker {
  uid: string;
  id: number;
  apiKey: string;
  control: WorkerControl;
  child: WorkerChild | null;
  machines: DeviceConfig[];
}

function machinesOf(site: Site): DeviceConfig[] {
  return [1, 2, 3].map((n) => ({
    device_id: `scale-${site}${n}`,
    name: `Site ${site.toUpperCase()} machine ${n}`,
    parser_type: 'shelly_gen2',
    topic: `scale-${site}${n}`,
    area: `Site ${site.toUpperCase()}`,
    session_config: {
      standby_threshold_w: 5,
      working_threshold_w: 50,
      start_debounce_s: 0,
      stop_debounce_s: 0,
      message_timeout_s: 300,
      heartbeat_interval_s: 60,
    },
  }));
}

/** A Shelly Plus 1PM's switch status (https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status). */
function switchStatus(powerW: number): string {
  return JSON.stringify({
    id: 0,
    source: 'init',
    output: powerW > 0,
    apower: powerW,
    voltage: 230.1,
    current: Number((powerW / 230).toFixed(3)),
    aenergy: { total: 1000 + powerW },
    temperature: { tC: 41.2, tF: 106.2 },
  });
}

/** An admin creates a worker and its machines in Odoo's forms (here over JSON-RPC), mints its secrets. */
async function createSiteWorker(
  rpc: OdooJsonRpc,
  info: StackInfo,
  site: Site,
  workerPort: number,
): Promise<Omit<SiteWorker, 'child'> & { token: string }> {
  const uid = `site-${site}`;
  const [broker] = await rpc.searchRead<{ broker_id: [number, string] }>(
    'workshop.worker',
    [['id', '=', info.workerId]],
    ['broker_id'],
  );
  const id = await rpc.callKw<number>('workshop.worker', 'create', [
    {
      name: `Site ${site.toUpperCase()}`,
      worker_uid: uid,
      url: `http://127.0.0.1:${workerPort}`,
      broker_id: broker!.broker_id[0],
    },
  ]);
  const secretOf = async (action: string) =>
    (await rpc.callKw<{ context: { default_secret: string } }>('workshop.worker', action, [[id]]))
      .context.default_secret;
  const apiKey = await secretOf('action_generate_api_key');
  const token = await secretOf('action_generate_token');
  const machines = machinesOf(site);
  await rpc.callKw('workshop.device', 'create', [
    machines.map((m) => ({
      name: m.name,
      device_id: m.device_id,
      topic: m.topic,
      parser_type: m.parser_type,
      area: m.area,
      worker_id: id,
      ...m.session_config,
    })),
  ]);
  const control = new WorkerControl(`http://127.0.0.1:${workerPort}`, token);
  return { uid, id, apiKey, token, control, machines };
}

async function startSiteWorker(
  info: StackInfo,
  w: Omit<SiteWorker, 'child'> & { token: string },
  port: number,
): Promise<WorkerChild> {
  const dir = path.join(info.stateDir, w.uid);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const settingsFile = path.join(dir, 'settings.json');
  writeWorkerSettings(
    settingsFile,
    workerSettings({
      workerUid: w.uid,
      dataDir: path.join(dir, 'data'),
      port,
      token: w.token,
      odooUrl: info.odooUrl,
      apiKey: w.apiKey,
      statusIntervalS: 5,
      mqttPort: await freePort(),
      broker: {
        url: info.brokerUrl,
        username: info.brokerWorkerUsername!,
        password: info.brokerWorkerPassword!,
      },
    }),
  );
  const child = new WorkerChild({
    settingsFile,
    logFile: path.join(dir, 'worker.log'),
    url: `http://127.0.0.1:${port}`,
  });
  await child.start();
  await waitFor(
    async () => {
      const h = await w.control.health();
      return h.devices === w.machines.length && h.broker.connected;
    },
    `worker ${w.uid} to pull its machines from Odoo and connect to the broker`,
    60_000,
    200,
  );
  return child;
}

/** One JSON-RPC call to Odoo's worker endpoint with a worker's API key (through the proxy). */
async function odooCall(url: string, apiKey: string, method: string, params: object) {
  const res = await fetch(`${url}/workshop_iot/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as {
    result?: { results?: { status: string; code?: string }[] };
    error?: { code: number; message: string; data?: { code?: string } };
  };
}

// Over 50 lines on purpose: setup, the checks, and a teardown that must run on every exit path.
async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  const checks = new Checks();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wiot-scale-'));
  const db = `wiot_scale_${process.pid}_${Date.now().toString(36)}`;
  const stack = new Stack({
    stateDir,
    db,
    workerUid: 'site-a',
    devices: machinesOf('a'),
    odooWorkers: 2,
    maxCronThreads: 1,
    workerStatusIntervalS: 5,
    log: (line) => console.log(`         ${line}`),
  });
  const workers = new Map<Site, SiteWorker>();
  let proxy: OdooProxy | null = null;
  let mq: mqtt.MqttClient | null = null;
  const browser = await launchChromium();
  console.log(`scale: database ${db}, state ${stateDir}`);

  let tornDown = false;
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    await browser.close().catch(() => undefined);
    await mq?.endAsync().catch(() => undefined);
    for (const w of workers.values()) if (w.child !== stack.worker) await w.child?.stop();
    await stack.down();
    await proxy?.close();
    if (checks.failed > 0) {
      for (const [name, file] of Object.entries(stack.info?.logs ?? {}))
        if (file)
          console.log(`\n----- ${name} log (last lines of ${file}) -----\n${tail(file, 25)}`);
    }
    if (!keep) {
      await dropDatabase(db).catch((err: Error) => console.log(`dropdb: ${err.message}`));
      if (checks.failed === 0) fs.rmSync(stateDir, { recursive: true, force: true });
      else console.log(`logs kept in ${stateDir}`);
    }
  };
  const deadline = setTimeout(async () => {
    await checks.check('global deadline', async () => {
      throw new Error('global deadline exceeded');
    });
    await teardown();
    checks.summary();
    process.exit(1);
  }, GLOBAL_DEADLINE_MS);

  return runScenario(
    checks,
    async () => {
      const info = await checks.step(
        'stack up: Odoo with 2 HTTP worker processes + a cron process + gevent, mosquitto, worker A',
        () => stack.up(),
      );
      if (!info) throw new Error('stack did not start');
      proxy = new OdooProxy({
        httpPort: stack.odoo!.options.port,
        geventPort: info.odooGeventPort!,
      });
      await proxy.start();
      const odooUrl = proxy.url;

      await checks.check(
        'Odoo runs prefork: 2 HTTP worker processes and a cron process',
        async () => {
          await waitFor(
            () => {
              const log = fs.readFileSync(info.logs.odoo, 'utf8');
              const http = new Set(log.match(/WorkerHTTP \((\d+)\) alive/g));
              return http.size >= 2 && /WorkerCron \(\d+\) alive/.test(log);
            },
            'the prefork workers in Odoo log',
            30_000,
            250,
          );
        },
      );

      const rpc = await stack.adminRpc();
      await checks.step(
        'an admin adds workers B and C with their own machines; both start',
        async () => {
          workers.set('a', {
            uid: 'site-a',
            id: info.workerId,
            apiKey: JSON.parse(fs.readFileSync(info.settingsFile, 'utf8')).odoo.api_key,
            control: stack.control!,
            child: stack.worker,
            machines: machinesOf('a'),
          });
          for (const site of ['b', 'c'] as const) {
            const port = await freePort();
            const created = await createSiteWorker(rpc, info, site, port);
            const child = await startSiteWorker(info, created, port);
            workers.set(site, { ...created, child });
          }
        },
      );

      await checks.check('each worker is configured with exactly its own machines', async () => {
        for (const [site, w] of workers) {
          const { config } = await w.control.config();
          const got = config.devices.map((d) => d.device_id).sort();
          const want = machinesOf(site).map((m) => m.device_id);
          assert(JSON.stringify(got) === JSON.stringify(want), `${w.uid} has ${got.join(', ')}`);
        }
      });

      mq = await mqtt.connectAsync(info.brokerUrl, {
        username: info.brokerUsername ?? undefined,
        password: info.brokerPassword ?? undefined,
        clientId: `scale-meters-${secret(4)}`,
      });
      const publishAll = async (powerW: number, sites: readonly Site[] = SITES) => {
        for (const site of sites)
          for (const m of machinesOf(site))
            await mq!.publishAsync(`${m.topic}/status/switch:0`, switchStatus(powerW), { qos: 1 });
      };

      await checks.check("every machine's session in Odoo belongs to its own worker", async () => {
        await publishAll(300);
        const ids = SITES.flatMap((s) => machinesOf(s).map((m) => m.device_id));
        type Row = { device_id: [number, string]; worker_id: [number, string]; state: string };
        let rows: Row[] = [];
        await waitFor(
          async () => {
            rows = await rpc.searchRead<Row>(
              'workshop.session',
              [['device_id.device_id', 'in', ids]],
              ['device_id', 'worker_id', 'state'],
            );
            return rows.length === ids.length;
          },
          'one session per machine in Odoo',
          60_000,
          500,
        );
        const devices = await rpc.searchRead<{
          id: number;
          device_id: string;
          worker_id: [number, string];
        }>('workshop.device', [['device_id', 'in', ids]], ['device_id', 'worker_id']);
        const owner = new Map(devices.map((d) => [d.id, d.worker_id[0]]));
        for (const row of rows)
          assert(
            owner.get(row.device_id[0]) === row.worker_id[0],
            `${row.device_id[1]}'s session came from ${row.worker_id[1]}`,
          );
        for (const site of SITES)
          assert(
            devices.filter((d) => d.worker_id[0] === workers.get(site)!.id).length === 3,
            `site ${site} owns its three machines`,
          );
      });

      await checks.check(
        "a worker's key cannot write another worker's machine nor speak for it",
        async () => {
          const b = workers.get('b')!;
          const event = {
            event_uid: randomUUID(),
            type: 'device_online',
            device_id: 'scale-a1',
            worker_uid: b.uid,
            seq: 1_000_000,
            occurred_at: new Date().toISOString(),
            payload: { state: 'idle', power_w: 0, last_seen_at: null },
          };
          const ingest = await odooCall(odooUrl, b.apiKey, 'events.ingest', {
            worker_uid: b.uid,
            events: [event],
          });
          const item = ingest.result?.results?.[0];
          assert(
            item?.status === 'rejected' && item.code === 'DEVICE_FORBIDDEN',
            `B wrote A's machine: ${JSON.stringify(ingest)}`,
          );
          const asA = await odooCall(odooUrl, b.apiKey, 'events.ingest', {
            worker_uid: 'site-a',
            events: [{ ...event, worker_uid: 'site-a', event_uid: randomUUID() }],
          });
          assert(asA.error !== undefined, `B's key spoke for worker A: ${JSON.stringify(asA)}`);
        },
      );

      await checks.check(
        'the dashboard (through the proxy) shows the machines of all three workers working',
        async () => {
          const page = await browser.newPage();
          const problems = new BrowserProblems();
          problems.watch(page);
          const ui = new OdooUi(page, odooUrl);
          await ui.login(info.adminLogin, info.adminPassword);
          await ui.openMenu('workshop_iot.dashboard_menu');
          await waitFor(
            async () =>
              (await page.locator('.o_workshop_iot_tile[data-state=working]').count()) === 9,
            'nine working tiles',
            30_000,
            250,
          );
          // Live, without a reload: the bus notification crosses from the cron process (fold) to the
          // gevent process and down the websocket.
          await publishAll(0, ['c']);
          await page
            .locator('.o_workshop_iot_tile[data-device-id="scale-c1"]:not([data-state=working])')
            .waitFor({ timeout: 30_000 });
          await waitFor(
            async () =>
              (await page.locator('.o_workshop_iot_tile[data-state=working]').count()) === 6,
            "site C's three machines leave working, sites A and B stay working",
            30_000,
            250,
          );
          assert(problems.list.length === 0, problems.list.join('\n'));
        },
      );

      await checks.check("Odoo's log has no WARNING or ERROR", async () => {
        const problems = odooLogProblems(fs.readFileSync(info.logs.odoo, 'utf8'));
        assert(problems.length === 0, problems.slice(0, 10).join('\n'));
      });
    },
    async () => {
      clearTimeout(deadline);
      await teardown();
    },
  );
}

exitWith(main, 'scale test');
