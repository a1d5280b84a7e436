/**
 * Small helpers shared by the dev stack, the end-to-end test and the latency bench: secrets, child
 * process plumbing and log tails. Free ports and waiting on conditions (never a bare sleep as
 * synchronisation) are scripts/lib/net.ts and scripts/lib/wait.ts, shared with the worker's tests.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
