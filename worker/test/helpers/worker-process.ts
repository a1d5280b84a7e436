/**
 * Runs the REAL worker (`node --import tsx worker/src/main.ts --config <file>`) as a child process
 * and waits on its JSON log lines (e.g. the "Workshop IoT worker started" line) instead of sleeping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../../scripts/lib/wait.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export class WorkerProcess {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private child: ChildProcess | null = null;

  constructor(
    readonly settingsFile: string,
    readonly env: NodeJS.ProcessEnv = {},
  ) {}

  static writeSettings(dir: string, settings: object): string {
    const file = path.join(dir, 'settings.json');
    fs.writeFileSync(file, JSON.stringify(settings, null, 2));
    return file;
  }

  /** Spawns and resolves when the worker logged that it started. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.lines.length = 0;
    this.exit = null;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'worker/src/main.ts', '--config', this.settingsFile],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env, WORKSHOP_IOT_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line));
        } catch {
          // not a log line
        }
        nl = buffer.indexOf('\n');
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
    await waitFor(
      () => {
        if (this.exit)
          throw new Error(`worker exited early: ${JSON.stringify(this.exit)} ${this.stderr}`);
        return this.logged('Workshop IoT worker started');
      },
      'worker start',
      timeoutMs,
    );
  }

  logged(msg: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.msg === msg);
  }

  /** kill -9: no shutdown code runs. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await waitFor(() => this.exit !== null, 'worker killed', 10_000);
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.exit) return this.exit.code;
    this.child?.kill('SIGTERM');
    await waitFor(() => this.exit !== null, 'worker stopped', timeoutMs);
    const exit = this.exit as WorkerProcess['exit'];
    return exit?.code ?? null;
  }
}

/** Seeded PRNG so a failing run can be replayed with the same kill points. */
export { seededRandom as seeded } from '../../../scripts/sim/random.ts';
