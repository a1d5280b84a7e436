/**
 * Small helpers shared by the dev stack, the end-to-end test and the latency bench: free ports,
 * waiting on conditions with a deadline (never a bare sleep as synchronisation), secrets, child
 * process plumbing and log tails.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A TCP port free on 127.0.0.1 right now (the OS picks it; tiny race window, as every test has). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('could not get a free port');
  return address.port;
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes, then fails naming `what`
 * and the last error. This is the only way the scripts wait for another process.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs: number,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const reason = last ? ` (last error: ${(last as Error).message ?? String(last)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await delay(everyMs);
  }
}

/** A pause between polls (not a synchronisation: callers poll a condition around it). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** URL-safe random secret; 32 bytes = 43 characters (worker tokens need >= 24). */
export function secret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Runs a command to completion; rejects with its stderr on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd ?? REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 0,
      },
      (err, stdout, stderr) => {
        if (err) {
          const detail = `${stderr}`.trim().split('\n').slice(-15).join('\n');
          reject(
            new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${err.message}\n${detail}`),
          );
        } else resolve({ stdout: `${stdout}`, stderr: `${stderr}` });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * SIGTERM, wait up to `graceMs` for the exit, then SIGKILL. Only ever signals this child's own pid
 * (the scripts never kill by name).
 */
export async function terminate(child: ChildProcess, graceMs: number): Promise<'term' | 'kill'> {
  if (child.exitCode !== null || child.signalCode !== null) return 'term';
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs));
  if ((await Promise.race([done.then(() => 'exit' as const), timer])) === 'exit') return 'term';
  child.kill('SIGKILL');
  await done;
  return 'kill';
}

/** The last `lines` lines of a log file ('' when it does not exist). */
export function tail(file: string, lines = 40): string {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** The environment without WORKSHOP_IOT_* variables, so a developer's shell cannot skew a child. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('WORKSHOP_IOT_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Percentile (nearest rank) of an ascending-sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
