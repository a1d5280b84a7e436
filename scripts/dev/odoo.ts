/**
 * Odoo 18 from a source tree (ODOO_SRC) run with Debian's python3 and the local PostgreSQL socket:
 * database install/update, the `odoo-bin shell` setup script, the HTTP server as a child process
 * (threaded, `--workers=0`: the bus websocket is on the HTTP port), and a JSON-RPC client that does
 * what an admin's browser does (`/web/session/authenticate` + `/web/dataset/call_kw`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lib/wait.ts';
import { cleanEnv, exited, REPO_ROOT, run, tail, terminate } from './util.ts';

/** Debian's python: it sees the python3-* packages Odoo needs (never a pyenv/venv one). */
export const PYTHON = '/usr/bin/python3';
export const DEFAULT_ODOO_SRC = '/opt/odoo18';

export interface OdooTree {
  src: string;
  addonsPath: string;
  /** Odoo's data dir (filestore, sessions): kept out of the repository. */
  dataDir: string;
}

/** Resolves ODOO_SRC; throws a clear message when there is no Odoo tree. */
export function odooTree(
  dataDir: string,
  src = process.env.ODOO_SRC || DEFAULT_ODOO_SRC,
): OdooTree {
  if (!fs.existsSync(path.join(src, 'odoo-bin')))
    throw new Error(`no Odoo 18 tree at ODOO_SRC=${src} (odoo-bin missing)`);
  const parts = [path.join(REPO_ROOT, 'addon')];
  if (fs.existsSync(path.join(src, 'addons'))) parts.push(path.join(src, 'addons'));
  parts.push(path.join(src, 'odoo', 'addons'));
  return { src, addonsPath: parts.join(','), dataDir };
}

function baseArgs(tree: OdooTree, db: string): string[] {
  return [
    path.join(tree.src, 'odoo-bin'),
    '-d',
    db,
    '--db_host=',
    `--addons-path=${tree.addonsPath}`,
    `--data-dir=${tree.dataDir}`,
    '--without-demo=all',
  ];
}

export async function databaseExists(db: string): Promise<boolean> {
  const { stdout } = await run('psql', [
    '-X',
    '-d',
    'postgres',
    '-Atc',
    `SELECT 1 FROM pg_database WHERE datname = '${db.replace(/'/g, "''")}'`,
  ]);
  return stdout.trim() === '1';
}

export async function dropDatabase(db: string): Promise<void> {
  await run('dropdb', ['--if-exists', '--force', db]);
}

/**
 * `-i workshop_iot` on a new database, or `-u workshop_iot` on an existing one; then exits.
 * `module` = 'base' creates a bare Odoo database (the onboarding walk-through installs the addon
 * from Apps in the browser, as an admin does).
 */
export async function installModule(
  tree: OdooTree,
  db: string,
  mode: 'install' | 'update',
  logFile: string,
  module = 'workshop_iot',
): Promise<void> {
  const args = [
    ...baseArgs(tree, db),
    mode === 'install' ? '-i' : '-u',
    module,
    '--stop-after-init',
    '--no-http',
    '--max-cron-threads=0',
    '--log-level=warn',
  ];
  try {
    const { stdout, stderr } = await run(PYTHON, args, { env: cleanEnv(), timeoutMs: 600_000 });
    fs.appendFileSync(logFile, stdout + stderr);
  } catch (err) {
    fs.appendFileSync(logFile, String((err as Error).message));
    throw new Error(`Odoo ${mode} of ${module} on ${db} failed (log: ${logFile})`);
  }
}

/**
 * Runs scripts/dev/setup_odoo.py in `odoo-bin shell` with `input` as JSON (env WIOT_SETUP) and
 * returns the JSON object it prints on its `WIOT_SETUP_RESULT` line.
 */
export async function runSetup<T>(
  tree: OdooTree,
  db: string,
  input: object,
  logFile: string,
  scriptPath = 'scripts/dev/setup_odoo.py',
): Promise<T> {
  const script = fs.readFileSync(path.join(REPO_ROOT, scriptPath), 'utf8');
  const args = [
    path.join(tree.src, 'odoo-bin'),
    'shell',
    ...baseArgs(tree, db).slice(1),
    '--no-http',
    '--max-cron-threads=0',
    '--log-level=warn',
  ];
  let out: { stdout: string; stderr: string };
  try {
    out = await run(PYTHON, args, {
      env: cleanEnv({ WIOT_SETUP: JSON.stringify(input) }),
      input: script,
      timeoutMs: 300_000,
    });
  } catch (err) {
    fs.appendFileSync(logFile, String((err as Error).message));
    throw new Error(`Odoo setup script failed on ${db} (log: ${logFile})`);
  }
  fs.appendFileSync(logFile, out.stderr);
  const line = out.stdout.split('\n').find((l) => l.startsWith('WIOT_SETUP_RESULT '));
  if (!line) {
    fs.appendFileSync(logFile, out.stdout);
    throw new Error(`Odoo setup script printed no result (log: ${logFile})`);
  }
  return JSON.parse(line.slice('WIOT_SETUP_RESULT '.length)) as T;
}

export interface OdooServerOptions {
  tree: OdooTree;
  db: string;
  port: number;
  logFile: string;
  /** Cron threads (0 in tests: crons then run only when a test calls them). */
  maxCronThreads?: number;
  /**
   * HTTP worker processes (`--workers`): 0 (default) = threaded, one process, the bus websocket on
   * the HTTP port; N > 0 = Odoo's prefork server as in production, the websocket then served by the
   * gevent process on `geventPort` (a proxy routes `/websocket` there: scripts/dev/proxy.ts).
   */
  workers?: number;
  geventPort?: number;
  logLevel?: string;
  env?: NodeJS.ProcessEnv;
}

/** The Odoo HTTP server as a child process in its own process group (Ctrl-C reaches only us). */
export class OdooServer {
  child: ChildProcess | null = null;
  readonly url: string;

  constructor(readonly options: OdooServerOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts Odoo and resolves when `/web/health` answers (the registry is loaded then). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error('Odoo already running');
    const o = this.options;
    const args = [
      ...baseArgs(o.tree, o.db),
      `--db-filter=^${o.db}$`,
      '--http-interface=127.0.0.1',
      `--http-port=${o.port}`,
      `--workers=${o.workers ?? 0}`,
      ...(o.workers ? [`--gevent-port=${o.geventPort}`, '--limit-time-real=600'] : []),
      `--max-cron-threads=${o.maxCronThreads ?? 1}`,
      `--log-level=${o.logLevel ?? 'info'}`,
    ];
    const log = fs.openSync(o.logFile, 'a');
    const child = spawn(PYTHON, args, {
      cwd: REPO_ROOT,
      env: cleanEnv(o.env),
      stdio: ['ignore', log, log],
      detached: true,
    });
    fs.closeSync(log);
    this.child = child;
    await waitFor(
      async () => {
        if (!this.running)
          throw new Error(`Odoo exited early (${child.exitCode ?? child.signalCode})`);
        const res = await fetch(`${this.url}/web/health`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      `Odoo on ${this.url} (log ${o.logFile}):\n${tail(o.logFile, 20)}`,
      timeoutMs,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${tail(o.logFile, 30)}`);
    });
  }

  /** SIGTERM (Odoo's graceful shutdown); SIGKILL only if it has not exited after `graceMs`. */
  async stop(graceMs = 20_000): Promise<'term' | 'kill'> {
    const child = this.child;
    if (!child) return 'term';
    const how = await terminate(child, graceMs);
    await exited(child);
    return how;
  }
}

// ------------------------------------------------------------------------------------------------
// JSON-RPC as an admin's browser does it

export class OdooRpcError extends Error {
  constructor(
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}

/** `/web/session/authenticate` once, then `/web/dataset/call_kw` with the session cookie. */
export class OdooJsonRpc {
  #cookie = '';
  #id = 0;

  constructor(
    readonly url: string,
    readonly db: string,
  ) {}

  async authenticate(login: string, password: string): Promise<number> {
    const res = await this.#post('/web/session/authenticate', { db: this.db, login, password });
    const uid = (res as { uid?: number }).uid;
    if (!uid) throw new OdooRpcError(`login ${login} refused`, res);
    return uid;
  }

  /** `model.method(*args, **kwargs)` through the ORM's public RPC entry point. */
  callKw<T = unknown>(
    model: string,
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown> = {},
  ): Promise<T> {
    return this.#post(`/web/dataset/call_kw/${model}/${method}`, {
      model,
      method,
      args,
      kwargs,
    }) as Promise<T>;
  }

  searchRead<T = Record<string, unknown>>(
    model: string,
    domain: unknown[],
    fields: string[],
    extra: Record<string, unknown> = {},
  ): Promise<T[]> {
    return this.callKw<T[]>(model, 'search_read', [domain], { fields, ...extra });
  }

  async #post(route: string, params: object): Promise<unknown> {
    const res = await fetch(this.url + route, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.#cookie ? { cookie: this.#cookie } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: ++this.#id, params }),
      signal: AbortSignal.timeout(30_000),
    });
    const setCookie = res.headers.get('set-cookie');
    const session = setCookie?.match(/session_id=[^;]+/)?.[0];
    if (session) this.#cookie = session;
    if (!res.ok) throw new OdooRpcError(`HTTP ${res.status} on ${route}`, await res.text());
    const body = (await res.json()) as {
      result?: unknown;
      error?: { data?: { message?: string } };
    };
    if (body.error) {
      throw new OdooRpcError(
        `${route}: ${body.error.data?.message ?? JSON.stringify(body.error)}`,
        body.error,
      );
    }
    return body.result;
  }
}

/** One SQL query over the local socket; rows as arrays of strings (psql -A, tab separated). */
export async function psql(db: string, sql: string): Promise<string[][]> {
  const { stdout } = await run('psql', [
    '-X',
    '-q',
    '-d',
    db,
    '-AtF',
    '\t',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ]);
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}
