import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/outbox/outbox.ts';
import { onlineEvent } from '../helpers/events.ts';
import { captureLog } from '../helpers/log.ts';

let dir: string;
let outbox: Outbox;
const open = (opts: Partial<ConstructorParameters<typeof Outbox>[0]> = {}) => {
  const { log } = captureLog();
  outbox = new Outbox({ dir, log, ...opts });
  return outbox;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-'));
});
afterEach(() => {
  outbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Outbox', () => {
  it('keeps commit order per device across devices', () => {
    open();
    const a1 = onlineEvent('a');
    const b1 = onlineEvent('b');
    const a2 = onlineEvent('a');
    outbox.commit('a', [a1], { s: 1 });
    outbox.commit('b', [b1], { s: 1 });
    outbox.commit('a', [a2], { s: 2 });
    outbox.flush();
    const uids = outbox.peek(10).map((p) => p.event_uid);
    expect(uids).toEqual([a1.event_uid, b1.event_uid, a2.event_uid]);
    expect(
      outbox
        .peek(10)
        .filter((p) => p.device_id === 'a')
        .map((p) => p.event.seq),
    ).toEqual([a1.seq, a2.seq]);
  });

  it('commits an event and its snapshot in the same transaction (group commit at end of turn)', async () => {
    let committed = 0;
    open({ onCommitted: (events) => (committed += events.length) });
    outbox.commit('a', [onlineEvent('a')], { state: 'idle' });
    // Staged: not visible to the sender yet, but the device sees its own snapshot.
    expect(outbox.peek(10)).toHaveLength(0);
    expect(outbox.loadSnapshot('a')).toEqual({ state: 'idle' });
    await new Promise((r) => setImmediate(r));
    expect(committed).toBe(1);
    const db = new Database(outbox.file, { readonly: true });
    const row = db
      .prepare('SELECT (SELECT count(*) FROM outbox) AS n, (SELECT body FROM snapshots) AS s')
      .get();
    db.close();
    expect(row).toEqual({ n: 1, s: JSON.stringify({ state: 'idle' }) });
  });

  it('commits neither the event nor the snapshot when the transaction fails', () => {
    open({ groupCommit: false });
    const e = onlineEvent('a');
    outbox.commit('a', [e], { v: 1 });
    // A broken event (not serialisable) in the same commit as a new snapshot: all or nothing.
    const bad = { ...onlineEvent('a'), seq: {} as unknown as number };
    expect(() => outbox.commit('a', [bad], { v: 2 })).toThrow();
    outbox.close();
    open();
    expect(outbox.depth()).toBe(1);
    expect(outbox.loadSnapshot('a')).toEqual({ v: 1 });
  });

  it('survives reopening: events and snapshots persist, deleted snapshots stay deleted', () => {
    open();
    outbox.commit('a', [onlineEvent('a')], { v: 1 });
    outbox.commit('b', [], { v: 9 });
    outbox.deleteSnapshot('b');
    outbox.close();
    open();
    expect(outbox.depth()).toBe(1);
    expect(outbox.loadSnapshot('a')).toEqual({ v: 1 });
    expect(outbox.loadSnapshot('b')).toBeNull();
  });

  it('removes acknowledged items and moves rejected ones to dead_letter with code and message', () => {
    open();
    const events = [onlineEvent('a'), onlineEvent('a'), onlineEvent('a')];
    outbox.commit('a', events, null);
    outbox.flush();
    const [p0, p1, p2] = outbox.peek(10);
    outbox.settle([p0!.id, p2!.id], [{ item: p1!, code: 'invalid_event', message: '/seq gap' }]);
    expect(outbox.depth()).toBe(0);
    expect(outbox.deadLetterCount()).toBe(1);
    expect(outbox.deadLetters()[0]).toMatchObject({
      event_uid: events[1]!.event_uid,
      code: 'invalid_event',
      message: '/seq gap',
      event: events[1],
    });
  });

  it('keeps accepting above max_events, warns loudly and reports over cap', () => {
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log, maxEvents: 3 });
    for (let i = 0; i < 5; i++) outbox.commit('a', [onlineEvent('a')], null);
    outbox.flush();
    expect(outbox.depth()).toBe(5);
    expect(outbox.overCap()).toBe(true);
    expect(lines.filter((l) => l.level === 40 && l.max_events === 3)).toHaveLength(1);
  });

  it('reports the age of the oldest pending event', () => {
    let now = 1_000_000;
    open({ now: () => now });
    expect(outbox.oldestPendingMs()).toBeNull();
    outbox.commit('a', [onlineEvent('a')], null);
    outbox.flush();
    now += 4_000;
    expect(outbox.oldestPendingMs()).toBe(4_000);
  });

  it('uses WAL with synchronous FULL by default', () => {
    open();
    outbox.close();
    const db = new Database(path.join(dir, 'outbox.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
