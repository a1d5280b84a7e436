/**
 * `npm run replay -- --recording <file.jsonl> --config <file> [--compare <file2>] [--device ID]
 * [--from ISO --to ISO] [--json]`: the sessions a recording would have produced under a config,
 * replayed offline by the worker's own session machine (replay.ts) — no Odoo, no broker. With
 * `--compare`, the sessions under a second config and the difference. Bad input: a message naming
 * the file, line and field, exit 2. README "Calibration".
 */
import { parseArgs } from 'node:util';
import type { DeviceConfig, ReplayResult } from '@workshop-iot/shared';
import { isWorkerError, WorkerError } from '../errors.ts';
import { type ReplaySettings, readConfigFile } from './config-file.ts';
import { readRecordingFile } from './recording-file.ts';
import { replay } from './replay.ts';
import { diffSessions, diffText, sessionTable } from './session-table.ts';

export const USAGE = `Usage: npm run replay -- --recording <file.jsonl> --config <file> [options]

  --recording <file>  recording exported as JSON lines (npm run recording -- export)
  --config <file>     settings to replay: a session_config, a device, a worker config or settings file
  --compare <file>    a second config: both tables and the difference (A = --config, B = --compare)
  --device <id>       the machine (needed when the recording or the config holds several)
  --from <ISO>        start of the range (default: the machine's first recorded input)
  --to <ISO>          end of the range, exclusive (default: just after its last recorded input)
  --json              print {a, b?, diff?} as JSON instead of tables
  -h, --help          this text
`;

interface Options {
  recording: string;
  config: string;
  compare: string | null;
  device: string | null;
  from: string | null;
  to: string | null;
  json: boolean;
}

export function main(argv: string[], out: (s: string) => void): number {
  let opts: Options | 'help';
  try {
    opts = options(argv);
  } catch (err) {
    out(`replay: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    out(USAGE);
    return 0;
  }
  try {
    out(run(opts));
    return 0;
  } catch (err) {
    if (!isWorkerError(err)) throw err;
    out(`replay: ${err.message}\n`);
    return 2;
  }
}

function options(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      recording: { type: 'string' },
      config: { type: 'string' },
      compare: { type: 'string' },
      device: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.recording) throw new Error('--recording <file> is required');
  if (!values.config) throw new Error('--config <file> is required');
  return {
    recording: values.recording,
    config: values.config,
    compare: values.compare ?? null,
    device: values.device ?? null,
    from: values.from ?? null,
    to: values.to ?? null,
    json: values.json === true,
  };
}

function run(opts: Options): string {
  const recording = readRecordingFile(opts.recording);
  const a = readConfigFile(opts.config, opts.device);
  const b = opts.compare === null ? null : readConfigFile(opts.compare, opts.device);
  const deviceId = opts.device ?? a.device?.device_id ?? onlyDevice(recording.devices(), opts);
  const all = recording.inputs(deviceId, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  const from = opts.from === null ? (all[0]?.at ?? 0) : time(opts.from, '--from');
  const to = opts.to === null ? (all[all.length - 1]?.at ?? 0) + 1 : time(opts.to, '--to');
  if (!(to > from))
    throw new WorkerError('REPLAY_INPUT_INVALID', { file: '--to', reason: 'must be after --from' });
  const inputs = recording.inputs(deviceId, from, to);
  const replayed = (s: ReplaySettings) =>
    replay(inputs, deviceOf(s, deviceId), { from, to }, s.sessionConfig);
  const ra = replayed(a);
  const rb = b === null ? null : replayed(b);
  const diff = rb === null ? null : diffSessions(ra.sessions, rb.sessions);
  if (opts.json) return `${JSON.stringify({ a: ra, ...(rb ? { b: rb, diff } : {}) }, null, 2)}\n`;
  const range = `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}, ${inputs.length} inputs`;
  const parts = [`Machine ${deviceId}, ${range}`, '', block('A', opts.config, ra)];
  if (rb && diff && opts.compare !== null)
    parts.push('', block('B', opts.compare, rb), '', `Diff A -> B: ${diffText(diff)}`);
  return `${parts.join('\n')}\n`;
}

function block(label: string, file: string, r: ReplayResult): string {
  const c = r.session_config;
  const settings = `standby ${c.standby_threshold_w} W, working ${c.working_threshold_w} W, start ${c.start_debounce_s} s, stop ${c.stop_debounce_s} s, timeout ${c.message_timeout_s} s`;
  const more = r.sessions_omitted > 0 ? ` (+${r.sessions_omitted} not listed)` : '';
  return `${label}: ${file} (${settings}): ${r.sessions.length} sessions${more}\n${sessionTable(r.sessions)}`;
}

/** The device a bare session_config applies to: the recording's only machine. */
function onlyDevice(devices: string[], opts: Options): string {
  if (devices.length === 1) return devices[0] as string;
  throw new WorkerError('REPLAY_INPUT_INVALID', {
    file: opts.recording,
    reason:
      devices.length === 0
        ? 'holds no inputs'
        : `holds ${devices.length} machines; name one with --device (${devices.join(', ')})`,
  });
}

function deviceOf(s: ReplaySettings, deviceId: string): DeviceConfig {
  return (
    s.device ?? {
      device_id: deviceId,
      name: deviceId,
      parser_type: 'generic_json',
      topic: deviceId,
      session_config: s.sessionConfig,
    }
  );
}

function time(value: string, option: string): number {
  const t = value.endsWith('Z') ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t))
    throw new WorkerError('REPLAY_INPUT_INVALID', {
      file: option,
      reason: `must be an ISO-8601 UTC time ending in Z (got ${JSON.stringify(value)})`,
    });
  return t;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = main(process.argv.slice(2), (s) => process.stdout.write(s));
}
