/**
 * JSON-RPC 2.0 client to Odoo (`POST <odoo.url>/workshop_iot/rpc`, `Authorization: Bearer <api key>`)
 * on the `json-rpc-2.0` package over Node's global fetch.
 *
 * Every call is bounded by `timeout_ms` (<= 10 s) through an AbortController that also covers reading
 * the body, so a slow Odoo can never stall the sender or the status loop. Failures are classified into
 * catalogue errors; `retryable` ones (refused, reset, timeout, HTTP 5xx, JSON-RPC internal/server
 * errors) are transport trouble. Results are validated with the shared validators before use.
 */
import {
  type DiscoveryReportParams,
  type DiscoveryReportResult,
  type EventsIngestParams,
  type EventsIngestResult,
  type FieldError,
  validate,
  type WorkerHelloParams,
  type WorkerHelloResult,
  type WorkerStatusParams,
  type WorkerStatusResult,
} from '@workshop-iot/shared';
import { JSONRPCClient, type JSONRPCErrorException, type JSONRPCResponse } from 'json-rpc-2.0';
import { WorkerError } from '../errors.ts';

export const ODOO_RPC_PATH = '/workshop_iot/rpc';

export interface OdooClientOptions {
  url: string;
  apiKey: string | null;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => Date;
}

/** Per-call context: the abort signal and the classified failure the send function saw. */
interface CallContext {
  signal: AbortSignal;
  timeoutMs: number;
  failure: WorkerError | null;
}

/** The methods the worker calls on Odoo. The sender and the link depend on this, not on the class. */
export interface OdooApi {
  hello(params: WorkerHelloParams, signal?: AbortSignal): Promise<WorkerHelloResult>;
  ingest(params: EventsIngestParams, signal?: AbortSignal): Promise<EventsIngestResult>;
  status(params: WorkerStatusParams, signal?: AbortSignal): Promise<WorkerStatusResult>;
  discoveryReport(
    params: DiscoveryReportParams,
    signal?: AbortSignal,
  ): Promise<DiscoveryReportResult>;
}

export class OdooRpcClient implements OdooApi {
  readonly endpoint: string;
  readonly #client: JSONRPCClient<CallContext>;
  /** Per-call timeout: the one asked, capped at 10 s (a call never holds the sender longer). */
  readonly timeoutMs: number;
  readonly #fetchFn: typeof fetch;
  readonly #now: () => Date;
  lastOkAt: string | null = null;
  lastError: string | null = null;

  readonly #options: OdooClientOptions;

  constructor(options: OdooClientOptions) {
    this.#options = options;
    this.endpoint = odooEndpoint(options.url);
    this.timeoutMs = Math.min(options.timeoutMs ?? 10_000, 10_000);
    this.#fetchFn = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
    this.#client = new JSONRPCClient<CallContext>((payload, ctx) => this.#send(payload, ctx));
  }

  hello(params: WorkerHelloParams, signal?: AbortSignal): Promise<WorkerHelloResult> {
    return this.#call('worker.hello', params, 'worker_hello_result', signal);
  }

  ingest(params: EventsIngestParams, signal?: AbortSignal): Promise<EventsIngestResult> {
    return this.#call('events.ingest', params, 'events_ingest_result', signal);
  }

  status(params: WorkerStatusParams, signal?: AbortSignal): Promise<WorkerStatusResult> {
    return this.#call('worker.status', params, 'worker_status_result', signal);
  }

  discoveryReport(
    params: DiscoveryReportParams,
    signal?: AbortSignal,
  ): Promise<DiscoveryReportResult> {
    return this.#call('discovery.report', params, 'discovery_report_result', signal);
  }

  async #call<T>(
    method: string,
    params: object,
    resultContract:
      | 'worker_hello_result'
      | 'events_ingest_result'
      | 'worker_status_result'
      | 'discovery_report_result',
    outer?: AbortSignal,
  ): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const onOuterAbort = () => controller.abort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const ctx: CallContext = {
      signal: controller.signal,
      timeoutMs: this.timeoutMs,
      failure: null,
    };
    try {
      let result: unknown;
      try {
        result = await this.#client.request(method, params, ctx);
      } catch (err) {
        throw ctx.failure ?? classifyRpcError(err);
      }
      const errors: FieldError[] = validate(resultContract, result);
      if (errors.length > 0)
        throw new WorkerError(
          'ODOO_BAD_RESPONSE',
          { reason: `${method} result ${errors[0]?.path || '/'} ${errors[0]?.message}` },
          { errors: errors.slice(0, 20) },
        );
      this.lastOkAt = this.#now().toISOString();
      this.lastError = null;
      return result as T;
    } catch (err) {
      this.lastError = (err as Error).message.slice(0, 1024);
      throw err;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  async #send(payload: unknown, ctx: CallContext): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    try {
      const res = await this.#fetchFn(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        signal: ctx.signal,
      });
      const text = await res.text();
      if (res.status === 401 || res.status === 403)
        throw new WorkerError('ODOO_UNAUTHORIZED', { status: res.status });
      if (res.status >= 500)
        throw new WorkerError('ODOO_HTTP_ERROR', { status: res.status }, undefined, {
          retryable: true,
        });
      if (res.status !== 200)
        throw new WorkerError('ODOO_HTTP_ERROR', { status: res.status }, undefined, {
          retryable: false,
        });
      this.#client.receive(parseResponse(text, (payload as { id?: unknown }).id));
    } catch (err) {
      ctx.failure = classifySendError(err, ctx);
      throw ctx.failure;
    }
  }
}

/**
 * `https://odoo.example.com` -> `https://odoo.example.com/workshop_iot/rpc`. There is no database
 * parameter: Odoo 18 picks the database from its `dbfilter` (or the only one), never from the request,
 * so a multi-database server needs a dbfilter that selects the workshop database for this host name.
 */
export function odooEndpoint(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith(ODOO_RPC_PATH) ? base : base + ODOO_RPC_PATH;
}

function parseResponse(text: string, id: unknown): JSONRPCResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WorkerError('ODOO_BAD_RESPONSE', { reason: 'body is not JSON' });
  }
  const response = body as JSONRPCResponse;
  if (typeof body !== 'object' || body === null || response.jsonrpc !== '2.0')
    throw new WorkerError('ODOO_BAD_RESPONSE', { reason: 'not a JSON-RPC 2.0 response' });
  if (response.id !== id) {
    // Odoo answers id null for errors it could not attribute (parse errors): report the error itself.
    if (response.error) throw classifyRpcError(response.error);
    throw new WorkerError('ODOO_BAD_RESPONSE', { reason: 'response id does not match' });
  }
  return response;
}

function classifySendError(err: unknown, ctx: CallContext): WorkerError {
  if (err instanceof WorkerError) return err;
  if (ctx.signal.aborted) return new WorkerError('ODOO_TIMEOUT', { timeout_ms: ctx.timeoutMs });
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message ?? 'unknown';
  return new WorkerError('ODOO_UNREACHABLE', { reason });
}

/** JSON-RPC internal (-32603) and implementation-defined server errors (-32000..-32099) are retryable. */
function classifyRpcError(err: unknown): WorkerError {
  const e = err as Partial<JSONRPCErrorException>;
  const code = typeof e.code === 'number' ? e.code : 0;
  const retryable = code === -32603 || (code <= -32000 && code >= -32099);
  return new WorkerError(
    'ODOO_RPC_ERROR',
    { rpc_code: code, reason: String(e.message ?? 'unknown').slice(0, 300) },
    undefined,
    { retryable },
  );
}
