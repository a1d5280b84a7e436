/**
 * The settings the replay CLI replays, from a JSON file of any of the shapes an operator has at hand:
 * a `session_config` alone, one device (`DeviceConfig`), a worker config (`{devices: [...]}`, as
 * `config.get` returns it under `config`) or a worker settings file (`{config: {devices: [...]}}`);
 * with several devices, `--device` picks one. Each shape is checked with the shared contracts (and
 * the working > standby rule); errors name the file and the JSON pointer of the field.
 */
import fs from 'node:fs';
import {
  type DeviceConfig,
  DeviceConfig as DeviceConfigSchema,
  type FieldError,
  type SessionConfig,
  SessionConfig as SessionConfigSchema,
  validate,
  validateSchema,
} from '@workshop-iot/shared';
import { WorkerError } from '../errors.ts';

export interface ReplaySettings {
  /** The device whose settings were found; null for a bare session_config. */
  device: DeviceConfig | null;
  sessionConfig: SessionConfig;
}

export function readConfigFile(file: string, deviceId: string | null): ReplaySettings {
  const fail = (reason: string) => new WorkerError('REPLAY_INPUT_INVALID', { file, reason });
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code ? `cannot read the config (${code})` : `not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('must be a JSON object: a session_config, a device, a worker config or settings');
  const o = value as Record<string, unknown>;
  const check = (errors: FieldError[]) => {
    const first = errors[0];
    if (first)
      throw fail(
        `${first.path || '/'}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
      );
  };
  if ('standby_threshold_w' in o) {
    check(sessionConfigErrors(o, ''));
    return { device: null, sessionConfig: o as unknown as SessionConfig };
  }
  if ('session_config' in o) {
    const errors: FieldError[] = [];
    validateSchema(DeviceConfigSchema, o, '', errors);
    check(errors.length > 0 ? errors : sessionConfigErrors(o.session_config, '/session_config'));
    const device = o as unknown as DeviceConfig;
    return { device, sessionConfig: device.session_config };
  }
  let devices: DeviceConfig[];
  let at: string;
  if (Array.isArray(o.devices)) {
    check(validate('worker_config', o));
    devices = o.devices as DeviceConfig[];
    at = '/devices';
  } else if (typeof o.config === 'object' && o.config !== null) {
    check(validate('worker_settings', o));
    devices = (o.config as { devices: DeviceConfig[] }).devices;
    at = '/config/devices';
  } else {
    throw fail(
      'not a session_config, a device, a worker config ({devices}) or worker settings ({config})',
    );
  }
  const device = pickDevice(devices, deviceId, at, fail);
  return { device, sessionConfig: device.session_config };
}

/** The device named by --device, or the only one; else an error listing the ids. */
function pickDevice(
  devices: DeviceConfig[],
  deviceId: string | null,
  at: string,
  fail: (reason: string) => Error,
): DeviceConfig {
  const ids = devices.map((d) => d.device_id).join(', ');
  const device =
    deviceId === null
      ? devices.length === 1
        ? devices[0]
        : undefined
      : devices.find((d) => d.device_id === deviceId);
  if (device) return device;
  throw fail(
    deviceId === null
      ? `${at}: holds ${devices.length} devices; name one with --device (${ids})`
      : `${at}: no device ${deviceId} (has ${ids || 'none'})`,
  );
}

function sessionConfigErrors(value: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  validateSchema(SessionConfigSchema, value, path, errors);
  const c = value as SessionConfig;
  // The worker config's rule for every device (shared/src/rules.ts).
  if (errors.length === 0 && !(c.working_threshold_w > c.standby_threshold_w))
    errors.push({
      path: `${path}/working_threshold_w`,
      message: 'must be greater than standby_threshold_w',
    });
  return errors;
}
