/**
 * The worker's HTTP server (Node's http): `POST /rpc` (JSON-RPC control API), `GET /health`,
 * `GET /metrics`, plus routes other modules register (`GET /`, `GET /events` SSE for the dashboard).
 *
 * Order of checks for /rpc: route -> method -> token (401 before a single body byte is read, the
 * failure logged rate-limited) -> Content-Length against the token's body limit (413 at once) ->
 * streamed body with a running byte count (413 and stop reading past the limit) -> JSON parse
 * (-32700) -> whole-body refusals: batch size (BATCH_TOO_LARGE) and every method within the token's
 * scope (FORBIDDEN 403) -> dispatch.
 *
 * The read-only token may only call read methods, whose requests are tiny: its body limit is
 * READ_SCOPE_MAX_BODY_BYTES, not max_body_bytes, so it can never make the worker parse megabytes.
 * Every HTTP status is the catalogue's `httpStatus` of the error (errors.ts); a successful call is 200.
 * No error ever carries a stack trace.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Scope, TokenAuth } from './auth.ts';
import { FailedLoginLog } from './login-log.ts';
import { errorResponse, type RpcDispatcher } from './rpc.ts';

/** Body limit for the read-only token: a batch of 100 `health.get` is ~6 KB. */
export const READ_SCOPE_MAX_BODY_BYTES = 16 * 1024;

export interface RouteContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Scope of the presented token, null when none or wrong. */
  scope: Scope | null;
  url: URL;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** 'none': open; otherwise the least scope needed (401 without it). */
  auth: 'none' | Scope;
  handler: (ctx: RouteContext) => void | Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  auth: TokenAuth;
  rpc: RpcDispatcher;
  log: Logger;
}

export class HttpServer {
  readonly #server: http.Server;
  readonly #routes = new Map<string, Route>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  readonly #failedLogins: FailedLoginLog;

  readonly #options: HttpServerOptions;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#failedLogins = new FailedLoginLog({ log: options.log });
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.requestTimeout = 30_000;
    this.#server.headersTimeout = 10_000;
    this.addRoute({
      method: 'POST',
      path: '/rpc',
      auth: 'read',
      handler: (ctx) => this.#handleRpc(ctx),
    });
  }

  /** Registers an extra route (exact path). Later registrations of the same method+path win. */
  addRoute(route: Route): void {
    this.#routes.set(`${route.method} ${route.path}`, route);
  }

  async start(): Promise<AddressInfo> {
    if (this.#state !== 'new') throw new Error('HttpServer cannot be restarted');
    this.#state = 'started';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  address(): AddressInfo | null {
    return (this.#server.address() as AddressInfo | null) ?? null;
  }

  /** Stops accepting, ends idle keep-alive sockets and long-lived streams (SSE). */
  async stop(): Promise<void> {
    if (this.#state !== 'started') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopped';
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const force = setTimeout(() => this.#server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(force);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://worker');
    try {
      const route = this.#routes.get(`${req.method} ${url.pathname}`);
      if (!route) {
        const other = [...this.#routes.values()].some((r) => r.path === url.pathname);
        const code = other ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND';
        return this.#fail(
          res,
          new WorkerError(code, { method: req.method ?? '', path: url.pathname }),
        );
      }
      const header = req.headers.authorization;
      const scope = this.#options.auth.check(header);
      // A wrong token is a failed login on any route (an open one answers less); a missing one only
      // where a token is required.
      const failure = header !== undefined && scope === null ? 'invalid' : 'missing';
      if (route.auth !== 'none' && !allowed(scope, route.auth)) {
        this.recordFailedLogin(req, failure);
        res.setHeader('www-authenticate', 'Bearer realm="workshop-iot-worker"');
        return this.#fail(res, new WorkerError('UNAUTHORIZED'));
      }
      if (failure === 'invalid') this.recordFailedLogin(req, failure);
      await route.handler({ req, res, scope, url });
    } catch (err) {
      this.#options.log.error({ err, path: url.pathname }, 'HTTP handler failed');
      if (!res.headersSent) this.#fail(res, new WorkerError('INTERNAL_ERROR'));
      else res.destroy();
    }
  }

  async #handleRpc(ctx: RouteContext): Promise<void> {
    const { req, res } = ctx;
    const type = req.headers['content-type'] ?? 'application/json';
    if (!/^application\/(json|json-rpc)\b/i.test(type))
      return this.#fail(res, new WorkerError('UNSUPPORTED_MEDIA_TYPE'));
    const scope = ctx.scope as Scope;
    const limit =
      scope === 'admin'
        ? this.#options.maxBodyBytes
        : Math.min(this.#options.maxBodyBytes, READ_SCOPE_MAX_BODY_BYTES);
    const body = await readBody(req, limit);
    if (body === null) return this.#fail(res, new WorkerError('BODY_TOO_LARGE', { limit }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return this.#fail(res, new WorkerError('PARSE_ERROR'));
    }
    const answer = await this.#options.rpc.dispatch(parsed, scope);
    if (answer.body === null) {
      res.writeHead(204).end();
      return;
    }
    sendJson(res, answer.status, answer.body);
  }

  /** Logs a refused token (rate-limited per source, never the token); routes with own auth call it. */
  recordFailedLogin(req: http.IncomingMessage, failure: 'invalid' | 'missing'): void {
    const source = req.socket.remoteAddress ?? 'unknown';
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    this.#failedLogins.record(source, failure, { method: req.method ?? '', path });
  }

  #fail(res: http.ServerResponse, err: WorkerError): void {
    if (err.httpStatus === 413 || err.httpStatus === 401) res.setHeader('connection', 'close');
    sendJson(res, err.httpStatus, errorResponse(null, err));
  }
}

const allowed = (scope: Scope | null, needed: Scope) =>
  scope === 'admin' || (scope === 'read' && needed === 'read');

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Reads the body up to `limit` bytes; null when it is larger. Past the limit it stops reading: the
 * request stream is paused and the socket is closed after the 413 goes out (`connection: close`).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
