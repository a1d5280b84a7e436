/**
 * A full local stack without Docker, as a library: PostgreSQL database with workshop_iot, Odoo 18
 * (threaded, one HTTP port), Debian mosquitto (or the worker's embedded broker), the real worker.
 * Used by scripts/dev-stack.sh (scripts/dev/cli.ts), the end-to-end test and the latency bench.
 *
 *   const stack = new Stack({ stateDir, db: 'wiot_dev', ... });
 *   const info = await stack.up();   // every process started, worker configured by Odoo
 *   await stack.down();              // stops everything it started, in reverse order
 *
 * Everything lives under `stateDir` (never in the repository): logs, the worker's data dir and
 * settings file (mode 0600: tokens), mosquitto's config, password file and ACL, Odoo's data dir.
 * Mosquitto runs with the Docker stack's ACL (deploy/mosquitto/acl): the worker logs in as `worker`,
 * simulated meters as `devices` (StackInfo.brokerUsername / brokerPassword).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceConfig, WorkerSettings } from '@workshop-iot/shared';
import type { Mosquitto } from '../lib/mosquitto.ts';
import { freePort } from '../lib/net.ts';
import { waitFor } from '../lib/wait.ts';
import { STACK_ACL, stackBroker } from './mosquitto.ts';
import {
  databaseExists,
  dropDatabase,
  installModule,
  OdooJsonRpc,
  OdooServer,
  type OdooTree,
  odooTree,
  runSetup,
} from './odoo.ts';
import { secret } from './util.ts';
import { WorkerChild, WorkerControl, writeWorkerSettings } from './worker.ts';

export interface StackOptions {
  stateDir: string;
  db: string;
  /** Keep an existing database (module updated with -u) and the worker's data dir. */
  reuse?: boolean;
  /** Odoo HTTP port; a free one when absent. */
  httpPort?: number;
  /** The worker's embedded MQTT broker instead of Debian's mosquitto. */
  embeddedBroker?: boolean;
  workerUid?: string;
  /** Modules to install (default workshop_iot; the e2e test adds workshop_iot_account). */
  modules?: string[];
  /** Machines the setup creates (e.g. the simulator's devices). */
  devices?: DeviceConfig[];
  maxCronThreads?: number;
  /** Odoo HTTP worker processes (`--workers`, prefork as in production); 0/absent = threaded. */
  odooWorkers?: number;
  odooLogLevel?: string;
  /** Extra environment of the Odoo server (the benches set WORKSHOP_IOT_RPC_TIMINGS=1). */
  odooEnv?: NodeJS.ProcessEnv;
  workerLogLevel?: string;
  workerStatusIntervalS?: number;
  /** The URL the worker uses to reach Odoo; default Odoo itself (the e2e test puts a tap between). */
  workerOdooUrl?: (odooUrl: string) => string | Promise<string>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SetupResult {
  admin_login: string;
  api_key: string;
  worker_token: string;
  worker_id: number;
  broker_id: number;
  integration_login: string;
  config_version: number;
  device_ids: Record<string, number>;
}

export interface StackInfo {
  db: string;
  stateDir: string;
  odooUrl: string;
  adminLogin: string;
  adminPassword: string;
  workerUid: string;
  workerId: number;
  workerUrl: string;
  workerToken: string;
  workerDataDir: string;
  settingsFile: string;
  brokerUrl: string;
  /** The meters' login (`devices`): what simulators and benches publish with. */
  brokerUsername: string | null;
  brokerPassword: string | null;
  /** The worker's login (`worker`), also on Odoo's broker record: reads every topic. */
  brokerWorkerUsername: string | null;
  brokerWorkerPassword: string | null;
  embeddedBroker: boolean;
  deviceIds: Record<string, number>;
  /** The gevent (websocket) port of a multi-process Odoo; null when threaded. */
  odooGeventPort: number | null;
  logs: { odoo: string; worker: string; broker: string | null; setup: string };
}

/** What a worker of the stack is told before Odoo's config arrives. */
export interface WorkerSettingsInput {
  workerUid: string;
  dataDir: string;
  /** Control API port (127.0.0.1). */
  port: number;
  token: string;
  odooUrl: string;
  apiKey: string;
  statusIntervalS: number;
  /** The embedded broker's port (used only when `broker` is null). */
  mqttPort: number;
  /** mosquitto's URL and the worker's login; null = the worker's embedded broker. */
  broker: { url: string; username: string; password: string } | null;
}

/** The settings file of a stack worker (the stack's own, or more of them: scripts/e2e/scale.ts). */
export function workerSettings(w: WorkerSettingsInput): WorkerSettings {
  return {
    worker_uid: w.workerUid,
    data_dir: w.dataDir,
    http: { host: '127.0.0.1', port: w.port, token: w.token },
    odoo: {
      url: w.odooUrl,
      api_key: w.apiKey,
      // No odoo.database: Odoo 18 ignores `?db=` on a bearer route (it picks the database from
      // the session or --db-filter, which Odoo runs with here) and logs a warning per call.
      status_interval_s: w.statusIntervalS,
    },
    // The initial config until Odoo's arrives with worker.hello; with the embedded broker its
    // port is a free one (the default 1884 may be taken by another test on this machine).
    embedded_broker: { host: '127.0.0.1', port: w.mqttPort },
    config: { version: 0, worker_uid: w.workerUid, broker: w.broker ?? { url: null }, devices: [] },
  };
}

export class Stack {
  readonly tree: OdooTree;
  odoo: OdooServer | null = null;
  worker: WorkerChild | null = null;
  broker: Mosquitto | null = null;
  control: WorkerControl | null = null;
  info: StackInfo | null = null;
  readonly #log: (line: string) => void;

  constructor(readonly options: StackOptions) {
    this.tree = odooTree(path.join(options.stateDir, 'odoo-data'));
    this.#log = options.log ?? (() => undefined);
  }

  // Over 50 lines on purpose: the start order of the whole stack reads best in one place.
  async up(): Promise<StackInfo> {
    const o = this.options;
    const dir = o.stateDir;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const workerDataDir = path.join(dir, 'worker-data');
    const logs = {
      odoo: path.join(dir, 'odoo.log'),
      worker: path.join(dir, 'worker.log'),
      broker: o.embeddedBroker ? null : path.join(dir, 'mosquitto', 'mosquitto.log'),
      setup: path.join(dir, 'odoo-setup.log'),
    };
    const exists = await databaseExists(o.db);
    if (!o.reuse) {
      // A new database means a new worker identity in Odoo: the old outbox/config must go too.
      fs.rmSync(workerDataDir, { recursive: true, force: true });
      fs.rmSync(path.join(this.tree.dataDir, 'filestore', o.db), { recursive: true, force: true });
      for (const f of [logs.odoo, logs.worker, logs.setup]) fs.rmSync(f, { force: true });
    }
    const [odooPort, workerPort, mqttPort, geventPort] = await Promise.all([
      o.httpPort ?? freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const workerUid = o.workerUid ?? 'dev-worker';
    const workerUrl = `http://127.0.0.1:${workerPort}`;
    // Two logins, as in the Docker stack; null with the embedded broker (no authentication).
    const logins = o.embeddedBroker
      ? null
      : {
          worker: { username: 'worker', password: secret(18) },
          devices: { username: 'devices', password: secret(18) },
        };
    const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;

    const modules = (o.modules ?? ['workshop_iot']).join(',');
    // The database install and the broker start are independent: run them side by side.
    const install = (async () => {
      if (exists && o.reuse) {
        this.#log(`database ${o.db} exists: updating workshop_iot (-u)`);
        await installModule(this.tree, o.db, 'update', logs.setup, modules);
      } else {
        if (exists) {
          this.#log(`dropping database ${o.db}`);
          await dropDatabase(o.db);
        }
        this.#log(`creating database ${o.db} and installing workshop_iot`);
        await installModule(this.tree, o.db, 'install', logs.setup, modules);
      }
    })();
    const startBroker = async () => {
      if (o.embeddedBroker) return;
      this.broker = stackBroker({
        dir: path.join(dir, 'mosquitto'),
        port: mqttPort,
        logins: [logins!.worker, logins!.devices],
        aclFile: STACK_ACL,
      });
      await this.broker.start();
      this.#log(`mosquitto on ${brokerUrl} (pid ${this.broker.pid})`);
    };
    // Both settle before a failure is raised: no install keeps running behind a failed start.
    for (const r of await Promise.allSettled([install, startBroker()]))
      if (r.status === 'rejected') throw r.reason;

    const adminPassword = secret(12);
    this.#log('configuring Odoo: admin password, broker, worker, integration user + API key');
    const setup = await runSetup<SetupResult>(
      this.tree,
      o.db,
      {
        admin_password: adminPassword,
        worker: { uid: workerUid, name: `Worker ${workerUid}`, url: workerUrl },
        broker: o.embeddedBroker
          ? { name: 'Worker embedded broker', embedded: true }
          : {
              name: 'Local mosquitto',
              embedded: false,
              url: brokerUrl,
              username: logins!.worker.username,
              password: logins!.worker.password,
            },
        devices: o.devices ?? [],
      },
      logs.setup,
    );

    this.odoo = new OdooServer({
      tree: this.tree,
      db: o.db,
      port: odooPort,
      logFile: logs.odoo,
      maxCronThreads: o.maxCronThreads ?? 1,
      logLevel: o.odooLogLevel ?? 'info',
      ...(o.odooWorkers ? { workers: o.odooWorkers, geventPort } : {}),
      ...(o.odooEnv ? { env: o.odooEnv } : {}),
    });
    await this.odoo.start();
    this.#log(`Odoo on ${this.odoo.url} (pid ${this.odoo.pid})`);

    const settingsFile = path.join(dir, 'worker-settings.json');
    const odooUrlForWorker = o.workerOdooUrl ? await o.workerOdooUrl(this.odoo.url) : this.odoo.url;
    const settings = workerSettings({
      workerUid,
      dataDir: workerDataDir,
      port: workerPort,
      token: setup.worker_token,
      odooUrl: odooUrlForWorker,
      apiKey: setup.api_key,
      statusIntervalS: o.workerStatusIntervalS ?? 30,
      mqttPort,
      broker: o.embeddedBroker ? null : { url: brokerUrl, ...logins!.worker },
    });
    writeWorkerSettings(settingsFile, settings);
    this.worker = new WorkerChild({
      settingsFile,
      logFile: logs.worker,
      url: workerUrl,
      ...(o.workerLogLevel ? { logLevel: o.workerLogLevel } : {}),
    });
    await this.worker.start();
    this.control = new WorkerControl(workerUrl, setup.worker_token);
    this.#log(`worker on ${workerUrl} (pid ${this.worker.pid})`);
    // worker.hello pulls the config Odoo holds (broker, machines); then the broker connects.
    await waitFor(
      async () => {
        const h = await this.control!.health();
        return h.config.version >= setup.config_version && h.broker.connected;
      },
      'the worker to pull its config from Odoo and connect to the broker',
      60_000,
      200,
    );

    this.info = {
      db: o.db,
      stateDir: dir,
      odooUrl: this.odoo.url,
      adminLogin: setup.admin_login,
      adminPassword,
      workerUid,
      workerId: setup.worker_id,
      workerUrl,
      workerToken: setup.worker_token,
      workerDataDir,
      settingsFile,
      brokerUrl,
      brokerUsername: logins?.devices.username ?? null,
      brokerPassword: logins?.devices.password ?? null,
      brokerWorkerUsername: logins?.worker.username ?? null,
      brokerWorkerPassword: logins?.worker.password ?? null,
      embeddedBroker: o.embeddedBroker === true,
      deviceIds: setup.device_ids,
      odooGeventPort: o.odooWorkers ? geventPort : null,
      logs,
    };
    return this.info;
  }

  /** An admin's JSON-RPC session on Odoo. */
  async adminRpc(): Promise<OdooJsonRpc> {
    if (!this.info || !this.odoo) throw new Error('stack is not up');
    const rpc = new OdooJsonRpc(this.odoo.url, this.info.db);
    await rpc.authenticate(this.info.adminLogin, this.info.adminPassword);
    return rpc;
  }

  /** Stops what it started, in reverse order (worker first: its graceful stop flushes to Odoo). */
  async down(): Promise<void> {
    const steps: [string, (() => Promise<unknown>) | undefined][] = [
      ['worker', this.worker ? () => this.worker!.stop() : undefined],
      ['odoo', this.odoo ? () => this.odoo!.stop() : undefined],
      ['mosquitto', this.broker ? () => this.broker!.stop() : undefined],
    ];
    for (const [name, fn] of steps) {
      if (!fn) continue;
      try {
        await fn();
      } catch (err) {
        this.#log(`stopping ${name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Pids of the children, for the dev stack's state file (`dev-stack.sh stop` after a crash). */
  pids(): Record<string, number | null> {
    return {
      odoo: this.odoo?.pid ?? null,
      worker: this.worker?.pid ?? null,
      mosquitto: this.broker?.pid ?? null,
    };
  }
}
