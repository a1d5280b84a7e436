/**
 * `npm start -- --config <file>` as worker/README.md documents it, run for real from the repository
 * root and from the worker workspace: the worker must use that file (the root script used to hand
 * the arguments to the inner npm, which swallowed them). An unknown option fails with exit code 2
 * and a message naming it instead of starting on defaults.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import { NpmStart } from '../helpers/npm-start.ts';
import { REPO_ROOT } from '../helpers/worker-process.ts';

let dir: string;
let runs: NpmStart[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-args-'));
});
afterEach(() => {
  for (const run of runs) run.kill();
  runs = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A settings file only this test could have written: its worker_uid proves it was read. */
async function writeSettings(uid: string): Promise<string> {
  const file = path.join(dir, `${uid}.json`);
  const settings = {
    worker_uid: uid,
    data_dir: path.join(dir, `data-${uid}`),
    log_level: 'info',
    http: { port: 0 },
    embedded_broker: { port: await freePort() },
  };
  fs.writeFileSync(file, JSON.stringify(settings));
  return file;
}

function npmStart(cwd: string, args: string[]): NpmStart {
  const run = new NpmStart(cwd, args).start();
  runs.push(run);
  return run;
}

async function expectStartedWith(run: NpmStart, file: string, uid: string): Promise<void> {
  const started = await run.waitLog('Workshop IoT worker started');
  expect(started.settings_file).toBe(file);
  expect(started.worker_uid).toBe(uid);
  run.signalGroup('SIGTERM');
  expect(await run.waitWorkerExit()).toBe(0);
}

describe('npm start -- <worker options>', () => {
  it('uses --config <file> from the repository root', async () => {
    const file = await writeSettings('from-root');
    await expectStartedWith(npmStart(REPO_ROOT, ['--config', file]), file, 'from-root');
  });

  it('resolves a relative --config path against the directory npm was run in', async () => {
    const file = await writeSettings('relative');
    const relative = path.relative(REPO_ROOT, file);
    await expectStartedWith(npmStart(REPO_ROOT, [`--config=${relative}`]), file, 'relative');
  });

  it('uses --config <file> from the worker workspace', async () => {
    const file = await writeSettings('from-worker');
    const run = npmStart(path.join(REPO_ROOT, 'worker'), ['--config', file]);
    await expectStartedWith(run, file, 'from-worker');
  });

  it.each([
    [['--confg', 'x.json'], "unknown option '--confg'"],
    [['--config'], 'option --config needs a file path'],
    [['settings.json'], "unexpected argument 'settings.json'"],
  ])('refuses %j with exit code 2 and a message naming it', async (args, message) => {
    const run = npmStart(REPO_ROOT, args);
    expect(await run.waitExit(30_000)).toBe(2);
    expect(run.stderr).toContain(`workshop-iot-worker: Invalid command line: ${message}`);
    expect(run.logged('Workshop IoT worker started')).toBeUndefined();
  });
});
