#!/usr/bin/env -S npx tsx
import { once } from 'node:events';
/**
 * `npm run recording -- export|import ...` (README "Recording"): the recording as JSON lines
 * (format: types.ts). It finds `<data_dir>/recording.sqlite` through the worker's own settings
 * (`--config`, `WORKSHOP_IOT_CONFIG`, `worker/workshop-iot.json`, environment), as `npm start` does.
 *
 * Exit codes: 0 done; 1 bad import lines (nothing imported unless `--skip-bad`), no recording,
 * unreadable file; 2 bad command line or settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { settingsBaseDir } from '../cli.ts';
import { loadSettings } from '../config/load.ts';
import { isWorkerError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { formatLine, parseLine } from './jsonl.ts';
import { RECORDING_FILE, RecordingStore } from './store.ts';

export const RECORDING_USAGE = `Usage: npm run recording -- export [--device ID]... [--from ISO] [--to ISO] [--out file|-]
       npm run recording -- import --in file|- [--skip-bad]
  Either also takes --config <file> (the worker's settings file, to find data_dir).

  export   every recorded input, JSON lines, oldest first per machine (default: all machines,
           all times, to stdout); --from is inclusive, --to exclusive
  import   adds the lines to the recording; every bad line is printed with its number and what is
           wrong, and then nothing is imported (exit 1) unless --skip-bad imports the good ones
`;

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

class UsageError extends Error {}

/** Runs one command; resolves to the exit code. */
export async function runRecordingCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`recording: ${(err as Error).message}\n\n${RECORDING_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(RECORDING_USAGE);
    return 0;
  }
  const base = settingsBaseDir(io.env, io.cwd);
  let settings: ReturnType<typeof loadSettings>;
  try {
    const config = parsed.values.config;
    settings = loadSettings({
      argv: config ? ['--config', path.resolve(base, config)] : [],
      env: io.env,
      cwd: io.cwd,
    });
  } catch (err) {
    if (!isWorkerError(err)) throw err;
    io.stderr.write(`recording: ${err.message}\n`);
    return 2;
  }
  try {
    if (parsed.command === 'export')
      return await exportLines(parsed.values, settings.data_dir, base, io);
    return await importLines(parsed.values, settings, base, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`recording: ${err.message}\n\n${RECORDING_USAGE}`);
      return 2;
    }
    io.stderr.write(`recording: ${(err as Error).message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      device: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      in: { type: 'string' },
      'skip-bad': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help) return { command: 'help', values };
  if (positionals.length !== 1 || (command !== 'export' && command !== 'import'))
    throw new Error(
      `expected one command, export or import (got ${positionals.join(' ') || 'none'})`,
    );
  const misplaced =
    command === 'export'
      ? (['in', 'skip-bad'] as const).filter((k) => values[k] !== undefined)
      : (['device', 'from', 'to', 'out'] as const).filter((k) => values[k] !== undefined);
  if (misplaced.length > 0)
    throw new Error(`option --${misplaced[0]} does not apply to ${command}`);
  if (command === 'import' && !values.in)
    throw new Error('import needs --in <file> (or - for stdin)');
  return { command, values };
}

type Values = ReturnType<typeof parse>['values'];

function openStore(dataDir: string, mustExist: boolean): RecordingStore {
  const file = path.join(dataDir, RECORDING_FILE);
  if (mustExist && !fs.existsSync(file))
    throw new Error(
      `no recording at ${file} (is the worker's data_dir right? --config names its settings file)`,
    );
  // No timer, no bounds: the CLI never drops anything; the worker applies the bounds.
  return new RecordingStore({
    dir: dataDir,
    log: silentLogger(),
    prune: false,
    flushIntervalMs: 0,
  });
}

async function exportLines(
  values: Values,
  dataDir: string,
  base: string,
  io: CliIo,
): Promise<number> {
  const from = values.from === undefined ? -8.64e15 : isoArg('--from', values.from);
  const to = values.to === undefined ? 8.64e15 + 1 : isoArg('--to', values.to);
  const store = openStore(dataDir, true);
  const out =
    !values.out || values.out === '-'
      ? io.stdout
      : fs.createWriteStream(path.resolve(base, values.out));
  let inputs = 0;
  let machines = 0;
  try {
    const devices = values.device ?? store.devices();
    let chunk = '';
    for (const deviceId of devices) {
      let n = 0;
      for (const input of store.inputs(deviceId, from, to)) {
        chunk += `${formatLine(deviceId, input)}\n`;
        n++;
        if (chunk.length >= 65_536) {
          if (!out.write(chunk)) await once(out, 'drain');
          chunk = '';
        }
      }
      if (n === 0) io.stderr.write(`recording: no recorded inputs for ${deviceId} in that range\n`);
      else machines++;
      inputs += n;
    }
    if (chunk) out.write(chunk);
  } finally {
    store.stop();
    if (out !== io.stdout) {
      (out as fs.WriteStream).end();
      await once(out, 'finish');
    }
  }
  io.stderr.write(
    `recording: exported ${inputs} inputs of ${machines} machine(s) to ${values.out && values.out !== '-' ? path.resolve(base, values.out) : 'stdout'}\n`,
  );
  return 0;
}

async function importLines(
  values: Values,
  settings: ReturnType<typeof loadSettings>,
  base: string,
  io: CliIo,
): Promise<number> {
  const file = values.in === '-' ? null : path.resolve(base, values.in as string);
  if (file && !fs.existsSync(file)) throw new Error(`cannot read ${file}: no such file`);
  const input = file ? fs.createReadStream(file, 'utf8') : io.stdin;
  const store = openStore(settings.data_dir, false);
  const batch = store.beginImport();
  const last = new Map<string, { at: number; line: number }>();
  const cutoff = Date.now() - settings.recording.max_days * 86_400_000;
  let lineNo = 0;
  let bad = 0;
  let old = 0;
  try {
    for await (const text of readline.createInterface({
      input,
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      lineNo++;
      const parsed = parseLine(text);
      if ('errors' in parsed) {
        bad++;
        io.stderr.write(`line ${lineNo}: ${parsed.errors.join('; ')}\n`);
        continue;
      }
      const prev = last.get(parsed.deviceId);
      if (prev && parsed.input.at < prev.at) {
        bad++;
        io.stderr.write(
          `line ${lineNo}: at ${new Date(parsed.input.at).toISOString()} is older than line ${prev.line} of ${parsed.deviceId} (each machine's lines must be oldest first)\n`,
        );
        continue;
      }
      last.set(parsed.deviceId, { at: parsed.input.at, line: lineNo });
      if (parsed.input.at < cutoff) old++;
      batch.add(parsed.deviceId, parsed.input);
    }
    if (bad > 0 && !values['skip-bad']) {
      batch.rollback();
      io.stderr.write(
        `recording: ${bad} bad line(s) of ${lineNo}; nothing imported (fix them, or --skip-bad imports the good ones)\n`,
      );
      return 1;
    }
    const imported = batch.commit();
    io.stderr.write(
      `recording: imported ${imported} inputs of ${last.size} machine(s) into ${store.file}${bad > 0 ? `; skipped ${bad} bad line(s)` : ''}\n`,
    );
    if (old > 0)
      io.stderr.write(
        `recording: note: ${old} of them are older than recording.max_days (${settings.recording.max_days}); the worker drops them when it next opens the recording\n`,
      );
    return 0;
  } finally {
    batch.rollback();
    store.stop();
  }
}

function isoArg(option: string, value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new UsageError(
      `${option} must be an ISO 8601 time, e.g. 2026-12-05T08:00:00Z (got '${value}')`,
    );
  return ms;
}

/**
 * The worker's working directory: under `npm run recording` (run from the repository root) it is
 * `worker/`, where `npm start` runs the worker, so defaults (`./data`, `./workshop-iot.json`) name
 * the same files; paths the operator typed are relative to where npm was run (settingsBaseDir).
 */
function workerCwd(env: NodeJS.ProcessEnv): string {
  if (env.npm_lifecycle_event !== 'recording') return process.cwd();
  return fileURLToPath(new URL('../..', import.meta.url));
}

const isMain =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  runRecordingCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: workerCwd(process.env),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`recording: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
