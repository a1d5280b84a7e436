import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { Outbox } from '../../src/outbox/outbox.ts';
import type { ReclaimRun } from '../../src/outbox/reclaim.ts';
import { onlineEvent } from '../helpers/events.ts';
import { captureLog } from '../helpers/log.ts';

let dir: string;
let outbox: Outbox | null = null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-reclaim-'));
});
afterEach(() => {
  outbox?.close();
  outbox = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The outbox's size on disk: the database file and its WAL. */
function diskBytes(file: string): number {
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return size(file) + size(`${file}-wal`);
}

function fill(box: Outbox, n: number): void {
  for (let i = 0; i < n; i++) {
    const e = onlineEvent(`m${i % 1200}`);
    box.commit(e.device_id, [e], null);
  }
  box.flush();
}

function drain(box: Outbox): void {
  for (let batch = box.peek(500); batch.length > 0; batch = box.peek(500)) {
    box.settle(
      batch.map((p) => p.id),
      [],
    );
  }
}

describe('Outbox space reclaim', () => {
  it('Should give the space of a 100,000-event backlog back to the disk after it is drained', async () => {
    const runs: ReclaimRun[] = [];
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log, onReclaimed: (run) => runs.push(run) });
    const file = outbox.file;
    const baseline = diskBytes(file);
    fill(outbox, 100_000);
    const full = diskBytes(file);
    expect(full).toBeGreaterThan(20e6);
    drain(outbox);
    expect(outbox.depth()).toBe(0);
    await waitFor(() => runs.length === 1, 'the reclaim after the drain', 60_000);
    // Several slices, each one short transaction between group commits.
    expect(runs[0]!.slices).toBeGreaterThan(1);
    expect(outbox.reclaiming()).toBe(false);
    expect(diskBytes(file)).toBeLessThan(baseline + 1e6);
    expect(lines.some((l) => /space reclaimed/.test(String(l.msg)))).toBe(true);
    // Intake goes on: the outbox still commits and reads.
    outbox.commit('m1', [onlineEvent('m1')], { v: 1 });
    outbox.flush();
    expect(outbox.depth()).toBe(1);
  }, 120_000);

  it('Should not reclaim after a small drain', () => {
    const runs: ReclaimRun[] = [];
    const { log } = captureLog();
    outbox = new Outbox({ dir, log, onReclaimed: (run) => runs.push(run) });
    fill(outbox, 2_000);
    drain(outbox);
    expect(outbox.reclaiming()).toBe(false);
    expect(runs).toEqual([]);
  });

  it('Should switch an older file without incremental vacuum once, at a start with little pending', () => {
    // An outbox file as older versions made it: auto_vacuum NONE, with free pages after a drain.
    const file = path.join(dir, 'outbox.sqlite');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE filler (x TEXT)');
    old
      .prepare('INSERT INTO filler SELECT hex(randomblob(1000)) FROM json_each(?)')
      .run(JSON.stringify(Array.from({ length: 10_000 }, (_, i) => i)));
    old.exec('DELETE FROM filler');
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    const before = fs.statSync(file).size;
    expect(before).toBeGreaterThan(10e6);
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log });
    outbox.close();
    outbox = null;
    const db = new Database(file);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
    expect(fs.statSync(file).size).toBeLessThan(1e6);
    expect(lines.some((l) => /switched to incremental vacuum/.test(String(l.msg)))).toBe(true);
  });
});
