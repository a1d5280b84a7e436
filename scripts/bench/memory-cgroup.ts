/**
 * A memory cgroup for the benches: runs a process as on a board with that much RAM. Node sizes V8's
 * heap from the memory the process may use (the cgroup's limit, else the machine's RAM), so a
 * worker in a 1 GiB cgroup configures its heap as on a 1 GiB board. Needs root and a writable
 * memory controller (cgroup v2, or v1's memory hierarchy); `memoryCgroup` throws with the reason.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A memory cgroup limiting its members: where to write a pid, and how to remove it (empty). */
export interface MemoryCgroup {
  procs: string;
  remove(): void;
}

/** Makes a memory cgroup (v2 unified or v1 memory controller); throws with the reason it cannot. */
export function memoryCgroup(bytes: number): MemoryCgroup {
  const name = `wiot-bench-${process.pid}-${Date.now()}`;
  const layouts = [
    { root: '/sys/fs/cgroup', limit: 'memory.max', marker: 'cgroup.controllers' },
    { root: '/sys/fs/cgroup/unified', limit: 'memory.max', marker: 'cgroup.controllers' },
    {
      root: '/sys/fs/cgroup/memory',
      limit: 'memory.limit_in_bytes',
      marker: 'memory.limit_in_bytes',
    },
  ];
  const reasons: string[] = [];
  for (const layout of layouts) {
    if (!existsSync(join(layout.root, layout.marker))) continue;
    const dir = join(layout.root, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, layout.limit), String(bytes));
      return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
    } catch (err) {
      reasons.push(`${layout.root}: ${(err as Error).message}`);
      if (existsSync(dir)) rmdirSync(dir);
    }
  }
  throw new Error(`no writable memory cgroup (${reasons.join('; ') || 'none mounted'})`);
}

/** Starts `command` inside `cgroup`: a shell joins it, then becomes the command (exec). */
export function spawnInCgroup(
  cgroup: MemoryCgroup,
  command: string,
  args: string[],
  options: SpawnOptions,
): ChildProcess {
  return spawn(
    'sh',
    ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, command, ...args],
    options,
  );
}
