/**
 * The worker's dashboard routes (worker/src/http/dashboard-routes.ts) over a real HTTP socket;
 * the browser runner (web/test/browser/run.mjs) drives the same routes with chromium.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenAuth } from '../../../worker/src/http/auth.ts';
import {
  createDashboardRoutes,
  type DashboardRoutes,
} from '../../../worker/src/http/dashboard-routes.ts';
import { machine } from '../helpers/machines.ts';

let server: http.Server | null = null;
let routes: DashboardRoutes | null = null;

async function start() {
  const listeners = new Set<(m: object) => void>();
  routes = createDashboardRoutes({
    listMachines: () => [machine()],
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    auth: new TokenAuth('admin-token-not-used-in-these-tests', 'read-token'),
  });
  const r = routes;
  server = http.createServer((req, res) => {
    if (!r.handle(req, res)) res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, listeners };
}

afterEach(async () => {
  routes?.stop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

describe('dashboard routes', () => {
  it('answers 401 without a valid token and serves the list with one', async () => {
    const { base } = await start();
    expect((await fetch(`${base}/api/machines`)).status).toBe(401);
    expect((await fetch(`${base}/api/machines?token=wrong`)).status).toBe(401);
    const ok = await fetch(`${base}/api/machines`, {
      headers: { Authorization: 'Bearer read-token' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([machine()]);
  });

  it("answers errors from the worker's catalogue, with its HTTP status", async () => {
    const { base } = await start();
    const denied = await fetch(`${base}/api/machines?token=wrong`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer');
    expect(await denied.json()).toMatchObject({
      error: { code: -32001, data: { code: 'UNAUTHORIZED' } },
    });
    const post = await fetch(`${base}/api/machines`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toMatchObject({ error: { data: { code: 'METHOD_NOT_ALLOWED' } } });
    routes?.stop();
    const stopping = await fetch(`${base}/api/machines?token=read-token`);
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toMatchObject({
      error: { message: 'Service unavailable: the worker is shutting down' },
    });
  });

  it('streams device_state events to an authorised client and cleans up on disconnect', async () => {
    const { base, listeners } = await start();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/events?token=read-token`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect(text).toContain('retry: 3000');
    for (const listener of listeners) listener(machine({ state: 'working' }));
    while (!/event: device_state\ndata: .*\n\n/.test(text)) {
      text += decoder.decode((await reader.read()).value);
    }
    expect(text).toContain(
      `event: device_state\ndata: ${JSON.stringify(machine({ state: 'working' }))}\n\n`,
    );
    expect(routes?.streams).toBe(1);
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(routes?.streams).toBe(0);
    expect(listeners.size).toBe(0);
  });

  it('serves the page with a strict CSP and leaves other paths to the server', async () => {
    const { base } = await start();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('dashboard/dashboard.js');
    expect((await fetch(`${base}/rpc`)).status).toBe(418);
    expect((await fetch(`${base}/api/machines`, { method: 'POST' })).status).toBe(405);
  });
});
