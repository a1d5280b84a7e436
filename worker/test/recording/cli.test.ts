/**
 * `npm run recording -- export|import` through `runRecordingCli` (in-process streams, a settings
 * file naming the data dir), and once through npm itself: round trip, filters, bad lines named
 * with their number, --skip-bad, missing recording, bad command lines.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, runRecordingCli } from '../../src/recording/cli.ts';
import { formatLine } from '../../src/recording/jsonl.ts';
import { RecordingStore } from '../../src/recording/store.ts';
import type { RecordedInput } from '../../src/recording/types.ts';
import { captureLog } from '../helpers/log.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = Date.UTC(2026, 11, 5, 8, 0, 1, 250);
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-cli-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A settings file whose data_dir is `<tmp>/<name>`; returns its path. */
function settings(name: string): string {
  const file = path.join(tmp, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ data_dir: path.join(tmp, name) }));
  return file;
}

function record(name: string, inputs: [string, RecordedInput][]): void {
  const store = new RecordingStore({
    dir: path.join(tmp, name),
    log: captureLog().log,
    flushIntervalMs: 0,
    prune: false,
  });
  for (const [id, input] of inputs) store.record(id, input);
  store.stop();
}

async function run(argv: string[], stdin = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const io: CliIo = { stdin: Readable.from([stdin]), stdout, stderr, env: {}, cwd: tmp };
  const code = await runRecordingCli(argv, io);
  return { code, out, err };
}

const SAMPLE: [string, RecordedInput][] = [
  ['laser-1', { at: T0, kind: 'reading', power_w: 301.5, energy_wh: 1234.5 }],
  ['lathe-2', { at: T0 + 10, kind: 'reading', power_w: 0.1 + 0.2, energy_wh: null }],
  ['laser-1', { at: T0 + 1000, kind: 'reading', power_w: 1 / 3, energy_wh: 1234.567 }],
  ['laser-1', { at: T0 + 598_750, kind: 'availability', online: false }],
  ['laser-1', { at: T0 + 601_750, kind: 'alive' }],
  ['lathe-2', { at: T0 + 700_000, kind: 'availability', online: true }],
];

describe('recording export', () => {
  it('writes JSON lines in the documented format, oldest first per machine', async () => {
    record('a', SAMPLE);
    const { code, out, err } = await run(['export', '--config', settings('a')]);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      '{"device_id":"laser-1","at":"2026-12-05T08:00:01.250Z","kind":"reading","power_w":301.5,"energy_wh":1234.5}',
      '{"device_id":"laser-1","at":"2026-12-05T08:00:02.250Z","kind":"reading","power_w":0.3333333333333333,"energy_wh":1234.567}',
      '{"device_id":"laser-1","at":"2026-12-05T08:10:00.000Z","kind":"availability","online":false}',
      '{"device_id":"laser-1","at":"2026-12-05T08:10:03.000Z","kind":"alive"}',
      '{"device_id":"lathe-2","at":"2026-12-05T08:00:01.260Z","kind":"reading","power_w":0.30000000000000004,"energy_wh":null}',
      '{"device_id":"lathe-2","at":"2026-12-05T08:11:41.250Z","kind":"availability","online":true}',
      '',
    ]);
    expect(err).toMatch(/exported 6 inputs of 2 machine\(s\) to stdout/);
  });

  it('filters by --device, --from (inclusive) and --to (exclusive)', async () => {
    record('a', SAMPLE);
    const from = new Date(T0 + 1000).toISOString();
    const to = new Date(T0 + 601_750).toISOString();
    const { code, out } = await run([
      'export',
      '--config',
      settings('a'),
      '--device',
      'laser-1',
      '--from',
      from,
      '--to',
      to,
    ]);
    expect(code).toBe(0);
    expect(out).toBe(
      `${formatLine('laser-1', SAMPLE[2]?.[1] as RecordedInput)}\n${formatLine('laser-1', SAMPLE[3]?.[1] as RecordedInput)}\n`,
    );
  });

  it('fails naming the file when the data dir holds no recording (exit 1)', async () => {
    const { code, err } = await run(['export', '--config', settings('empty')]);
    expect(code).toBe(1);
    expect(err).toContain(path.join(tmp, 'empty', 'recording.sqlite'));
    expect(fs.existsSync(path.join(tmp, 'empty', 'recording.sqlite'))).toBe(false);
  });

  it('refuses a bad command line with the usage (exit 2)', async () => {
    for (const argv of [
      [],
      ['dump'],
      ['export', '--bogus'],
      ['import'],
      ['export', '--in', 'x'],
      ['export', '--config', settings('a'), '--from', 'yesterday'],
    ]) {
      const { code, err } = await run(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toContain('Usage: npm run recording');
    }
  });
});

describe('recording import', () => {
  it('round-trips exactly: export, import elsewhere, export again gives the same bytes', async () => {
    const many: [string, RecordedInput][] = [...SAMPLE];
    for (let i = 0; i < 2000; i++)
      many.push([
        'mill-3',
        { at: T0 + i * 1003, kind: 'reading', power_w: (i * 7.3) % 900, energy_wh: 10 + i / 8 },
      ]);
    record('a', many);
    const file = path.join(tmp, 'export.jsonl');
    expect((await run(['export', '--config', settings('a'), '--out', file])).code).toBe(0);
    const imported = await run(['import', '--config', settings('b'), '--in', file]);
    expect(imported.code).toBe(0);
    expect(imported.err).toMatch(/imported 2006 inputs of 3 machine\(s\)/);
    const again = await run(['export', '--config', settings('b')]);
    expect(again.out).toBe(fs.readFileSync(file, 'utf8'));
    expect(again.out.split('\n')).toHaveLength(2007);
  });

  it('names every bad line with its number and what is wrong, and imports nothing (exit 1)', async () => {
    const good = formatLine('laser-1', { at: T0, kind: 'alive' });
    const lines = [
      good,
      '{"device_id":"laser-1","at":"2026-12-05T08:00:02Z","kind":"reading","power_w":"high"}',
      'not json',
      '',
      '{"device_id":"bad id!","at":"2026-12-05T08:00:02Z","kind":"alive"}',
      '{"device_id":"laser-1","at":"05.12.2026","kind":"alive"}',
      '{"device_id":"laser-1","at":"2026-12-05T08:00:03Z","kind":"availability"}',
      '{"device_id":"laser-1","at":"2026-12-05T08:00:03Z","kind":"sleep"}',
      '{"device_id":"laser-1","at":"2026-12-05T08:00:03Z","kind":"alive","power_w":5}',
      '{"device_id":"laser-1","at":"2026-12-05T08:00:00Z","kind":"alive"}',
      '[1,2]',
    ];
    const { code, err } = await run(
      ['import', '--config', settings('b'), '--in', '-'],
      lines.join('\n'),
    );
    expect(code).toBe(1);
    const reported = err.split('\n').filter((l) => l.startsWith('line '));
    expect(reported).toEqual([
      'line 2: power_w must be a number (W)',
      expect.stringMatching(/^line 3: not valid JSON \(/),
      'line 4: empty line',
      expect.stringMatching(/^line 5: device_id /),
      expect.stringMatching(/^line 6: at must be an ISO 8601 time .* \(got "05.12.2026"\)$/),
      'line 7: online must be true or false',
      'line 8: kind must be reading, availability or alive (got "sleep")',
      "line 9: unknown field 'power_w' for kind alive",
      "line 10: at 2026-12-05T08:00:00.000Z is older than line 1 of laser-1 (each machine's lines must be oldest first)",
      'line 11: must be a JSON object',
    ]);
    expect(err).toMatch(/10 bad line\(s\) of 11; nothing imported/);
    const exported = await run(['export', '--config', settings('b')]);
    expect(exported.out).toBe('');
  });

  it('imports the good lines with --skip-bad, still printing the bad ones (exit 0)', async () => {
    const good = [
      formatLine('laser-1', { at: T0, kind: 'alive' }),
      formatLine('laser-1', { at: T0 + 1, kind: 'reading', power_w: 5, energy_wh: null }),
    ];
    const input = [good[0], '{"kind":"alive"}', good[1]].join('\n');
    const { code, err } = await run(
      ['import', '--config', settings('b'), '--in', '-', '--skip-bad'],
      input,
    );
    expect(code).toBe(0);
    expect(err).toContain('line 2: device_id is missing; at is missing');
    expect(err).toMatch(/imported 2 inputs of 1 machine\(s\) .*; skipped 1 bad line\(s\)/);
    expect((await run(['export', '--config', settings('b')])).out).toBe(`${good.join('\n')}\n`);
  });

  it('runs as `npm run recording` with paths relative to where npm runs', async () => {
    record('a', SAMPLE);
    const cwd = path.join(tmp, 'here');
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, 's.json'), JSON.stringify({ data_dir: path.join(tmp, 'a') }));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('WORKSHOP_IOT_') && !k.startsWith('npm_') && k !== 'INIT_CWD',
      ),
    );
    // Typed in `here/` (outside the repository, hence --prefix): relative paths are from there.
    const child = spawn(
      'npm',
      [
        '--prefix',
        ROOT,
        'run',
        '--silent',
        'recording',
        '--',
        'export',
        '--config',
        's.json',
        '--out',
        'out.jsonl',
      ],
      { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(fs.readFileSync(path.join(cwd, 'out.jsonl'), 'utf8').split('\n')).toHaveLength(7);
  }, 120_000);
});
