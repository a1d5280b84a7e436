/**
 * The reverse proxy in front of a multi-process Odoo, as Odoo's deployment docs set up nginx:
 * `/websocket` (the bus: live dashboard tiles) goes to the gevent process's port, everything else
 * to the HTTP workers. Without it a browser on the HTTP port gets no live updates when Odoo runs
 * with `--workers N`. Used by the scale test (scripts/e2e/scale.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';

export class OdooProxy {
  #server: http.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(readonly options: { httpPort: number; geventPort: number }) {}

  get url(): string {
    const address = this.#server?.address() as AddressInfo | null;
    if (!address) throw new Error('proxy not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<void> {
    const server = http.createServer((req, res) => this.#forward(req, res));
    // The websocket upgrade is passed through byte for byte (Host and Origin unchanged, as nginx
    // does with `proxy_set_header Host $host`): Odoo checks the origin against the host.
    server.on('upgrade', (req, socket, head) => this.#tunnel(req, socket as net.Socket, head));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
    this.#server = null;
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: this.options.httpPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: Odoo unreachable (${err.message})`);
    });
    req.pipe(upstream);
  }

  #tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const port = req.url?.startsWith('/websocket')
      ? this.options.geventPort
      : this.options.httpPort;
    const upstream = net.connect(port, '127.0.0.1', () => {
      const headers = Object.entries(req.headers)
        .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]))
        .join('\r\n');
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', end);
    socket.on('error', end);
    this.#sockets.add(upstream);
    upstream.on('close', () => this.#sockets.delete(upstream));
  }
}
