/**
 * The real worker (`node --import tsx worker/src/main.ts --config <file>`) as a child process, its
 * settings file, and a client of its control API (`POST /rpc`: `config.get`, `health.get`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { ConfigGetResult, Health, WorkerSettings } from '@workshop-iot/shared';
import { waitFor } from '../lib/wait.ts';
import { cleanEnv, exited, REPO_ROOT, tail, terminate } from './util.ts';

/** Writes the settings file with mode 0600: it holds the control token and the Odoo API key. */
export function writeWorkerSettings(file: string, settings: WorkerSettings): void {
  fs.writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export interface WorkerChildOptions {
  settingsFile: string;
  logFile: string;
  /** Base URL of the control API (http://127.0.0.1:<port>), polled for readiness. */
  url: string;
  logLevel?: string;
}

export class WorkerChild {
  child: ChildProcess | null = null;

  constructor(readonly options: WorkerChildOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the worker; resolves when `GET /health` answers. Log lines are appended to logFile. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error('worker already running');
    const log = fs.openSync(this.options.logFile, 'a');
    const child = spawn(
      process.execPath,
      // WIOT_WORKER_MAIN: another worker entry point (e.g. a patched copy for an A/B measurement).
      [
        '--import',
        'tsx',
        process.env.WIOT_WORKER_MAIN || 'worker/src/main.ts',
        '--config',
        this.options.settingsFile,
      ],
      {
        cwd: REPO_ROOT,
        // JSON log lines (stdout is a file, not a TTY); WORKSHOP_IOT_* of the caller's shell are
        // dropped so the settings file alone decides.
        env: cleanEnv({ WORKSHOP_IOT_LOG_LEVEL: this.options.logLevel ?? 'info' }),
        stdio: ['ignore', log, log],
        detached: true,
      },
    );
    fs.closeSync(log);
    this.child = child;
    await waitFor(
      async () => {
        if (!this.running)
          throw new Error(`worker exited early (${child.exitCode ?? child.signalCode})`);
        const res = await fetch(`${this.options.url}/health`, {
          signal: AbortSignal.timeout(2000),
        });
        return res.ok;
      },
      `worker on ${this.options.url}`,
      timeoutMs,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${tail(this.options.logFile, 30)}`);
    });
  }

  /** kill -9: no shutdown code runs in the worker. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** SIGTERM: the worker's graceful shutdown (flushes the outbox for up to 5 s). */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child) await terminate(this.child, graceMs);
  }
}

/** JSON-RPC client of the worker's control API, with the admin token. */
export class WorkerControl {
  #id = 0;

  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async call<T>(method: string, params: object = {}): Promise<T> {
    const res = await fetch(`${this.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++this.#id, method, params }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`worker ${method}: ${body.error.message}`);
    return body.result as T;
  }

  config(): Promise<ConfigGetResult> {
    return this.call<ConfigGetResult>('config.get');
  }

  health(): Promise<Health> {
    return this.call<Health>('health.get');
  }
}
