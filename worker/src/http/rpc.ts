/**
 * A JSON-RPC 2.0 dispatcher for the control API (single and batch requests).
 *
 * Written out instead of json-rpc-2.0's JSONRPCServer because that one answers a batch of one with a
 * bare object (the spec wants an array), maps any thrown error's message onto the wire, and logs to
 * console. Here every error comes from the catalogue (`error.data.code`), unknown failures become
 * INTERNAL_ERROR with the detail only in the log, and notifications (no `id`) get no answer.
 *
 * The HTTP status comes from the catalogue (`httpStatus` of the error): a single request answered
 * with an error carries that error's status (FORBIDDEN 403, INTERNAL_ERROR 500, field errors 200);
 * a batch is 200 with an error per item, except when it is refused as a whole (empty, too large,
 * or naming a method the token may not call).
 */
import { isWorkerError, WorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Scope } from './auth.ts';

type Id = string | number | null;

export interface RpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export type RpcResponse =
  | { jsonrpc: '2.0'; id: Id; result: unknown }
  | { jsonrpc: '2.0'; id: Id; error: RpcError };

export interface RpcMethod {
  /** The least scope allowed to call it. */
  scope: Scope;
  handler: (params: unknown) => unknown | Promise<unknown>;
}

export interface RpcAnswer {
  status: number;
  /** null when nothing must be sent back (only notifications). */
  body: RpcResponse | RpcResponse[] | null;
}

/** Requests per batch: every item is answered in one body, held in memory until the last one. */
export const DEFAULT_MAX_BATCH = 100;

export class RpcDispatcher {
  readonly #methods = new Map<string, RpcMethod>();

  readonly #log: Logger;
  readonly #maxBatch: number;

  constructor(options: { log: Logger; maxBatch?: number }) {
    this.#log = options.log;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  add(name: string, method: RpcMethod): void {
    this.#methods.set(name, method);
  }

  /**
   * Refuses the whole body before anything runs: a batch that is empty or larger than `maxBatch`, or
   * any request naming a method above the token's scope (FORBIDDEN, HTTP 403). Null when it may run.
   */
  refuse(body: unknown, scope: Scope): WorkerError | null {
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length === 0) return new WorkerError('INVALID_REQUEST');
    if (items.length > this.#maxBatch)
      return new WorkerError('BATCH_TOO_LARGE', { count: items.length, limit: this.#maxBatch });
    if (scope === 'admin') return null;
    for (const item of items) {
      const method = methodOf(item);
      if (method !== null && this.#methods.get(method)?.scope === 'admin')
        return new WorkerError('FORBIDDEN', { method: method.slice(0, 64) });
    }
    return null;
  }

  /** `body` is the parsed JSON; call `refuse` first. */
  async dispatch(body: unknown, scope: Scope): Promise<RpcAnswer> {
    const refused = this.refuse(body, scope);
    if (refused) return { status: refused.httpStatus, body: errorResponse(null, refused) };
    if (Array.isArray(body)) {
      // Sequential on purpose: two config.apply in one batch must not interleave.
      const responses: RpcResponse[] = [];
      for (const item of body) {
        const r = await this.#one(item, scope);
        if (r.response) responses.push(r.response);
      }
      return { status: 200, body: responses.length > 0 ? responses : null };
    }
    const r = await this.#one(body, scope);
    return { status: r.status, body: r.response };
  }

  async #one(
    request: unknown,
    scope: Scope,
  ): Promise<{ status: number; response: RpcResponse | null }> {
    if (!isRequest(request)) {
      const err = new WorkerError('INVALID_REQUEST');
      return { status: err.httpStatus, response: errorResponse(idOf(request), err) };
    }
    const id = request.id;
    const notification = !Object.hasOwn(request, 'id');
    let response: RpcResponse;
    let status = 200;
    try {
      const method = this.#methods.get(request.method);
      if (!method)
        throw new WorkerError('METHOD_NOT_FOUND', { method: request.method.slice(0, 64) });
      if (method.scope === 'admin' && scope !== 'admin')
        throw new WorkerError('FORBIDDEN', { method: request.method });
      const result = await method.handler(request.params);
      response = { jsonrpc: '2.0', id: id ?? null, result };
    } catch (err) {
      if (!isWorkerError(err))
        this.#log.error({ err, method: request.method }, 'RPC method failed');
      const known = isWorkerError(err) ? err : new WorkerError('INTERNAL_ERROR');
      status = known.httpStatus;
      response = errorResponse(id ?? null, known);
    }
    return notification ? { status: 204, response: null } : { status, response };
  }
}

function methodOf(item: unknown): string | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const method = (item as Record<string, unknown>).method;
  return typeof method === 'string' ? method : null;
}

export function errorResponse(id: Id, err: WorkerError): RpcResponse {
  return { jsonrpc: '2.0', id, error: err.toRpcError() };
}

interface Request {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
  id?: Id;
}

function isRequest(v: unknown): v is Request {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string') return false;
  if (Object.hasOwn(r, 'id') && !isId(r.id)) return false;
  if (Object.hasOwn(r, 'params') && (typeof r.params !== 'object' || r.params === null))
    return false;
  return true;
}

const isId = (v: unknown): v is Id =>
  v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function idOf(v: unknown): Id {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const id = (v as Record<string, unknown>).id;
    if (isId(id)) return id;
  }
  return null;
}
