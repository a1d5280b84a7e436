import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, config, READ_TOKEN, startControl } from '../helpers/control.ts';

let ctl: Awaited<ReturnType<typeof startControl>>;
beforeEach(async () => {
  ctl = await startControl();
  await ctl.manager.apply(config(2, ['m1', 'm2']), 'rpc');
});
afterEach(async () => {
  await ctl.close();
});

const call = (method: string, params?: unknown, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params === undefined ? {} : { params }),
});

async function expectConfigKept() {
  const res = await ctl.post(call('config.get'));
  const body = (await res.json()) as { result: { config: { version: number } } };
  expect(body.result.config.version).toBe(2);
}

describe('POST /rpc', () => {
  it('answers 401 for a missing or wrong token, without reading the request', async () => {
    for (const token of [null, 'wrong-token-wrong-token-wrong', `${ADMIN_TOKEN}x`]) {
      const res = await ctl.post(call('config.get'), token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as { error: { data: { code: string } } };
      expect(body.error.data.code).toBe('UNAUTHORIZED');
    }
  });

  it('answers -32700 for malformed JSON', async () => {
    const res = await ctl.post('{"jsonrpc": "2.0", "method": ');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32700,
        message: 'Malformed JSON in request body',
        data: { code: 'PARSE_ERROR' },
      },
    });
  });

  it('answers -32600 for an invalid request and -32601 for an unknown method', async () => {
    const bad = (await (await ctl.post({ jsonrpc: '1.0', id: 4, method: 'x' })).json()) as {
      id: number;
      error: { code: number };
    };
    expect(bad).toMatchObject({ id: 4, error: { code: -32600 } });
    const unknown = (await (await ctl.post(call('config.delete', {}, 5))).json()) as {
      id: number;
      error: { code: number; message: string };
    };
    expect(unknown).toMatchObject({
      id: 5,
      error: { code: -32601, message: 'Unknown method config.delete' },
    });
  });

  it('answers -32602 with field paths for an invalid config and keeps the old one', async () => {
    const broken = config(3, ['m1']);
    (broken.devices[0]!.session_config as { working_threshold_w: number }).working_threshold_w = 1;
    (broken.devices[0] as { topic: string }).topic = 'a/#';
    const res = await ctl.post(call('config.apply', { config: broken }));
    const body = (await res.json()) as {
      error: { code: number; data: { code: string; errors: { path: string }[] } };
    };
    expect(body.error.code).toBe(-32602);
    expect(body.error.data.code).toBe('CONFIG_INVALID');
    expect(body.error.data.errors.map((e) => e.path)).toContain('/config/devices/0/topic');
    const missing = (await (await ctl.post(call('config.apply', {}))).json()) as {
      error: { data: { errors: unknown[] } };
    };
    expect(missing.error.data.errors).toEqual([{ path: '/config', message: 'is required' }]);
    await expectConfigKept();
  });

  it('applies a newer config, ignores the same version twice and refuses an older one', async () => {
    const first = (await (
      await ctl.post(call('config.apply', { config: config(3, ['m2', 'm3']) }))
    ).json()) as { result: unknown };
    expect(first.result).toEqual({
      applied: true,
      version: 3,
      changes: { added: ['m3'], updated: [], removed: ['m1'], broker_changed: false },
    });
    const again = (await (
      await ctl.post(call('config.apply', { config: config(3, ['m2', 'm3']) }))
    ).json()) as { result: { applied: boolean } };
    expect(again.result.applied).toBe(false);
    const older = (await (await ctl.post(call('config.apply', { config: config(1) }))).json()) as {
      error: { code: number; data: { code: string } };
    };
    expect(older.error).toMatchObject({ code: -32010, data: { code: 'CONFIG_VERSION_OLDER' } });
  });

  it('answers 413 and stops reading a body over max_body_bytes (declared or streamed)', async () => {
    const huge = JSON.stringify(call('config.apply', { config: { pad: 'x'.repeat(10_000) } }));
    const declared = await ctl.post(huge);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'BODY_TOO_LARGE',
    );
    // Chunked (no Content-Length): the limit is enforced while reading.
    const port = Number(new URL(ctl.url).port);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        const chunk = 'y'.repeat(2000);
        for (let i = 0; i < 4; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 413 Payload Too Large');
    await expectConfigKept();
  });

  it('handles batches: an array of answers, none for notifications, errors per item', async () => {
    const res = await ctl.post([
      call('health.get', {}, 1),
      call('nope', {}, 2),
      { jsonrpc: '2.0', method: 'health.get' },
    ]);
    const body = (await res.json()) as { id: number; result?: unknown; error?: { code: number } }[];
    expect(body.map((b) => [b.id, b.error?.code ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, -32601],
    ]);
    const single = (await (await ctl.post([call('health.get', {}, 9)])).json()) as unknown[];
    expect(Array.isArray(single)).toBe(true);
    const onlyNotifications = await ctl.post([{ jsonrpc: '2.0', method: 'health.get' }]);
    expect(onlyNotifications.status).toBe(204);
    const empty = (await (await ctl.post([])).json()) as { error: { code: number } };
    expect(empty.error.code).toBe(-32600);
  });

  it('lets the read-only token call health.get but not config.apply / config.get', async () => {
    const ok = (await (await ctl.post(call('health.get'), READ_TOKEN)).json()) as {
      result: { worker_uid: string };
    };
    expect(ok.result.worker_uid).toBe('w1');
    const denied = (await (
      await ctl.post(call('config.apply', { config: config(9) }), READ_TOKEN)
    ).json()) as { error: { data: { code: string } } };
    expect(denied.error.data.code).toBe('FORBIDDEN');
    await expectConfigKept();
  });

  it('never puts a stack trace on the wire', async () => {
    const res = await ctl.post(call('config.apply', { config: 'not-an-object' }));
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(text).not.toContain('stack');
  });
});

describe('GET /health and /metrics', () => {
  it('answers only the status without a token and the full health contract with one', async () => {
    const open = await fetch(`${ctl.url}/health`);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ status: 'ok' });
    const full = (await (
      await fetch(`${ctl.url}/health`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })
    ).json()) as { devices: number; config: { version: number } };
    expect(full).toMatchObject({ devices: 2, config: { version: 2 } });
  });

  it('serves Prometheus text with a token and 401 without', async () => {
    expect((await fetch(`${ctl.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${ctl.url}/metrics`, {
      headers: { authorization: `Bearer ${READ_TOKEN}` },
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('workshop_iot_outbox_depth 2');
    expect(text).toContain('workshop_iot_mqtt_messages_total 3');
    expect(text).toContain('workshop_iot_send_latency_seconds');
  });

  it('answers 404 for unknown routes and 405 for a wrong method', async () => {
    expect((await fetch(`${ctl.url}/nope`)).status).toBe(404);
    expect((await fetch(`${ctl.url}/rpc`)).status).toBe(405);
  });
});
