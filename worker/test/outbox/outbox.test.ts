import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    let durable!: () => void;
    const done = new Promise<void>((resolve) => {
      durable = resolve;
    });
    open({
      onCommitted: (events) => {
        committed += events.length;
        durable();
      },
    });
    outbox.commit('a', [onlineEvent('a')], { state: 'idle' });
    // Staged: not visible to the sender yet, but the device sees its own snapshot.
    expect(outbox.peek(10)).toHaveLength(0);
    expect(outbox.loadSnapshot('a')).toEqual({ state: 'idle' });
    // The commit runs in the writer thread; commit() itself returned before it was durable.
    expect(committed).toBe(0);
    await done;
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

  it('commits the rest of a group when one write is refused by the database, and logs the refused one', () => {
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log });
    const good = [onlineEvent('a'), onlineEvent('c')];
    const bad = { ...onlineEvent('b'), seq: {} as unknown as number };
    outbox.commit('a', [good[0]!], { v: 'a' });
    outbox.commit('b', [bad], { v: 'b' });
    outbox.commit('c', [good[1]!], { v: 'c' });
    outbox.flush();
    expect(outbox.peek(10).map((p) => p.event_uid)).toEqual(good.map((e) => e.event_uid));
    expect(outbox.loadSnapshot('a')).toEqual({ v: 'a' });
    expect(outbox.loadSnapshot('b')).toBeNull();
    expect(outbox.loadSnapshot('c')).toEqual({ v: 'c' });
    expect(lines.filter((l) => l.level === 50 && l.device_id === 'b')).toHaveLength(1);
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

  it('commits in the writer thread while the event loop runs, one group at a time, in staging order', async () => {
    const groups: string[][] = [];
    open({ onCommitted: (events) => groups.push(events.map((e) => e.event_uid)) });
    const first = [onlineEvent('a'), onlineEvent('b')];
    outbox.commit('a', [first[0]!], { v: 1 });
    outbox.commit('b', [first[1]!], { v: 1 });
    // End of turn: the first group leaves for the writer thread.
    await new Promise((r) => setImmediate(r));
    // Staged while the first group is on disk: the device still reads its newest snapshot.
    const second = onlineEvent('a');
    outbox.commit('a', [second], { v: 2 });
    expect(outbox.loadSnapshot('a')).toEqual({ v: 2 });
    expect(outbox.loadSnapshot('b')).toEqual({ v: 1 });
    outbox.flush();
    expect(groups.flat()).toEqual([...first.map((e) => e.event_uid), second.event_uid]);
    expect(outbox.peek(10).map((p) => p.event_uid)).toEqual(groups.flat());
    expect(outbox.loadSnapshot('a')).toEqual({ v: 2 });
  });

  it('hands the next group to the thread from commit() while the event loop is busy (no turn needed)', async () => {
    const groups: string[][] = [];
    open({ onCommitted: (events) => groups.push(events.map((e) => e.event_uid)) });
    const first = onlineEvent('a');
    outbox.commit('a', [first], { v: 1 });
    // End of turn: the first group leaves for the writer thread.
    await new Promise((r) => setImmediate(r));
    // From here on the loop never turns, as during a burst of MQTT messages: only commit() itself
    // can notice that a group is durable and send the next one.
    const later: ReturnType<typeof onlineEvent>[] = [];
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 20_000;
    while (groups.length < 3 && Date.now() < deadline) {
      const e = onlineEvent('b');
      later.push(e);
      outbox.commit('b', [e], { v: later.length });
      Atomics.wait(pause, 0, 0, 1); // the rest of the message's work
    }
    expect(groups.length).toBe(3);
    expect(groups[0]).toEqual([first.event_uid]);
    // Every group is the next run of staged writes, in staging order.
    const all = [first, ...later].map((e) => e.event_uid);
    expect(groups.flat()).toEqual(all.slice(0, groups.flat().length));
    outbox.flush();
    expect(outbox.peek(10_000).map((p) => p.event_uid)).toEqual(all);
  });

  it('paces groups under load: one that comes within groupIntervalMs of the previous waits for the rest of it, or for a flush', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let now = 1_000;
      const groups: string[][] = [];
      open({
        now: () => now,
        groupIntervalMs: 5,
        onCommitted: (events) => groups.push(events.map((e) => e.event_uid)),
      });
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id) => onlineEvent(id));
      outbox.commit('a', [a!], { v: 1 });
      await new Promise((r) => setImmediate(r)); // the first group leaves at once (t = 1000)
      outbox.flush();
      now = 1_002;
      outbox.commit('b', [b!], { v: 1 });
      await new Promise((r) => setImmediate(r)); // end of turn: too soon, it waits (3 ms)
      await new Promise((r) => setImmediate(r));
      expect(groups).toEqual([[a!.event_uid]]);
      expect(outbox.loadSnapshot('b')).toEqual({ v: 1 });
      now = 1_004;
      outbox.commit('c', [c!], { v: 1 });
      expect(groups).toHaveLength(1);
      // Due: the first commit() after it sends (a busy loop runs no timer), both in one group.
      now = 1_005;
      outbox.commit('d', [d!], { v: 1 });
      outbox.flush();
      expect(groups).toEqual([[a!.event_uid], [b!, c!, d!].map((x) => x.event_uid)]);
      // Or its timer sends it.
      now = 1_006;
      outbox.commit('e', [e!], { v: 1 });
      await new Promise((r) => setImmediate(r));
      expect(groups).toHaveLength(2);
      now = 1_010;
      vi.advanceTimersByTime(4);
      outbox.flush();
      expect(groups.at(-1)).toEqual([e!.event_uid]);
      // A flush never waits for the pacing.
      now = 1_011;
      const f = onlineEvent('f');
      outbox.commit('f', [f], { v: 1 });
      await new Promise((r) => setImmediate(r));
      expect(groups).toHaveLength(3);
      outbox.flush();
      expect(groups.at(-1)).toEqual([f.event_uid]);
      // A wall clock stepped back (NTP) never holds a group longer than the interval.
      now = 1_013;
      const g = onlineEvent('g');
      outbox.commit('g', [g], { v: 1 });
      await new Promise((r) => setImmediate(r)); // paced until 1016
      now = 500;
      const h = onlineEvent('h');
      outbox.commit('h', [h], { v: 1 }); // the step back is noticed: both leave now
      outbox.flush();
      expect(groups.at(-1)).toEqual([g.event_uid, h.event_uid]);
      // Paced again from the new clock: that group left at 500.
      const i = onlineEvent('i');
      outbox.commit('i', [i], { v: 1 });
      await new Promise((r) => setImmediate(r));
      expect(groups.at(-1)).toEqual([g.event_uid, h.event_uid]);
      now = 505;
      vi.advanceTimersByTime(5);
      outbox.flush();
      expect(groups.at(-1)).toEqual([i.event_uid]);
      expect(outbox.peek(20).map((p) => p.event_uid)).toEqual(groups.flat());
    } finally {
      vi.useRealTimers();
    }
  });

  it('splits a large backlog into several groups in staging order; a staged deletion wins over older writes', async () => {
    const groups: number[] = [];
    open({ onCommitted: (events) => groups.push(events.length) });
    outbox.commit('gone', [], { v: 1 });
    await new Promise((r) => setImmediate(r));
    outbox.deleteSnapshot('gone');
    expect(outbox.loadSnapshot('gone')).toBeNull();
    const events = Array.from({ length: 12_000 }, (_, i) => onlineEvent(`d${i % 7}`));
    events.forEach((e, i) => {
      outbox.commit(e.device_id, [e], { i });
    });
    expect(outbox.loadSnapshot('d3')).toEqual({ i: 11_994 });
    outbox.flush();
    expect(groups.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...groups)).toBeLessThanOrEqual(1000);
    expect(outbox.peek(20_000).map((p) => p.event_uid)).toEqual(events.map((e) => e.event_uid));
    expect(outbox.loadSnapshot('d3')).toEqual({ i: 11_994 });
    expect(outbox.loadSnapshot('gone')).toBeNull();
  });

  it('keeps a group whose commit fails on the medium and commits it once the database is free', () => {
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log, busyTimeoutMs: 20 });
    // Another process holds the write lock: the writer thread gets SQLITE_BUSY.
    const other = new Database(outbox.file);
    other.exec('BEGIN IMMEDIATE');
    const events = [onlineEvent('a'), onlineEvent('a')];
    outbox.commit('a', [events[0]!], { v: 1 });
    expect(() => outbox.flush()).toThrow(/Outbox commit failed/);
    expect(outbox.commitError()).not.toBeNull();
    outbox.commit('a', [events[1]!], { v: 2 });
    expect(outbox.loadSnapshot('a')).toEqual({ v: 2 });
    other.exec('COMMIT');
    other.close();
    outbox.flush();
    expect(outbox.commitError()).toBeNull();
    expect(outbox.peek(10).map((p) => p.event_uid)).toEqual(events.map((e) => e.event_uid));
    expect(outbox.depth()).toBe(2);
    expect(
      lines.some((l) => l.level === 50 && /keeping the writes staged/.test(String(l.msg))),
    ).toBe(true);
  });

  it('leaves no retry behind after close() when commit() noticed a failed commit with a send pending', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    try {
      const { log } = captureLog();
      outbox = new Outbox({ dir, log, busyTimeoutMs: 20 });
      const other = new Database(outbox.file);
      other.exec('BEGIN IMMEDIATE');
      outbox.commit('a', [onlineEvent('a')], { v: 1 });
      vi.advanceTimersByTime(0); // end of turn: the group leaves and will get SQLITE_BUSY
      // commit() notices the failure itself while its own end-of-turn send is pending.
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const deadline = Date.now() + 10_000;
      while (outbox.commitError() === null && Date.now() < deadline) {
        outbox.commit('b', [onlineEvent('b')], { v: 1 });
        Atomics.wait(pause, 0, 0, 1);
      }
      expect(outbox.commitError()).not.toBeNull();
      vi.advanceTimersByTime(0); // the turn ends, the retry is not due yet
      expect(() => outbox.close()).toThrow(/Outbox commit failed/);
      other.exec('ROLLBACK');
      other.close();
      expect(vi.getTimerCount()).toBe(0);
      expect(() => vi.advanceTimersByTime(5000)).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it('replaces a writer thread that ended with a group in flight, committing that group exactly once', async () => {
    const committed: string[] = [];
    open({ onCommitted: (events) => committed.push(...events.map((e) => e.event_uid)) });
    const events = [onlineEvent('a'), onlineEvent('b')];
    outbox.commit('a', [events[0]!], { v: 1 });
    await new Promise((r) => setImmediate(r));
    // The first group is in flight (or just committed) when its thread goes away.
    outbox.restartWriter();
    outbox.commit('b', [events[1]!], { v: 1 });
    outbox.flush();
    expect(outbox.peek(10).map((p) => p.event_uid)).toEqual(events.map((e) => e.event_uid));
    expect(outbox.depth()).toBe(2);
    expect(outbox.loadSnapshot('a')).toEqual({ v: 1 });
    // Reported durable once each, whichever thread committed it.
    expect([...new Set(committed)].sort()).toEqual(events.map((e) => e.event_uid).sort());
  });

  it('keeps writes staged while no writer thread can start, and commits them once one does', async () => {
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log });
    const events = [onlineEvent('a'), onlineEvent('a')];
    outbox.commit('a', [events[0]!], { v: 1 });
    outbox.flush();
    // The database's directory is gone: a replacement thread cannot open it.
    const away = `${dir}-away`;
    fs.renameSync(dir, away);
    outbox.restartWriter();
    outbox.commit('a', [events[1]!], { v: 2 });
    await new Promise((r) => setImmediate(r));
    expect(() => outbox.flush()).toThrow(/Outbox commit failed/);
    expect(outbox.commitError()).not.toBeNull();
    expect(outbox.loadSnapshot('a')).toEqual({ v: 2 });
    expect(lines.some((l) => l.level === 50 && /cannot start/.test(String(l.msg)))).toBe(true);
    fs.renameSync(away, dir);
    outbox.restartWriter();
    expect(outbox.commitError()).toBeNull();
    outbox.flush();
    expect(outbox.peek(10).map((p) => p.event_uid)).toEqual(events.map((e) => e.event_uid));
    expect(outbox.loadSnapshot('a')).toEqual({ v: 2 });
  });

  it('uses WAL with synchronous FULL by default', () => {
    open();
    outbox.close();
    const db = new Database(path.join(dir, 'outbox.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
