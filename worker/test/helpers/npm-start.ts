/**
 * Runs the worker exactly as a user does, `npm start -- <args>`, in its own process group (like a
 * terminal's foreground job), so tests can signal the whole group the way Ctrl-C does. JSON log lines
 * are collected from stdout; tests wait on them instead of sleeping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '../../../scripts/lib/wait.ts';

export class NpmStart {
  readonly lines: Record<string, unknown>[] = [];
  stdout = '';
  stderr = '';
  /** npm's own exit (under a signal npm dies with it while the worker may still be stopping). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** stdout closed: every process of the chain (npm, sh, tsx, the worker) has exited. */
  closed = false;
  private child: ChildProcess | null = null;

  constructor(
    readonly cwd: string,
    readonly args: string[],
    readonly env: NodeJS.ProcessEnv = {},
    /** Another npm script run the same way (e.g. `simulate`). */
    readonly script = 'start',
  ) {}

  start(): this {
    // The caller's WORKSHOP_IOT_* and npm's own variables must not leak into the worker's settings.
    const base = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('WORKSHOP_IOT_') && !k.startsWith('npm_') && k !== 'INIT_CWD',
      ),
    );
    const child = spawn('npm', ['run', this.script, '--', ...this.args], {
      cwd: this.cwd,
      env: { ...base, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue; // npm's own "> script" lines
        try {
          this.lines.push(JSON.parse(line));
        } catch {
          // not a log line
        }
      }
    });
    child.stdout?.on('close', () => {
      this.closed = true;
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
    return this;
  }

  logged(msg: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.msg === msg);
  }

  async waitLog(msg: string, timeoutMs = 50_000): Promise<Record<string, unknown>> {
    await waitFor(() => this.logged(msg) ?? this.closed, `log line '${msg}'`, timeoutMs);
    const line = this.logged(msg);
    if (!line)
      throw new Error(
        `npm start ended without '${msg}': ${JSON.stringify(this.exit)} ${this.stderr}`,
      );
    return line;
  }

  async waitExit(timeoutMs = 50_000): Promise<number | null> {
    await waitFor(() => this.exit !== null, 'npm start to exit', timeoutMs);
    return this.exit?.code ?? null;
  }

  /** Waits until the worker itself is gone; returns the exit code it logged ('Worker exiting'). */
  async waitWorkerExit(timeoutMs = 50_000): Promise<unknown> {
    await waitFor(() => this.closed, 'every process of npm start to exit', timeoutMs);
    return this.logged('Worker exiting')?.exit_code;
  }

  /** What a terminal does on Ctrl-C: the signal goes to every process of the foreground group. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.child?.pid) process.kill(-this.child.pid, signal);
  }

  /** Test cleanup: nothing of the group may outlive the test. */
  kill(): void {
    if (!this.child?.pid) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
