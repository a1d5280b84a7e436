import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigManager, diffConfig } from '../../src/config/apply.ts';
import { ConfigStore } from '../../src/config/store.ts';
import { config, device } from '../helpers/control.ts';
import { captureLog } from '../helpers/log.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ConfigStore', () => {
  it('writes atomically (temp + fsync + rename) and reads back what it wrote', () => {
    const { log } = captureLog();
    const store = new ConfigStore({ dir, log });
    expect(store.load()).toBeNull();
    const renames = vi.spyOn(fs, 'renameSync');
    const fsyncs = vi.spyOn(fs, 'fsyncSync');
    store.save({ config: config(4), applied_at: '2026-01-01T00:00:00.000Z' });
    expect(renames).toHaveBeenCalledWith(
      expect.stringMatching(/\.config\.json\.\d+\.tmp$/),
      store.file,
    );
    expect(fsyncs).toHaveBeenCalledTimes(2); // the file, then the directory
    renames.mockRestore();
    fsyncs.mockRestore();
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
    expect(fs.statSync(store.file).mode & 0o777).toBe(0o600);
    expect(new ConfigStore({ dir, log }).load()?.config.version).toBe(4);
  });

  it('moves an unreadable file aside and reports no stored config', () => {
    const { log, lines } = captureLog();
    fs.writeFileSync(path.join(dir, 'config.json'), '{"config": {"version": "x"}}');
    expect(new ConfigStore({ dir, log }).load()).toBeNull();
    expect(fs.readdirSync(dir).some((f) => f.startsWith('config.json.corrupt-'))).toBe(true);
    expect(lines.some((l) => l.level === 50)).toBe(true);
  });
});

describe('ConfigManager', () => {
  function manager(initial = config(1), appliedAt: string | null = '2026-01-01T00:00:00.000Z') {
    const { log } = captureLog();
    const store = new ConfigStore({ dir, log });
    const m = new ConfigManager({ initial, appliedAt, store, workerUid: 'w1', log });
    const seen: { version: number; persisted: number | undefined }[] = [];
    m.addTarget({
      name: 'probe',
      apply: (next) => {
        seen.push({ version: next.version, persisted: store.load()?.config.version });
      },
    });
    return { m, store, seen };
  }

  it('persists before it hands the config to the targets, and diffs devices and broker', async () => {
    const { m, seen } = manager(config(1, ['a', 'b']));
    const next = config(2, ['b', 'c']);
    next.devices[0] = device('b', { name: 'Renamed' });
    next.broker = { url: 'mqtt://broker:1883' };
    const result = await m.apply(next, 'rpc');
    expect(result).toEqual({
      applied: true,
      version: 2,
      changes: { added: ['c'], updated: ['b'], removed: ['a'], broker_changed: true },
    });
    expect(seen).toEqual([{ version: 2, persisted: 2 }]);
  });

  it('is idempotent: the same version twice is a no-op', async () => {
    const { m, seen } = manager();
    await m.apply(config(2), 'rpc');
    const again = await m.apply(config(2), 'hello');
    expect(again).toMatchObject({ applied: false, version: 2 });
    expect(seen).toHaveLength(1);
  });

  it('rejects an older version and an invalid config, keeping the applied one', async () => {
    const { m, store } = manager();
    await m.apply(config(5), 'rpc');
    await expect(m.apply(config(4), 'rpc')).rejects.toMatchObject({ code: 'CONFIG_VERSION_OLDER' });
    const bad = config(6);
    (bad.devices[0] as { parser_type: string }).parser_type = 'zigbee';
    await expect(m.apply(bad, 'rpc')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      data: { errors: [{ path: '/devices/0/parser_type' }] },
    });
    await expect(m.apply({ ...config(7), worker_uid: 'other' }, 'rpc')).rejects.toMatchObject({
      code: 'CONFIG_WORKER_MISMATCH',
    });
    expect(m.version).toBe(5);
    expect(store.load()?.config.version).toBe(5);
  });

  it('serialises concurrent applies so the version rule decides', async () => {
    const { m } = manager();
    const results = await Promise.allSettled([
      m.apply(config(3), 'rpc'),
      m.apply(config(2), 'rpc'),
      m.apply(config(3), 'hello'),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.applied : 'rejected'))).toEqual([
      true,
      'rejected',
      false,
    ]);
  });

  it('ignores key order when diffing', () => {
    const a = config(1);
    const b = config(2);
    b.devices[0] = Object.fromEntries(
      Object.entries(b.devices[0]!).reverse(),
    ) as (typeof a.devices)[0];
    expect(diffConfig(a, b)).toEqual({
      added: [],
      updated: [],
      removed: [],
      broker_changed: false,
    });
  });
});
