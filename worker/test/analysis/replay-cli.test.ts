/**
 * `npm run replay` as an operator runs it (a spawned process, offline): the sessions of a recorded
 * JSON-lines file under a config file of each accepted shape, the difference between two configs,
 * JSON output, and bad input refused with the file, line and field named and exit code 2.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReplayResult } from '@workshop-iot/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/analysis/replay-cli.ts';
import { generateProfile, machine, WORKSHOP } from './profiles.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

const { inputs, jobs } = generateProfile({ ...WORKSHOP, days: 1, interval_s: 5 });
const lines = inputs.map((i) =>
  JSON.stringify({ device_id: 'saw-1', ...i, at: new Date(i.at).toISOString() }),
);
const recording = write('saw.jsonl', `${lines.join('\n')}\n`);
// A: today's 30 s stop debounce (pauses split jobs); B: 60 s (one session per job).
const short = write('short.json', machine('saw-1').session_config);
const long = write('long.json', machine('saw-1', { stop_debounce_s: 60 }));

/** Runs the CLI in its own process through tsx, as `npm run replay` does. */
function spawnCli(...args: string[]): Promise<{ code: number | null; out: string }> {
  const cli = path.join(ROOT, 'worker/src/analysis/replay-cli.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli, ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
      (err, stdout) =>
        resolve({ code: err ? ((err.code as number | undefined) ?? null) : 0, out: stdout }),
    );
  });
}

/** The same entry point in this process (the cases that need no process of their own). */
function replayCli(...args: string[]): { code: number; out: string } {
  let out = '';
  const code = main(args, (s) => {
    out += s;
  });
  return { code, out };
}

describe('npm run replay', () => {
  it('prints the sessions, one per job with a 60 s stop debounce', async () => {
    const { code, out } = await spawnCli('--recording', recording, '--config', long);
    expect(code).toBe(0);
    expect(out).toContain(`Machine saw-1, ${new Date(inputs[0]?.at ?? 0).toISOString()}`);
    expect(out).toMatch(/started_at\s+ended_at\s+reason\s+working\s+standby\s+total\s+energy_wh/);
    const rows = out.split('\n').filter((l) => /^\d+ {2}/.test(l));
    expect(rows).toHaveLength(jobs.length);
    expect(rows[0]).toContain(new Date(jobs[0]?.startAt ?? 0).toISOString());
    expect(rows[0]).toContain('power_off');
  });

  it('compares two configs: sessions only in A, only in B, changed', async () => {
    const { code, out } = await spawnCli(
      '--recording',
      recording,
      '--config',
      short,
      '--compare',
      long,
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^A: .*short\.json \(standby 5 W, working 60 W, start 10 s, stop 30 s/m);
    expect(out).toMatch(/^B: .*long\.json .*stop 60 s/m);
    const diff = out.slice(out.indexOf('Diff A -> B:'));
    expect(diff).toMatch(/^Diff A -> B: \d+ only in A, 0 only in B, \d+ changed, \d+ the same/);
    expect(diff).toMatch(/^- only in A: /m);
    expect(diff).toMatch(/^~ changed: {3}.*ended_at .* -> /m);
  });

  it('prints JSON with --json, the same sessions as the table', () => {
    const { code, out } = replayCli(
      '--recording',
      recording,
      '--config',
      short,
      '--compare',
      long,
      '--json',
    );
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as {
      a: ReplayResult;
      b: ReplayResult;
      diff: { onlyA: unknown[]; onlyB: unknown[] };
    };
    expect(parsed.b.sessions).toHaveLength(jobs.length);
    expect(parsed.a.sessions.length).toBeGreaterThan(jobs.length);
    expect(parsed.diff.onlyB).toEqual([]);
  });

  it('takes a worker settings file and picks the machine with --device, within --from/--to', () => {
    const settings = write('settings.json', {
      config: {
        version: 1,
        broker: { url: null },
        devices: [machine('saw-1', { stop_debounce_s: 60 }), machine('lathe-2')],
      },
    });
    const [first, second] = jobs;
    const from = new Date(first?.startAt ?? 0).toISOString();
    const to = new Date(second?.startAt ?? 0).toISOString();
    const args = ['--recording', recording, '--config', settings, '--device', 'saw-1'];
    const { code, out } = replayCli(...args, '--from', from, '--to', to, '--json');
    expect(code).toBe(0);
    const { a } = JSON.parse(out) as { a: ReplayResult };
    expect(a.sessions).toHaveLength(1);
    expect(a.sessions[0]?.started_at).toBe(from);
    const ambiguous = replayCli('--recording', recording, '--config', settings);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.out).toContain(
      '/config/devices: holds 2 devices; name one with --device (saw-1, lathe-2)',
    );
  });

  it('refuses a bad line naming the file, the line and the field, exit 2', async () => {
    const bad = write(
      'bad.jsonl',
      [lines[0], lines[1], lines[2]?.replace(/"power_w":[\d.]+/, '"power_w":"abc"')].join('\n'),
    );
    const { code, out } = await spawnCli('--recording', bad, '--config', long);
    expect(code).toBe(2);
    expect(out).toBe(`replay: ${bad}: line 3: /power_w: must be a number >= 0 (got "abc")\n`);
    const notJson = write('broken.jsonl', `${lines[0]}\n{"device_id": \n`);
    expect(replayCli('--recording', notJson, '--config', long).out).toMatch(
      /broken\.jsonl: line 2: not JSON/,
    );
  });

  it('refuses a bad config naming the file and the field, and a missing option, exit 2', () => {
    const inverted = write('inverted.json', {
      ...machine('saw-1').session_config,
      working_threshold_w: 1,
    });
    const r = replayCli('--recording', recording, '--config', inverted);
    expect(r.code).toBe(2);
    expect(r.out).toBe(
      `replay: ${inverted}: /working_threshold_w: must be greater than standby_threshold_w\n`,
    );
    const missing = replayCli('--recording', recording);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/^replay: --config <file> is required\n\nUsage: npm run replay/);
    const unknown = replayCli('--recording', recording, '--config', long, '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/^replay: Unknown option '--bogus'/);
  });
});
