/**
 * A JSON-RPC 2.0 dispatcher for the control API (single and batch requests).
 *
 * Written out instead of json-rpc-2.0's JSONRPCServer because that one answers a batch of one with a
 * bare object (the spec wants an array), maps any thrown error's message onto the wire, and logs to
 * console. Here every error comes from the catalogue (`error.data.code`), unknown failures become
 * INTERNAL_ERROR with the detail only in the log, and notifications (no `id`) get no answer.
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

export class RpcDispatcher {
  private readonly methods = new Map<string, RpcMethod>();

  constructor(private readonly log: Logger) {}

  add(name: string, method: RpcMethod): void {
    this.methods.set(name, method);
  }

  /** `body` is the parsed JSON. Returns null when nothing must be sent back (only notifications). */
  async dispatch(body: unknown, scope: Scope): Promise<RpcResponse | RpcResponse[] | null> {
    if (Array.isArray(body)) {
      if (body.length === 0) return errorResponse(null, new WorkerError('INVALID_REQUEST'));
      // Sequential on purpose: two config.apply in one batch must not interleave.
      const responses: RpcResponse[] = [];
      for (const item of body) {
        const r = await this.one(item, scope);
        if (r) responses.push(r);
      }
      return responses.length > 0 ? responses : null;
    }
    return this.one(body, scope);
  }

  private async one(request: unknown, scope: Scope): Promise<RpcResponse | null> {
    if (!isRequest(request)) {
      const id = idOf(request);
      return errorResponse(id, new WorkerError('INVALID_REQUEST'));
    }
    const id = request.id;
    const notification = !Object.hasOwn(request, 'id');
    let response: RpcResponse;
    try {
      const method = this.methods.get(request.method);
      if (!method)
        throw new WorkerError('METHOD_NOT_FOUND', { method: request.method.slice(0, 64) });
      if (method.scope === 'admin' && scope !== 'admin')
        throw new WorkerError('FORBIDDEN', { method: request.method });
      const result = await method.handler(request.params);
      response = { jsonrpc: '2.0', id: id ?? null, result };
    } catch (err) {
      if (!isWorkerError(err)) this.log.error({ err, method: request.method }, 'RPC method failed');
      response = errorResponse(
        id ?? null,
        isWorkerError(err) ? err : new WorkerError('INTERNAL_ERROR'),
      );
    }
    return notification ? null : response;
  }
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
