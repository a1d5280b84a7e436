/**
 * The dead-letter methods of the control API over real HTTP, on a real SQLite outbox: events Odoo
 * rejected are listed (paged, newest first, with Odoo's code and message), sent again (back to
 * pending, in the sender's queue) or deleted; admin token only; unknown ids fail the whole call
 * naming them and change nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkshopEvent } from '@workshop-iot/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenAuth } from '../../src/http/auth.ts';
import { RpcDispatcher } from '../../src/http/rpc.ts';
import { registerDeadLetterMethods } from '../../src/http/rpc-deadletters.ts';
import { HttpServer } from '../../src/http/server.ts';
import { Outbox } from '../../src/outbox/outbox.ts';
import { ADMIN_TOKEN, READ_TOKEN } from '../helpers/control.ts';
import { onlineEvent } from '../helpers/events.ts';
import { captureLog } from '../helpers/log.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An outbox with `rejected` dead letters (device d1..dN) and one pending event, served over /rpc. */
async function serve(rejected: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deadletters-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { log: logger } = captureLog('info');
  const outbox = new Outbox({ dir, log: logger, groupCommit: false });
  cleanup.push(() => outbox.close());
  const events = new Map<string, WorkshopEvent>();
  for (let i = 1; i <= rejected + 1; i++) {
    const event = onlineEvent(`d${i}`);
    events.set(`d${i}`, event);
    outbox.commit(`d${i}`, [event], null);
  }
  const pending = outbox.peek(1000);
  outbox.settle(
    [],
    pending.slice(0, rejected).map((item, i) => ({
      item,
      code: 'unknown_device',
      message: `device d${i + 1} is not configured in Odoo`,
    })),
  );
  let wakes = 0;
  const rpc = new RpcDispatcher({ log: logger });
  registerDeadLetterMethods(rpc, outbox, () => wakes++);
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 65_536,
    auth: new TokenAuth(ADMIN_TOKEN, READ_TOKEN),
    rpc,
    log: logger,
  });
  const { port } = await server.start();
  cleanup.push(() => server.stop());
  let id = 0;
  const call = async (method: string, params?: unknown, token = ADMIN_TOKEN) => {
    const res = await fetch(`http://127.0.0.1:${port}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    return (await res.json()) as {
      result?: Record<string, unknown> & { items?: { id: number; device_id: string }[] };
      error?: { code: number; message: string; data: Record<string, unknown> };
    };
  };
  return { outbox, call, events, wakes: () => wakes };
}

describe('dead letters over the control API', () => {
  it('lists them newest first in pages, with the rejection code and message', async () => {
    const { call } = await serve(5);
    const first = await call('deadletters.list', { limit: 2 });
    expect(first.error).toBeUndefined();
    expect(first.result?.total).toBe(5);
    expect(first.result?.items?.map((i) => i.device_id)).toEqual(['d5', 'd4']);
    expect(first.result?.items?.[0]).toMatchObject({
      type: 'device_online',
      code: 'unknown_device',
      message: 'device d5 is not configured in Odoo',
      rejected_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const second = await call('deadletters.list', {
      limit: 2,
      before_id: first.result?.next_before_id,
    });
    expect(second.result?.items?.map((i) => i.device_id)).toEqual(['d3', 'd2']);
    const last = await call('deadletters.list', {
      limit: 2,
      before_id: second.result?.next_before_id,
    });
    expect(last.result?.items?.map((i) => i.device_id)).toEqual(['d1']);
    expect(last.result?.next_before_id).toBeNull();
    // Default page, no params at all.
    expect((await call('deadletters.list')).result?.items).toHaveLength(5);
  });

  it('retry puts the listed dead letters back in the outbox (pending, same event) and wakes the sender', async () => {
    const { call, outbox, events, wakes } = await serve(3);
    const listed = (await call('deadletters.list')).result?.items ?? [];
    const d2 = listed.find((i) => i.device_id === 'd2');
    const before = outbox.peek(100).map((p) => p.event_uid);
    expect(before).toHaveLength(1);
    const retried = await call('deadletters.retry', { ids: [d2?.id] });
    expect(retried.result).toEqual({ count: 1, remaining: 2 });
    expect(wakes()).toBe(1);
    const pending = outbox.peek(100);
    expect(pending).toHaveLength(2);
    const back = pending.find((p) => p.device_id === 'd2');
    // The very event Odoo rejected (same event_uid and seq: Odoo still deduplicates it).
    expect(back?.event).toEqual(events.get('d2'));
    expect(outbox.depth()).toBe(2);
    expect(outbox.deadLetterCount()).toBe(2);
    // all: the rest.
    expect((await call('deadletters.retry', { all: true })).result).toEqual({
      count: 2,
      remaining: 0,
    });
    expect(
      outbox
        .peek(100)
        .map((p) => p.device_id)
        .sort(),
    ).toEqual(['d1', 'd2', 'd3', 'd4']);
  });

  it('purge deletes the listed dead letters, or all, and leaves the pending events alone', async () => {
    const { call, outbox } = await serve(3);
    const [newest] = (await call('deadletters.list', { limit: 1 })).result?.items ?? [];
    expect((await call('deadletters.purge', { ids: [newest?.id] })).result).toEqual({
      count: 1,
      remaining: 2,
    });
    expect(((await call('deadletters.list')).result?.items ?? []).map((i) => i.device_id)).toEqual([
      'd2',
      'd1',
    ]);
    expect((await call('deadletters.purge', { all: true })).result).toEqual({
      count: 2,
      remaining: 0,
    });
    expect(outbox.deadLetterCount()).toBe(0);
    expect(outbox.depth()).toBe(1);
  });

  it('unknown ids fail the whole call, naming them, and change nothing', async () => {
    const { call, outbox } = await serve(2);
    const [known] = (await call('deadletters.list')).result?.items ?? [];
    for (const method of ['deadletters.retry', 'deadletters.purge']) {
      const res = await call(method, { ids: [known?.id, 9999, 12345] });
      expect(res.error).toMatchObject({
        code: -32012,
        message: 'No dead letter with id 9999, 12345 (nothing was changed)',
        data: { code: 'DEAD_LETTER_NOT_FOUND', unknown_ids: [9999, 12345] },
      });
    }
    expect(outbox.deadLetterCount()).toBe(2);
    expect(outbox.depth()).toBe(1);
  });

  it('refuses bad params with the field named, and neither or both of ids/all', async () => {
    const { call } = await serve(1);
    const bad = await call('deadletters.list', { limit: 0 });
    expect(bad.error?.data).toMatchObject({
      code: 'INVALID_PARAMS',
      errors: [expect.objectContaining({ path: '/limit' })],
    });
    for (const params of [{}, { ids: [1], all: true }]) {
      const res = await call('deadletters.purge', params);
      expect(res.error?.data).toMatchObject({
        code: 'INVALID_PARAMS',
        errors: [{ path: '', message: 'must have exactly one of ids or all' }],
      });
    }
    const ids = await call('deadletters.retry', { ids: ['1'] });
    expect(ids.error?.data).toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('needs the admin token: the read-only token is refused for all three', async () => {
    const { call, outbox } = await serve(1);
    for (const [method, params] of [
      ['deadletters.list', {}],
      ['deadletters.retry', { all: true }],
      ['deadletters.purge', { all: true }],
    ] as const) {
      const res = await call(method, params, READ_TOKEN);
      expect(res.error?.data).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(outbox.deadLetterCount()).toBe(1);
  });
});
