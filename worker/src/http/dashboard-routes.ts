/**
 * The worker's read-only dashboard: `GET /` (the standalone page built by web/build.mjs into
 * web/generated/worker-page), `GET /api/machines` (JSON list of machine dicts) and
 * `GET /api/events` (Server-Sent Events, `event: device_state`). Spec: web/README.md.
 *
 * `handle(req, res)` returns false for paths it does not own; `serverRoutes()` wraps it as the
 * exact-path routes of `HttpServer.addRoute`. Those routes are `auth: 'none'` because the token is
 * checked here (the worker's one `TokenAuth`, read or admin token): EventSource cannot send an
 * Authorization header, so `?token=` is accepted too. Errors are catalogue errors (errors.ts) in
 * the same JSON shape and HTTP status as the rest of the worker's HTTP answers.
 * `stop()` ends every open event stream and clears the heartbeat timer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerError } from '../errors.ts';
import type { TokenAuth } from './auth.ts';
import { errorResponse } from './rpc.ts';
import type { Route } from './server.ts';

/** A machine dict as sent to the browser; the routes only serialise it. */
export type MachineDict = object;

export interface DashboardRoutesOptions {
  /** Every configured machine with its live state (today_* may be 0, name from config). */
  listMachines(): readonly MachineDict[] | Promise<readonly MachineDict[]>;
  /** Live state changes, one machine at a time; returns the unsubscribe function. */
  subscribe(listener: (machine: MachineDict) => void): () => void;
  /** Optional: machines added/removed/renamed (config applied): browsers reload the list. */
  subscribeReload?(listener: () => void): () => void;
  /** Decides on the token from `Authorization: Bearer …` or `?token=` (either token may read). */
  auth: Pick<TokenAuth, 'scopeOf'>;
  /** A `?token=` (or no token) refused: the server's rate-limited failed-login log. */
  onUnauthorized?(req: IncomingMessage, failure: 'missing' | 'invalid'): void;
  /** Folder with index.html and dashboard/; defaults to web/generated/worker-page. */
  staticDir?: string;
  /** SSE comment line interval; proxies drop connections idle for ~60 s. */
  heartbeatMs?: number;
  /** Reconnect delay the browser's EventSource uses after a dropped stream. */
  retryMs?: number;
}

export interface DashboardRoutes {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Number of open event streams (for /metrics). */
  readonly streams: number;
  stop(): void;
}

/** Set by worker/build.mjs: the production bundle sits elsewhere relative to the page's files. */
declare const __WIOT_STATIC_DIR__: string | undefined;

const DEFAULT_STATIC_DIR = fileURLToPath(
  new URL(
    typeof __WIOT_STATIC_DIR__ === 'string'
      ? __WIOT_STATIC_DIR__
      : '../../../web/generated/worker-page/',
    import.meta.url,
  ),
);

/** Stream is dropped (the browser reconnects and reloads) rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': {
    file: 'dashboard/dashboard.js',
    type: 'text/javascript; charset=utf-8',
  },
  '/dashboard/dashboard.css': { file: 'dashboard/dashboard.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  // OWL compiles its templates in the browser with `new Function`, hence 'unsafe-eval'.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  // The page URL may carry ?token= on first load: never leak it to another origin.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return url.searchParams.get('token');
}

function fail(res: ServerResponse, err: WorkerError): void {
  if (err.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  sendJson(res, err.httpStatus, errorResponse(null, err));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(payload);
}

/** The dashboard's paths as `HttpServer` routes: `for (const r of serverRoutes(d)) server.addRoute(r)`. */
export function serverRoutes(routes: DashboardRoutes): Route[] {
  const paths = [...Object.keys(STATIC_FILES), '/api/machines', '/api/events'];
  return paths.map((routePath) => ({
    method: 'GET' as const,
    path: routePath,
    auth: 'none' as const,
    handler: ({ req, res }) => {
      routes.handle(req, res);
    },
  }));
}

// One closure over the shared state (open streams, static cache, heartbeat) rather than a class
// with many small private methods: each inner function stays short, the factory is long.
export function createDashboardRoutes(options: DashboardRoutesOptions): DashboardRoutes {
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const retryMs = options.retryMs ?? 3000;
  const cache = new Map<string, { body: Buffer; etag: string }>();
  const streams = new Set<ServerResponse>();
  const disposers = new Map<ServerResponse, () => void>();
  let stopped = false;

  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': ping\n\n');
  }, heartbeatMs);
  heartbeat.unref();

  function readStatic(file: string): { body: Buffer; etag: string } | null {
    let entry = cache.get(file);
    if (!entry) {
      let body: Buffer;
      try {
        body = readFileSync(path.join(staticDir, file));
      } catch {
        return null; // not built: answered with 404 and a hint below
      }
      entry = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
      cache.set(file, entry);
    }
    return entry;
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    const spec = STATIC_FILES[pathname];
    const entry = spec && readStatic(spec.file);
    if (!spec || !entry) {
      fail(res, new WorkerError('DASHBOARD_NOT_BUILT'));
      return;
    }
    const headers = { 'Content-Type': spec.type, 'Cache-Control': 'no-cache', ETag: entry.etag };
    if (req.headers['if-none-match'] === entry.etag) {
      res.writeHead(304, { ...headers, ...SECURITY_HEADERS });
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': entry.body.length, ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : entry.body);
  }

  async function serveMachines(res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await options.listMachines());
    } catch {
      fail(res, new WorkerError('UNAVAILABLE', { reason: 'the machine list could not be read' }));
    }
  }

  function closeStream(res: ServerResponse): void {
    streams.delete(res);
    disposers.get(res)?.();
    disposers.delete(res);
    if (!res.writableEnded) res.end();
  }

  function serveEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx would otherwise buffer the stream and delay every update.
      'X-Accel-Buffering': 'no',
      ...SECURITY_HEADERS,
    });
    res.write(`retry: ${retryMs}\n\n`);
    const send = (chunk: string) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) closeStream(res);
      else res.write(chunk);
    };
    const offState = options.subscribe((machine) => {
      send(`event: device_state\ndata: ${JSON.stringify(machine)}\n\n`);
    });
    const offReload = options.subscribeReload?.(() => send('event: reload\ndata: {}\n\n'));
    disposers.set(res, () => {
      offState();
      offReload?.();
    });
    streams.add(res);
    req.on('close', () => closeStream(res));
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { pathname } = url;
    const isApi = pathname === '/api/machines' || pathname === '/api/events';
    if (!isApi && !(pathname in STATIC_FILES)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      fail(
        res,
        new WorkerError('METHOD_NOT_ALLOWED', { method: req.method ?? '', path: pathname }),
      );
      return true;
    }
    if (!isApi) {
      serveStatic(req, res, pathname);
      return true;
    }
    if (stopped) {
      fail(res, new WorkerError('UNAVAILABLE', { reason: 'the worker is shutting down' }));
      return true;
    }
    const token = tokenOf(req, url);
    if (options.auth.scopeOf(token) === null) {
      // A wrong Authorization header was logged by the server already (it checks every route's).
      if (!req.headers.authorization)
        options.onUnauthorized?.(req, token === null ? 'missing' : 'invalid');
      fail(res, new WorkerError('UNAUTHORIZED'));
      return true;
    }
    if (pathname === '/api/machines') void serveMachines(res);
    else serveEvents(req, res);
    return true;
  }

  return {
    handle,
    get streams() {
      return streams.size;
    },
    stop() {
      stopped = true;
      clearInterval(heartbeat);
      for (const res of [...streams]) closeStream(res);
    },
  };
}
