/**
 * Loads the local settings: file < environment, then defaults, then validation with field paths.
 *
 * - File: `--config <path>` (or `--config=<path>`), else `WORKSHOP_IOT_CONFIG`, else
 *   `./workshop-iot.json` when it exists, else none (every default). Any other command-line
 *   argument is an error (cli.ts). Under `npm start` an explicit relative path is relative to
 *   where npm was run (INIT_CWD), not to `worker/`.
 * - Environment: one variable per scalar leaf of the `worker_settings` schema, derived mechanically
 *   from its path: `/http/port` -> `WORKSHOP_IOT_HTTP_PORT`, `/config/broker/url` ->
 *   `WORKSHOP_IOT_CONFIG_BROKER_URL`. Arrays (devices) are not reachable from the environment.
 *   `WORKSHOP_IOT_CONFIG` itself is the settings file path, not a setting.
 * - A bad value fails start-up with an error naming the file path or environment variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kind, type TSchema } from '@sinclair/typebox';
import {
  CONTRACTS,
  type FieldError,
  type LogLevel,
  validate,
  type WorkerConfig,
  type WorkerSettings,
} from '@workshop-iot/shared';
import { parseWorkerArgs, settingsBaseDir } from '../cli.ts';
import { WorkerError } from '../errors.ts';

export const ENV_PREFIX = 'WORKSHOP_IOT_';
export const CONFIG_FILE_ENV = 'WORKSHOP_IOT_CONFIG';
export const DEFAULT_SETTINGS_FILE = 'workshop-iot.json';

/** Settings with every default filled in; paths are absolute. */
export interface ResolvedSettings {
  worker_uid: string | null;
  data_dir: string;
  log_level: LogLevel;
  http: {
    host: string;
    port: number;
    public_url: string | null;
    token: string | null;
    read_token: string | null;
    max_body_bytes: number;
  };
  odoo: {
    url: string | null;
    api_key: string | null;
    timeout_ms: number;
    batch_size: number;
    linger_ms: number;
    status_interval_s: number;
  };
  outbox: { max_events: number };
  embedded_broker: { host: string; port: number; username: string | null; password: string | null };
  /** Listening for meters that announce themselves (worker/src/discovery). */
  discovery: { enabled: boolean };
  /**
   * The worker's own topics on the broker (worker/src/mqtt/availability.ts): status + last will,
   * opt-in machine summaries. `prefix` null = `workshop-iot/<worker_uid>` (the uid is known later).
   */
  mqtt_status: {
    enabled: boolean;
    prefix: string | null;
    machine_summaries: boolean;
    summary_min_interval_s: number;
  };
  /** Per-machine series on /metrics are capped (http/metrics.ts). */
  metrics: { max_machine_series: number };
  /** Every machine's inputs kept locally, bounded per machine (worker/src/recording). */
  recording: { enabled: boolean; max_days: number; max_mb_per_machine: number };
  /** The config used until Odoo pushes one (or from the file when running standalone). */
  config: WorkerConfig;
  /** Where the settings came from, for the start-up log. */
  source: { file: string | null; env: string[] };
}

export const DEFAULT_CONFIG: WorkerConfig = { version: 0, broker: { url: null }, devices: [] };

export interface LoadOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** One settings leaf reachable from the environment. */
export interface EnvKey {
  env: string;
  pointer: string;
  schema: TSchema;
}

/** Every environment variable derived from the settings schema (documented in the README). */
export function envKeys(): EnvKey[] {
  const keys: EnvKey[] = [];
  walk(CONTRACTS.worker_settings.schema, [], keys);
  return keys;
}

function walk(schema: TSchema, segments: string[], out: EnvKey[]): void {
  if (schema[Kind] === 'Object') {
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>))
      walk(child, [...segments, key], out);
    return;
  }
  if (schema[Kind] === 'Array') return;
  out.push({
    env: ENV_PREFIX + segments.join('_').toUpperCase(),
    pointer: `/${segments.join('/')}`,
    schema,
  });
}

export function loadSettings(options: LoadOptions = {}): ResolvedSettings {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = settingsFile(options.argv ?? process.argv.slice(2), env, cwd);
  const raw: Record<string, unknown> = file ? readSettingsFile(file) : {};
  const fromEnv = applyEnv(raw, env);
  const errors = validate('worker_settings', raw);
  errors.push(...embeddedBrokerErrors(raw as WorkerSettings));
  if (errors.length > 0) throw settingsError(errors, fromEnv, file);
  return resolve(raw as WorkerSettings, cwd, { file, env: [...fromEnv.keys()] });
}

function settingsFile(argv: string[], env: NodeJS.ProcessEnv, cwd: string): string | null {
  // Explicit paths are the operator's, relative to where they typed them; the fallback is the worker's.
  const base = settingsBaseDir(env, cwd);
  const { config } = parseWorkerArgs(argv);
  if (config) return path.resolve(base, config);
  if (env[CONFIG_FILE_ENV]) return path.resolve(base, env[CONFIG_FILE_ENV]);
  const fallback = path.resolve(cwd, DEFAULT_SETTINGS_FILE);
  return fs.existsSync(fallback) ? fallback : null;
}

function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new WorkerError('SETTINGS_FILE_UNREADABLE', { file, reason: (err as Error).message });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new WorkerError('SETTINGS_FILE_UNREADABLE', {
      file,
      reason: `not valid JSON (${(err as Error).message})`,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WorkerError('SETTINGS_FILE_UNREADABLE', { file, reason: 'must be a JSON object' });
  return parsed as Record<string, unknown>;
}

/** Overlays environment values onto `raw` in place; returns env var name -> pointer. */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const used = new Map<string, string>();
  for (const key of envKeys()) {
    const text = env[key.env];
    if (text === undefined) continue;
    const segments = key.pointer.slice(1).split('/');
    // A scalar under /config needs a config to land in: start from the file's or the default one.
    if (segments[0] === 'config' && raw.config === undefined)
      raw.config = structuredClone(DEFAULT_CONFIG);
    setPath(raw, segments, parseEnvValue(key.schema, text));
    used.set(key.env, key.pointer);
  }
  return used;
}

/**
 * Converts an environment string by the leaf's schema kind. A value that does not convert is kept
 * as the raw string so validation reports it ("must be an integer") under the variable's name.
 */
export function parseEnvValue(schema: TSchema, text: string): unknown {
  const kind = schema[Kind];
  if (kind === 'Union') {
    const members = schema.anyOf as TSchema[];
    const nullable = members.some((m) => m[Kind] === 'Null');
    if (nullable && (text === '' || text === 'null')) return null;
    const inner = members.find((m) => m[Kind] !== 'Null' && m[Kind] !== 'Literal');
    return inner ? parseEnvValue(inner, text) : text;
  }
  if (kind === 'Integer' || kind === 'Number') {
    const n = Number(text.trim());
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (kind === 'Boolean') {
    if (['true', '1', 'yes'].includes(text.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(text.toLowerCase())) return false;
    return text;
  }
  return text;
}

function setPath(target: Record<string, unknown>, segments: string[], value: unknown): void {
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments[segments.length - 1] as string] = value;
}

function settingsError(
  errors: FieldError[],
  fromEnv: Map<string, string>,
  file: string | null,
): WorkerError {
  const byPointer = new Map([...fromEnv].map(([envName, pointer]) => [pointer, envName]));
  const located = errors.map((e) => {
    const envName = byPointer.get(e.path);
    const where = envName ? `${envName} (${e.path})` : `${file ?? 'settings'}: ${e.path || '/'}`;
    return { ...e, where };
  });
  return new WorkerError(
    'SETTINGS_INVALID',
    { details: located.map((e) => `${e.where} ${e.message}`).join('; ') },
    { errors: located },
  );
}

function resolve(
  s: WorkerSettings,
  cwd: string,
  source: ResolvedSettings['source'],
): ResolvedSettings {
  return {
    worker_uid: s.worker_uid ?? null,
    data_dir: path.resolve(cwd, s.data_dir ?? './data'),
    log_level: s.log_level ?? 'info',
    http: {
      host: s.http?.host ?? '127.0.0.1',
      port: s.http?.port ?? 8787,
      public_url: s.http?.public_url ?? null,
      token: s.http?.token ?? null,
      read_token: s.http?.read_token ?? null,
      max_body_bytes: s.http?.max_body_bytes ?? 8 * 1024 * 1024,
    },
    odoo: {
      url: s.odoo?.url ?? null,
      api_key: s.odoo?.api_key ?? null,
      timeout_ms: s.odoo?.timeout_ms ?? 10_000,
      batch_size: s.odoo?.batch_size ?? 500,
      linger_ms: s.odoo?.linger_ms ?? 100,
      status_interval_s: s.odoo?.status_interval_s ?? 30,
    },
    outbox: { max_events: s.outbox?.max_events ?? 1_000_000 },
    discovery: { enabled: s.discovery?.enabled ?? true },
    mqtt_status: {
      enabled: s.mqtt_status?.enabled ?? true,
      prefix: s.mqtt_status?.prefix ?? null,
      machine_summaries: s.mqtt_status?.machine_summaries ?? false,
      summary_min_interval_s: s.mqtt_status?.summary_min_interval_s ?? 5,
    },
    metrics: { max_machine_series: s.metrics?.max_machine_series ?? 500 },
    recording: {
      enabled: s.recording?.enabled ?? true,
      max_days: s.recording?.max_days ?? 14,
      max_mb_per_machine: s.recording?.max_mb_per_machine ?? 16,
    },
    embedded_broker: {
      host: s.embedded_broker?.host ?? '127.0.0.1',
      port: s.embedded_broker?.port ?? 1884,
      username: s.embedded_broker?.username ?? null,
      password: s.embedded_broker?.password ?? null,
    },
    config: s.config ?? structuredClone(DEFAULT_CONFIG),
    source,
  };
}

/**
 * The embedded broker lets anyone who reaches its port publish readings and read every device's
 * topic: bound beyond loopback it needs a login (username and password, both).
 */
function embeddedBrokerErrors(s: WorkerSettings): FieldError[] {
  const b = s.embedded_broker ?? {};
  const errors: FieldError[] = [];
  if (b.username !== undefined && b.password === undefined)
    errors.push({ path: '/embedded_broker/password', message: 'is required with a username' });
  if (b.password !== undefined && b.username === undefined)
    errors.push({ path: '/embedded_broker/username', message: 'is required with a password' });
  if (b.host !== undefined && !isLoopback(b.host) && b.username === undefined)
    errors.push({
      path: '/embedded_broker/host',
      message: `'${b.host}' is not a loopback address: the embedded broker has no login unless embedded_broker.username and embedded_broker.password are set (or bind it to 127.0.0.1)`,
    });
  return errors;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; a wildcard address or any name is not. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/** Environment variables that look like ours but match no setting (typos): reported as warnings. */
export function unknownEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = new Set([CONFIG_FILE_ENV, ...envKeys().map((k) => k.env)]);
  return Object.keys(env).filter((k) => k.startsWith(ENV_PREFIX) && !known.has(k));
}
