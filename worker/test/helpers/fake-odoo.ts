/**
 * A small JSON-RPC 2.0 HTTP server playing Odoo's `/workshop_iot/rpc` for tests: it records every
 * event it accepts (event_uid -> event), answers `duplicate` for a uid seen before, and can be switched
 * into failure modes (refuse connections, HTTP 500, JSON-RPC internal error, hang until the client
 * times out, reject chosen events). It decouples the sender/link tests from a real Odoo.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DiscoveredMeter, WorkerConfig, WorkshopEvent } from '@workshop-iot/shared';

export type FakeOdooMode = 'ok' | 'http500' | 'rpc_error' | 'hang' | 'unauthorized';

export class FakeOdoo {
  readonly accepted = new Map<string, WorkshopEvent>();
  /** Every event_uid answered `accepted`, in order (a uid twice here = a duplicate accepted). */
  readonly acceptedLog: string[] = [];
  readonly duplicates: string[] = [];
  readonly rejected: string[] = [];
  readonly calls: { method: string; at: number; auth: string | undefined; params: unknown }[] = [];
  /** Meters received by discovery.report, `<family>/<device_key>` -> the last report of it. */
  readonly discovered = new Map<string, DiscoveredMeter>();
  mode: FakeOdooMode = 'ok';
  /** Events for which this returns a reason are rejected (code 'invalid_event'). */
  rejectIf: (e: WorkshopEvent) => string | null = () => null;
  /** Config returned by worker.hello when newer than the worker's. */
  config: WorkerConfig | null = null;
  private server: http.Server | null = null;
  private hanging = new Set<http.ServerResponse>();
  port = 0;

  constructor(readonly apiKey = 'odoo-test-api-key') {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listen (again) on the same port when it had one: "Odoo comes back". */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Close: connections are refused until start() again. */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  callsOf(method: string) {
    return this.calls.filter((c) => c.method === method);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id: number;
        method: string;
        params: Record<string, unknown>;
      };
      this.calls.push({
        method: body.method,
        at: Date.now(),
        auth: req.headers.authorization,
        params: body.params,
      });
      if (this.mode === 'hang') {
        this.hanging.add(res);
        return;
      }
      if (this.mode === 'http500') return void res.writeHead(500).end('Internal Server Error');
      if (this.mode === 'unauthorized' || req.headers.authorization !== `Bearer ${this.apiKey}`)
        return void res.writeHead(401).end();
      if (this.mode === 'rpc_error')
        return this.reply(res, {
          jsonrpc: '2.0',
          id: body.id,
          error: { code: -32603, message: 'Odoo Server Error' },
        });
      this.reply(res, {
        jsonrpc: '2.0',
        id: body.id,
        result: this.result(body.method, body.params),
      });
    });
  }

  private result(method: string, params: Record<string, unknown>): unknown {
    if (method === 'events.ingest') {
      const events = params.events as WorkshopEvent[];
      return {
        results: events.map((e, index) => {
          const reason = this.rejectIf(e);
          if (reason) {
            this.rejected.push(e.event_uid);
            return {
              index,
              event_uid: e.event_uid,
              status: 'rejected',
              code: 'invalid_event',
              message: reason,
            };
          }
          if (this.accepted.has(e.event_uid)) {
            this.duplicates.push(e.event_uid);
            return { index, event_uid: e.event_uid, status: 'duplicate' };
          }
          this.accepted.set(e.event_uid, e);
          this.acceptedLog.push(e.event_uid);
          return { index, event_uid: e.event_uid, status: 'accepted' };
        }),
      };
    }
    if (method === 'worker.hello') {
      const version = this.config?.version ?? 0;
      const newer = this.config && version > (params.config_version as number);
      return {
        worker_id: 7,
        server_time: new Date().toISOString(),
        config_version: version,
        config: newer ? this.config : null,
      };
    }
    if (method === 'worker.status') return { ok: true, config_version: this.config?.version ?? 0 };
    if (method === 'discovery.report') {
      for (const meter of params.meters as DiscoveredMeter[])
        this.discovered.set(`${meter.family}/${meter.device_key}`, meter);
      return { ok: true, ignored: [] };
    }
    return null;
  }

  private reply(res: http.ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  }
}
