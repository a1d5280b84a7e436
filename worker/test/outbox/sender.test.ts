import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { WorkerError } from '../../src/errors.ts';
import { OdooRpcClient } from '../../src/odoo/rpc-client.ts';
import { Outbox } from '../../src/outbox/outbox.ts';
import { Sender } from '../../src/outbox/sender.ts';
import { onlineEvent } from '../helpers/events.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { captureLog } from '../helpers/log.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

let dir: string;
let outbox: Outbox;
let odoo: FakeOdoo;
let sender: Sender | null = null;

function setup(
  opts: { batchSize?: number; timeoutMs?: number; lingerMs?: number; clock?: ManualClock } = {},
) {
  const { log, lines } = captureLog();
  const client = new OdooRpcClient({
    url: odoo.url,
    apiKey: odoo.apiKey,
    timeoutMs: opts.timeoutMs ?? 2000,
  });
  outbox = new Outbox({ dir, log, onCommitted: () => sender?.wake(), now: opts.clock?.now });
  sender = new Sender({
    outbox,
    odoo: client,
    workerUid: 'test-worker',
    log,
    batchSize: opts.batchSize ?? 500,
    backoff: { baseMs: 5, maxMs: 40 },
    lingerMs: opts.lingerMs,
    clock: opts.clock,
  });
  return { sender, lines, client };
}

function produce(n: number, devices = ['a', 'b', 'c']): string[] {
  const uids: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = devices[i % devices.length] as string;
    const e = onlineEvent(d);
    uids.push(e.event_uid);
    outbox.commit(d, [e], null);
  }
  outbox.flush();
  return uids;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sender-'));
  odoo = new FakeOdoo();
  await odoo.start();
});
afterEach(async () => {
  await sender?.stop(100);
  sender = null;
  outbox?.close();
  await odoo.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Sender', () => {
  it('drains in batches, oldest first, keeping the order per device', async () => {
    setup({ batchSize: 4 });
    const uids = produce(10);
    sender!.start();
    await waitFor(() => outbox.depth() === 0, 'outbox drained');
    expect(odoo.acceptedLog).toEqual(uids);
    const sizes = odoo
      .callsOf('events.ingest')
      .map((c) => (c.params as { events: unknown[] }).events.length);
    expect(sizes).toEqual([4, 4, 2]);
    expect(odoo.calls[0]?.auth).toBe(`Bearer ${odoo.apiKey}`);
  });

  it('wakes promptly when new events are committed after being idle', async () => {
    setup();
    sender!.start();
    await waitFor(() => odoo.calls.length === 0 && true, 'idle');
    const [uid] = produce(1);
    await waitFor(() => odoo.accepted.has(uid!), 'event delivered', 2000);
  });

  it('delivers everything exactly once after Odoo refused connections, answered 500 and timed out', async () => {
    const { lines } = setup({ timeoutMs: 150 });
    await odoo.stop();
    const first = produce(5);
    sender!.start();
    await waitFor(() => sender!.failures() >= 2, 'retries while refused');
    await odoo.start();
    odoo.mode = 'http500';
    await waitFor(() => odoo.callsOf('events.ingest').length >= 2, 'calls answered 500');
    odoo.mode = 'hang';
    const before = odoo.calls.length;
    await waitFor(() => odoo.calls.length >= before + 1, 'a call that times out');
    const second = produce(5);
    odoo.mode = 'ok';
    await waitFor(() => outbox.depth() === 0, 'outbox drained after recovery');
    expect(new Set(odoo.acceptedLog)).toEqual(new Set([...first, ...second]));
    expect(odoo.acceptedLog).toHaveLength(10);
    const codes = lines
      .filter((l) => l.msg === 'events.ingest failed, retrying with backoff')
      .map((l) => (l.err as { code: string }).code);
    expect(codes).toContain('ODOO_UNREACHABLE');
    expect(codes).toContain('ODOO_HTTP_ERROR');
    expect(codes).toContain('ODOO_TIMEOUT');
  });

  it('retries JSON-RPC internal errors and resends unanswered items (duplicates are acknowledged)', async () => {
    setup();
    const uids = produce(3);
    // Odoo stored the first event but the answer was lost: it comes back as duplicate.
    odoo.accepted.set(uids[0]!, {} as never);
    odoo.mode = 'rpc_error';
    sender!.start();
    await waitFor(() => sender!.failures() >= 2, 'rpc errors retried');
    odoo.mode = 'ok';
    await waitFor(() => outbox.depth() === 0, 'drained');
    expect(odoo.duplicates).toEqual([uids[0]]);
    expect(outbox.deadLetterCount()).toBe(0);
  });

  it('moves rejected items to the dead-letter table and delivers the rest', async () => {
    setup();
    const uids = produce(6);
    odoo.rejectIf = (e) => (e.event_uid === uids[2] ? '/seq: gap' : null);
    sender!.start();
    await waitFor(() => outbox.depth() === 0, 'drained');
    expect(outbox.deadLetters().map((d) => [d.event_uid, d.code, d.message])).toEqual([
      [uids[2], 'invalid_event', '/seq: gap'],
    ]);
    expect(odoo.acceptedLog).toEqual(uids.filter((u) => u !== uids[2]));
  });

  it('keeps events in the outbox when Odoo is not configured (logged once)', async () => {
    const { log, lines } = captureLog();
    outbox = new Outbox({ dir, log });
    sender = new Sender({ outbox, odoo: null, workerUid: 'w', log });
    sender.start();
    produce(3);
    sender.wake();
    expect(outbox.depth()).toBe(3);
    expect(lines.filter((l) => String(l.msg).includes('not configured'))).toHaveLength(1);
  });

  it('flushes within the deadline on stop and leaves the rest for the next start', async () => {
    setup();
    produce(3);
    odoo.mode = 'hang';
    sender!.start();
    await waitFor(() => odoo.calls.length === 1, 'call in flight');
    const t0 = Date.now();
    await sender!.stop(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(outbox.depth()).toBe(3);
  });
});

const ingestSizes = () =>
  odoo.callsOf('events.ingest').map((c) => (c.params as { events: unknown[] }).events.length);

describe('Sender linger', () => {
  it('Should send the events committed within the linger in one call once the oldest waited linger_ms', async () => {
    const clock = new ManualClock();
    setup({ lingerMs: 100, clock });
    sender!.start();
    produce(1); // after a quiet period: at once
    await waitFor(() => outbox.depth() === 0, 'first event delivered');
    produce(1);
    await waitFor(() => clock.pending() === 1, 'the sender lingers');
    for (let i = 0; i < 4; i++) {
      clock.advance(20);
      produce(1);
    }
    clock.advance(19); // 99 ms after the oldest: not due yet
    expect(ingestSizes()).toEqual([1]);
    clock.advance(1);
    await waitFor(() => outbox.depth() === 0, 'lingering events delivered');
    expect(ingestSizes()).toEqual([1, 5]);
  });

  it('Should bound the wait by the oldest event: new events do not extend it', async () => {
    const clock = new ManualClock();
    setup({ lingerMs: 100, clock });
    sender!.start();
    produce(1);
    await waitFor(() => outbox.depth() === 0, 'first event delivered');
    const [oldest] = produce(1);
    const committedAt = clock.now();
    await waitFor(() => clock.pending() === 1, 'the sender lingers');
    clock.advance(60);
    produce(1);
    clock.advance(30);
    produce(1);
    clock.advance(10);
    await waitFor(() => outbox.depth() === 0, 'delivered 100 ms after the oldest commit');
    expect(clock.now() - committedAt).toBe(100);
    expect(ingestSizes()).toEqual([1, 3]);
    expect(odoo.acceptedLog[1]).toBe(oldest);
  });

  it('Should send a full batch at once, and a backlog back to back', async () => {
    const clock = new ManualClock();
    setup({ lingerMs: 10_000, batchSize: 4, clock });
    sender!.start();
    produce(1);
    await waitFor(() => outbox.depth() === 0, 'first event delivered');
    produce(3);
    await waitFor(() => clock.pending() === 1, 'the sender lingers');
    produce(1); // the batch is full: no waiting for the clock
    await waitFor(() => outbox.depth() === 0, 'full batch delivered');
    expect(ingestSizes()).toEqual([1, 4]);
    // A backlog (Odoo was away): old events, sent back to back without lingering.
    await odoo.stop();
    produce(10);
    clock.advance(60_000);
    await odoo.start();
    await waitFor(() => outbox.depth() === 0, 'backlog drained');
    expect(ingestSizes().slice(2)).toEqual([4, 4, 2]);
  });

  it('Should send what lingers at once on shutdown', async () => {
    const clock = new ManualClock();
    setup({ lingerMs: 10_000, clock });
    sender!.start();
    produce(1);
    await waitFor(() => outbox.depth() === 0, 'first event delivered');
    produce(3);
    await waitFor(() => clock.pending() === 1, 'the sender lingers');
    await sender!.stop(2000);
    expect(outbox.depth()).toBe(0);
    expect(ingestSizes()).toEqual([1, 3]);
  });
});

describe('Sender backoff', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries forever with growing jittered delays (fake timers)', async () => {
    vi.useFakeTimers();
    const { log } = captureLog();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sender-bo-'));
    outbox = new Outbox({ dir, log, groupCommit: false });
    outbox.commit('a', [onlineEvent('a')], null);
    const rolls = [0.5, 0.25, 0.75, 1, 0.1, 0.9, 0.6, 0.3, 0.8, 0.4, 0.7, 0.2];
    let r = 0;
    const ingest = vi.fn(async () => {
      throw new WorkerError('ODOO_UNREACHABLE', { reason: 'ECONNREFUSED' });
    });
    sender = new Sender({
      outbox,
      odoo: { ingest },
      workerUid: 'w',
      log,
      backoff: { baseMs: 100, maxMs: 10_000, random: () => rolls[r++ % rolls.length]! },
    });
    sender.start();
    for (let i = 0; i < 12; i++) await vi.advanceTimersByTimeAsync(20_000);
    expect(ingest.mock.calls.length).toBeGreaterThanOrEqual(12);
    const delays = sender.delays.slice(0, 8);
    expect(delays).toEqual([50, 50, 300, 800, 160, 2880, 3840, 3000]);
    expect(outbox.depth()).toBe(1);
    await sender.stop(10);
    sender = null;
  });
});
