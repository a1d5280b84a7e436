import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { envKeys, loadSettings, unknownEnv } from '../../src/config/load.ts';
import type { WorkerError } from '../../src/errors.ts';

let cwd: string;
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
});
afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

const write = (name: string, value: unknown) =>
  fs.writeFileSync(path.join(cwd, name), typeof value === 'string' ? value : JSON.stringify(value));

function loadError(fn: () => unknown): WorkerError {
  try {
    fn();
  } catch (err) {
    return err as WorkerError;
  }
  throw new Error('expected an error');
}

describe('loadSettings', () => {
  it('comes up on defaults with nothing configured', () => {
    const s = loadSettings({ argv: [], env: {}, cwd });
    expect(s).toMatchObject({
      data_dir: path.join(cwd, 'data'),
      log_level: 'info',
      http: { host: '127.0.0.1', port: 8787, token: null },
      odoo: { url: null, timeout_ms: 10_000, batch_size: 500, status_interval_s: 30 },
      embedded_broker: { host: '127.0.0.1', port: 1884 },
      config: { version: 0, broker: { url: null }, devices: [] },
      source: { file: null, env: [] },
    });
  });

  it('reads ./workshop-iot.json, --config and WORKSHOP_IOT_CONFIG in that order of preference', () => {
    write('workshop-iot.json', { http: { port: 1 } });
    write('a.json', { http: { port: 2 } });
    write('b.json', { http: { port: 3 } });
    expect(loadSettings({ argv: [], env: {}, cwd }).http.port).toBe(1);
    expect(loadSettings({ argv: [], env: { WORKSHOP_IOT_CONFIG: 'b.json' }, cwd }).http.port).toBe(
      3,
    );
    expect(
      loadSettings({ argv: ['--config', 'a.json'], env: { WORKSHOP_IOT_CONFIG: 'b.json' }, cwd })
        .http.port,
    ).toBe(2);
    expect(loadSettings({ argv: ['--config=b.json'], env: {}, cwd }).http.port).toBe(3);
  });

  it('resolves an explicit relative path against where `npm start` was run (INIT_CWD)', () => {
    fs.mkdirSync(path.join(cwd, 'worker'));
    write('a.json', { http: { port: 2 } });
    const env = { npm_lifecycle_event: 'start', INIT_CWD: cwd };
    const s = loadSettings({ argv: ['--config', 'a.json'], env, cwd: path.join(cwd, 'worker') });
    expect(s.source.file).toBe(path.join(cwd, 'a.json'));
    expect(s.http.port).toBe(2);
  });

  it.each([
    [['--confg', 'a.json'], "unknown option '--confg'"],
    [['--config'], 'option --config needs a file path'],
    [['--config='], 'option --config needs a file path'],
    [['a.json'], "unexpected argument 'a.json'"],
  ])('refuses the command line %j naming the argument', (argv, reason) => {
    const err = loadError(() => loadSettings({ argv, env: {}, cwd }));
    expect(err.code).toBe('SETTINGS_OPTION_INVALID');
    expect(err.message).toContain(`Invalid command line: ${reason}`);
  });

  it('lets the environment override the file (file < env), converting by schema type', () => {
    write('workshop-iot.json', {
      http: { port: 1, host: '0.0.0.0' },
      odoo: { url: 'http://odoo:8069' },
    });
    const s = loadSettings({
      argv: [],
      cwd,
      env: {
        WORKSHOP_IOT_HTTP_PORT: '9000',
        WORKSHOP_IOT_ODOO_URL: '',
        WORKSHOP_IOT_LOG_LEVEL: 'debug',
        WORKSHOP_IOT_CONFIG_BROKER_URL: 'mqtt://broker:1883',
        WORKSHOP_IOT_CONFIG_CLOSE_SESSIONS_ON_SHUTDOWN: 'true',
      },
    });
    expect(s.http).toMatchObject({ port: 9000, host: '0.0.0.0' });
    expect(s.odoo.url).toBeNull();
    expect(s.log_level).toBe('debug');
    expect(s.config.broker.url).toBe('mqtt://broker:1883');
    expect(s.config.close_sessions_on_shutdown).toBe(true);
    expect(s.source.env).toContain('WORKSHOP_IOT_HTTP_PORT');
  });

  it('names the environment variable of a bad value', () => {
    const err = loadError(() =>
      loadSettings({ argv: [], cwd, env: { WORKSHOP_IOT_HTTP_PORT: 'eighty' } }),
    );
    expect(err.code).toBe('SETTINGS_INVALID');
    expect(err.message).toContain('WORKSHOP_IOT_HTTP_PORT (/http/port) must be an integer');
    const big = loadError(() =>
      loadSettings({ argv: [], cwd, env: { WORKSHOP_IOT_HTTP_PORT: '70000' } }),
    );
    expect(big.message).toContain('WORKSHOP_IOT_HTTP_PORT (/http/port) must be <= 65535');
  });

  it('refuses a non-loopback embedded broker without a login, naming the setting', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'worker.lan']) {
      const err = loadError(() =>
        loadSettings({ argv: [], cwd, env: { WORKSHOP_IOT_EMBEDDED_BROKER_HOST: host } }),
      );
      expect(err.code).toBe('SETTINGS_INVALID');
      expect(err.message).toContain(
        `WORKSHOP_IOT_EMBEDDED_BROKER_HOST (/embedded_broker/host) '${host}' is not a loopback address`,
      );
    }
    write('workshop-iot.json', { embedded_broker: { host: '0.0.0.0', username: 'devices' } });
    const half = loadError(() => loadSettings({ argv: [], env: {}, cwd }));
    expect(half.message).toContain('/embedded_broker/password is required with a username');
    fs.rmSync(path.join(cwd, 'workshop-iot.json'));
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      const s = loadSettings({ argv: [], cwd, env: { WORKSHOP_IOT_EMBEDDED_BROKER_HOST: host } });
      expect(s.embedded_broker).toMatchObject({ host, username: null, password: null });
    }
    const open = loadSettings({
      argv: [],
      cwd,
      env: {
        WORKSHOP_IOT_EMBEDDED_BROKER_HOST: '0.0.0.0',
        WORKSHOP_IOT_EMBEDDED_BROKER_USERNAME: 'devices',
        WORKSHOP_IOT_EMBEDDED_BROKER_PASSWORD: 'long-random-password',
      },
    });
    expect(open.embedded_broker).toEqual({
      host: '0.0.0.0',
      port: 1884,
      username: 'devices',
      password: 'long-random-password',
    });
  });

  it('names the file path of a bad key in the file', () => {
    write('workshop-iot.json', {
      http: { prot: 1 },
      config: { version: 1, broker: { url: null }, devices: [{}] },
    });
    const err = loadError(() => loadSettings({ argv: [], env: {}, cwd }));
    expect(err.message).toContain('/http/prot is not an allowed field');
    expect(err.message).toContain('workshop-iot.json');
    write('workshop-iot.json', '{ not json');
    expect(loadError(() => loadSettings({ argv: [], env: {}, cwd })).code).toBe(
      'SETTINGS_FILE_UNREADABLE',
    );
  });

  it('derives one variable per scalar settings path and flags unknown ones', () => {
    const names = envKeys().map((k) => k.env);
    expect(names).toEqual(
      expect.arrayContaining([
        'WORKSHOP_IOT_HTTP_PORT',
        'WORKSHOP_IOT_ODOO_URL',
        'WORKSHOP_IOT_ODOO_API_KEY',
        'WORKSHOP_IOT_LOG_LEVEL',
        'WORKSHOP_IOT_DATA_DIR',
        'WORKSHOP_IOT_OUTBOX_MAX_EVENTS',
      ]),
    );
    expect(names).not.toContain('WORKSHOP_IOT_CONFIG_DEVICES');
    expect(unknownEnv({ WORKSHOP_IOT_HTTP_PROT: '1', WORKSHOP_IOT_CONFIG: 'x' })).toEqual([
      'WORKSHOP_IOT_HTTP_PROT',
    ]);
  });
});
