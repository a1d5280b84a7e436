/**
 * The control API's defences, through the real HTTP server: the read-only token's scope and small body
 * limit are enforced before a large body is parsed, batches are bounded, every error's HTTP status is
 * the catalogue's, and failed logins are logged rate-limited without the presented secret.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ERRORS, type ErrorCode } from '../../src/errors.ts';
import { DEFAULT_MAX_BATCH } from '../../src/http/rpc.ts';
import { READ_SCOPE_MAX_BODY_BYTES } from '../../src/http/server.ts';
import { ADMIN_TOKEN, config, READ_TOKEN, startControl } from '../helpers/control.ts';

let ctl: Awaited<ReturnType<typeof startControl>>;
beforeEach(async () => {
  ctl = await startControl(8 * 1024 * 1024);
  await ctl.manager.apply(config(2, ['m1', 'm2']), 'rpc');
});
afterEach(async () => {
  vi.useRealTimers();
  await ctl.close();
});

const call = (method: string, params: unknown = {}, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});
const batch = (n: number, method = 'health.get') =>
  Array.from({ length: n }, (_, i) => call(method, {}, i));

type ErrorBody = {
  error: { code: number; message: string; data: Record<string, unknown> & { code: string } };
};

describe('POST /rpc limits', () => {
  it("refuses a read token's body above the small read limit before parsing it (413)", async () => {
    // The attack of issue 12: a multi-megabyte batch of health.get with the read-only token.
    const body = JSON.stringify(batch(20_000));
    expect(body.length).toBeGreaterThan(READ_SCOPE_MAX_BODY_BYTES * 10);
    const res = await ctl.post(body, READ_TOKEN);
    expect(res.status).toBe(413);
    const json = (await res.json()) as ErrorBody;
    expect(json.error.data.code).toBe('BODY_TOO_LARGE');
    expect(json.error.message).toBe(`Request body exceeds ${READ_SCOPE_MAX_BODY_BYTES} bytes`);
  });

  it('refuses a batch above the limit as a whole with BATCH_TOO_LARGE (400), for any token', async () => {
    for (const token of [ADMIN_TOKEN, READ_TOKEN]) {
      const res = await ctl.post(batch(DEFAULT_MAX_BATCH + 1), token);
      expect(res.status).toBe(400);
      const json = (await res.json()) as ErrorBody;
      expect(json.error).toMatchObject({
        code: -32600,
        message: `Batch of ${DEFAULT_MAX_BATCH + 1} requests exceeds the limit of ${DEFAULT_MAX_BATCH}`,
        data: { code: 'BATCH_TOO_LARGE' },
      });
    }
    const full = await ctl.post(batch(DEFAULT_MAX_BATCH), READ_TOKEN);
    expect(full.status).toBe(200);
    expect(((await full.json()) as unknown[]).length).toBe(DEFAULT_MAX_BATCH);
  });

  it('refuses a read-token batch naming an admin method with 403 before any item runs', async () => {
    const res = await ctl.post(
      [call('health.get', {}, 1), call('config.apply', { config: config(9) }, 2)],
      READ_TOKEN,
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      code: -32003,
      data: { code: 'FORBIDDEN' },
    });
    expect(ctl.manager.version).toBe(2);
  });

  it("answers every error with its catalogue's HTTP status", async () => {
    const cases: Array<[string | object, string | null, Record<string, string>?]> = [
      [call('config.get'), READ_TOKEN],
      [call('config.apply', { config: config(9) }), READ_TOKEN],
      [call('config.get'), null],
      [call('config.get'), 'wrong-token-wrong-token-wrong'],
      ['{"jsonrpc": ', ADMIN_TOKEN],
      [{ jsonrpc: '1.0', id: 1, method: 'x' }, ADMIN_TOKEN],
      [call('nope'), ADMIN_TOKEN],
      [call('health.get', { extra: 1 }), ADMIN_TOKEN],
      [call('config.apply', { config: { version: 'x' } }), ADMIN_TOKEN],
      [call('config.apply', { config: config(1) }), ADMIN_TOKEN],
      [batch(DEFAULT_MAX_BATCH + 1), ADMIN_TOKEN],
      [[], ADMIN_TOKEN],
      [call('health.get'), ADMIN_TOKEN, { 'content-type': 'text/plain' }],
      [JSON.stringify(call('config.apply', { config: { pad: 'x'.repeat(20_000) } })), READ_TOKEN],
    ];
    const seen = new Set<string>();
    for (const [body, token, headers] of cases) {
      const res = await ctl.post(body, token, headers);
      const json = (await res.json()) as ErrorBody;
      const code = json.error.data.code as ErrorCode;
      seen.add(code);
      expect([code, res.status]).toEqual([code, ERRORS[code].httpStatus]);
    }
    expect([...seen].sort()).toEqual(
      [
        'BATCH_TOO_LARGE',
        'BODY_TOO_LARGE',
        'CONFIG_INVALID',
        'CONFIG_VERSION_OLDER',
        'FORBIDDEN',
        'INVALID_PARAMS',
        'INVALID_REQUEST',
        'METHOD_NOT_FOUND',
        'PARSE_ERROR',
        'UNAUTHORIZED',
        'UNSUPPORTED_MEDIA_TYPE',
      ].sort(),
    );
  });
});

describe('failed logins', () => {
  const failures = () => ctl.lines.filter((l) => String(l.msg).startsWith('Control API login'));

  it('logs one line per source per minute with the suppressed count, never the secret', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-06T12:00:00Z'));
    const secret = 'guess-guess-guess-guess-0001';
    for (let i = 0; i < 5; i++) await ctl.post(call('config.get'), secret);
    await ctl.post(call('config.get'), null);
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toMatchObject({
      level: 40,
      source: '127.0.0.1',
      failure: 'invalid',
      path: '/rpc',
      suppressed: 0,
    });

    vi.setSystemTime(new Date('2026-12-06T12:01:00Z'));
    await fetch(`${ctl.url}/metrics`);
    expect(failures()).toHaveLength(2);
    expect(failures()[1]).toMatchObject({ failure: 'missing', path: '/metrics', suppressed: 5 });
    expect(failures()[1]?.msg).toContain('5 more since the last line');

    // A wrong token on an open route is a failed login too; a valid one is not.
    vi.setSystemTime(new Date('2026-12-06T12:02:00Z'));
    await fetch(`${ctl.url}/health`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(failures()).toHaveLength(2);
    await fetch(`${ctl.url}/health`, { headers: { authorization: `Bearer ${secret}` } });
    expect(failures()).toHaveLength(3);
    const all = JSON.stringify(ctl.lines);
    expect(all).not.toContain(secret);
    expect(all).not.toContain('guess-guess');
  });
});
