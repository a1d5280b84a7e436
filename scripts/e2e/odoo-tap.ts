/**
 * A transparent recording pass-through between the worker and Odoo, so the end-to-end test knows
 * every event the worker sent (the "delivered set") and what Odoo answered, independently of both.
 *
 * It forwards each request unchanged to Odoo and Odoo's answer unchanged to the worker. When Odoo
 * is down it resets the worker's connection (no made-up HTTP answer), which the worker sees exactly
 * as it sees a refused/reset connection to a stopped Odoo.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentEvent {
  event_uid: string;
  device_id: string;
  seq: number;
  type: string;
}

export interface TapStats {
  /** events.ingest calls forwarded and answered by Odoo. */
  answered: number;
  /** Calls Odoo did not answer (down, reset): the worker's connection was reset. */
  failed: number;
  accepted: number;
  duplicate: number;
  rejected: number;
}

interface RpcCall {
  method?: string;
  params?: { events?: SentEvent[] };
}

export class OdooTap {
  /** Every event the worker put in an events.ingest call, by event_uid (re-sends counted once). */
  readonly sent = new Map<string, SentEvent>();
  /** Per event_uid, how many times Odoo answered `accepted` (must end at exactly 1). */
  readonly acceptedCount = new Map<string, number>();
  readonly stats: TapStats = { answered: 0, failed: 0, accepted: 0, duplicate: 0, rejected: 0 };
  #server: http.Server | null = null;
  url = '';

  constructor(readonly upstream: string) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.#forward(req, res));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  async #forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const calls = this.#record(body);
    let status: number;
    let text: string;
    let type: string;
    try {
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'authorization']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(this.upstream + (req.url ?? '/'), {
        method: req.method ?? 'POST',
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
        signal: AbortSignal.timeout(15_000),
      });
      status = answer.status;
      text = await answer.text();
      type = answer.headers.get('content-type') ?? 'application/json';
    } catch {
      if (calls.some((c) => c.method === 'events.ingest')) this.stats.failed++;
      req.socket.destroy();
      return;
    }
    this.#results(calls, text);
    res.writeHead(status, { 'content-type': type });
    res.end(text);
  }

  #record(body: Buffer): RpcCall[] {
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return [];
    }
    const calls = (Array.isArray(doc) ? doc : [doc]) as RpcCall[];
    for (const call of calls) {
      if (call?.method !== 'events.ingest') continue;
      for (const e of call.params?.events ?? []) {
        this.sent.set(e.event_uid, {
          event_uid: e.event_uid,
          device_id: e.device_id,
          seq: e.seq,
          type: e.type,
        });
      }
    }
    return calls;
  }

  #results(calls: RpcCall[], text: string): void {
    if (!calls.some((c) => c.method === 'events.ingest')) return;
    this.stats.answered++;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return;
    }
    for (const answer of (Array.isArray(doc) ? doc : [doc]) as {
      result?: { results?: { event_uid: string | null; status: string }[] };
    }[]) {
      for (const item of answer?.result?.results ?? []) {
        if (item.status === 'accepted') {
          this.stats.accepted++;
          if (item.event_uid)
            this.acceptedCount.set(
              item.event_uid,
              (this.acceptedCount.get(item.event_uid) ?? 0) + 1,
            );
        } else if (item.status === 'duplicate') this.stats.duplicate++;
        else this.stats.rejected++;
      }
    }
  }
}
