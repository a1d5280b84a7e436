import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { OdooLink } from '../../src/odoo/link.ts';
import { type OdooApi, OdooRpcClient, odooEndpoint } from '../../src/odoo/rpc-client.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { captureLog } from '../helpers/log.ts';

let odoo: FakeOdoo;
beforeEach(async () => {
  odoo = new FakeOdoo();
  await odoo.start();
});
afterEach(async () => {
  vi.useRealTimers();
  await odoo.stop();
});

const helloParams = {
  worker_uid: 'w1',
  software_version: '0.1.0',
  config_version: 0,
  started_at: '2026-01-01T00:00:00.000Z',
};

const health = () => ({
  status: 'ok' as const,
  broker_connected: true,
  outbox_depth: 0,
  oldest_pending_s: null,
  dead_letters: 0,
  uptime_s: 1,
  software_version: '0.1.0',
});

describe('OdooRpcClient', () => {
  it('builds the endpoint from the Odoo base URL', () => {
    expect(odooEndpoint('https://odoo.example.com/')).toBe(
      'https://odoo.example.com/workshop_iot/rpc',
    );
    expect(odooEndpoint('http://x:8069/workshop_iot/rpc')).toBe('http://x:8069/workshop_iot/rpc');
  });

  it('calls worker.hello with the bearer API key and validates the result', async () => {
    const client = new OdooRpcClient({ url: odoo.url, apiKey: odoo.apiKey });
    const result = await client.hello(helloParams);
    expect(result.worker_id).toBe(7);
    expect(odoo.calls[0]).toMatchObject({ method: 'worker.hello', auth: `Bearer ${odoo.apiKey}` });
    expect(client.lastOkAt).not.toBeNull();
  });

  it('classifies a refused API key, a timeout and a refused connection', async () => {
    const wrong = new OdooRpcClient({ url: odoo.url, apiKey: 'nope' });
    await expect(wrong.hello(helloParams)).rejects.toMatchObject({
      code: 'ODOO_UNAUTHORIZED',
      retryable: false,
    });
    odoo.mode = 'hang';
    const slow = new OdooRpcClient({ url: odoo.url, apiKey: odoo.apiKey, timeoutMs: 100 });
    await expect(slow.hello(helloParams)).rejects.toMatchObject({
      code: 'ODOO_TIMEOUT',
      retryable: true,
    });
    expect(slow.lastError).toContain('100 ms');
    await odoo.stop();
    await expect(slow.hello(helloParams)).rejects.toMatchObject({
      code: 'ODOO_UNREACHABLE',
      retryable: true,
    });
  });

  it('never waits more than 10 s whatever timeout is asked', () => {
    const client = new OdooRpcClient({ url: odoo.url, apiKey: 'k', timeoutMs: 60_000 });
    expect(client.timeoutMs).toBe(10_000);
  });

  it('rejects a result that does not match the contract', async () => {
    const client = new OdooRpcClient({
      url: odoo.url,
      apiKey: odoo.apiKey,
      fetch: async () =>
        new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { ok: 'yes' } })),
    });
    await expect(
      client.status({
        worker_uid: 'w1',
        config_version: 0,
        health: health(),
        devices: [],
        full: true,
      }),
    ).rejects.toMatchObject({ code: 'ODOO_BAD_RESPONSE' });
  });
});

describe('OdooLink', () => {
  const state = (id: string) => ({
    device_id: id,
    state: 'idle' as const,
    power_w: 0,
    session_id: null,
    session_started_at: null,
    session_working_s: 0,
    session_standby_s: 0,
    last_seen_at: null,
    changed_at: '2026-01-01T00:00:00.000Z',
  });

  function link(applyConfig = vi.fn(async (_config: unknown) => ({}))) {
    const { log, lines } = captureLog();
    let version = 0;
    const l = new OdooLink({
      odoo: new OdooRpcClient({ url: odoo.url, apiKey: odoo.apiKey }),
      log,
      workerUid: 'w1',
      softwareVersion: '0.1.0',
      httpUrl: null,
      hostname: 'h',
      startedAt: '2026-01-01T00:00:00.000Z',
      statusIntervalS: 30,
      configVersion: () => version,
      applyConfig: async (c) => {
        await applyConfig(c);
        version = (c as { version: number }).version;
      },
      liveStates: () => [state('a'), state('b')],
      health,
      debounceMs: 50,
    });
    return { l, applyConfig, lines };
  }

  it('registers with hello, applies a newer config from Odoo and reports a full status', async () => {
    odoo.config = { version: 3, broker: { url: null }, devices: [] };
    const { l, applyConfig } = link();
    l.start();
    await waitFor(() => odoo.callsOf('worker.status').length === 1, 'full status after hello');
    expect(applyConfig).toHaveBeenCalledWith(odoo.config);
    const status = odoo.callsOf('worker.status')[0]!.params as {
      full: boolean;
      devices: unknown[];
      config_version: number;
    };
    expect(status).toMatchObject({ full: true, config_version: 3 });
    expect(status.devices).toHaveLength(2);
    l.stop();
  });

  it('debounces live state changes into one prompt push of the changed devices', async () => {
    const { l } = link();
    l.start();
    await waitFor(() => odoo.callsOf('worker.status').length === 1, 'first status');
    l.liveStateChanged({ ...state('a'), state: 'starting' });
    l.liveStateChanged({ ...state('a'), state: 'working' });
    l.liveStateChanged({ ...state('b'), state: 'standby' });
    await waitFor(() => odoo.callsOf('worker.status').length === 2, 'prompt push');
    const push = odoo.callsOf('worker.status')[1]!.params as {
      full: boolean;
      devices: { state: string }[];
    };
    expect(push.full).toBe(false);
    expect(push.devices.map((d) => d.state)).toEqual(['working', 'standby']);
    l.stop();
  });

  it('keeps one worker.status call in flight and sends what changed meanwhile in one more', async () => {
    vi.useFakeTimers();
    const { log } = captureLog();
    const answers: (() => void)[] = [];
    const sent: { full: boolean; devices: string[] }[] = [];
    const api: OdooApi = {
      hello: async () => ({ worker_id: 7, server_time: '', config_version: 0, config: null }),
      status: (params) => {
        sent.push({ full: params.full ?? false, devices: params.devices.map((d) => d.state) });
        return new Promise((resolve) =>
          answers.push(() => resolve({ ok: true, config_version: 0 })),
        );
      },
      ingest: async () => ({ results: [] }),
      discoveryReport: async () => ({ ok: true, ignored: [] }),
    };
    const l = new OdooLink({
      odoo: api,
      log,
      workerUid: 'w1',
      softwareVersion: '0.1.0',
      httpUrl: null,
      hostname: 'h',
      startedAt: '2026-01-01T00:00:00.000Z',
      statusIntervalS: 30,
      configVersion: () => 0,
      applyConfig: async () => ({}),
      liveStates: () => [state('a')],
      health,
      debounceMs: 50,
    });
    l.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([{ full: true, devices: ['idle'] }]); // after hello, still unanswered
    l.liveStateChanged({ ...state('a'), state: 'starting' });
    await vi.advanceTimersByTimeAsync(60);
    l.liveStateChanged({ ...state('b'), state: 'standby' });
    await vi.advanceTimersByTimeAsync(60);
    l.liveStateChanged({ ...state('a'), state: 'working' });
    await vi.advanceTimersByTimeAsync(60);
    expect(sent).toHaveLength(1); // three debounces fired: none went out beside the first call
    answers.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([
      { full: true, devices: ['idle'] },
      { full: false, devices: ['working', 'standby'] },
    ]);
    answers.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    l.stop();
  });

  it('retries hello with backoff until Odoo is reachable', async () => {
    await odoo.stop();
    const { l, lines } = link();
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.01);
    l.start();
    await waitFor(
      () => lines.filter((x) => x.msg === 'worker.hello failed').length >= 2,
      'two failed hello attempts',
    );
    await odoo.start();
    await waitFor(() => l.workerId === 7, 'registered after Odoo came back');
    random.mockRestore();
    l.stop();
  });
});
