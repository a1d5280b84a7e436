/**
 * The embedded MQTT broker (aedes, in-process) used when no broker URL is configured, so `npm start`
 * works on a machine with nothing installed. Devices then publish to this worker's host.
 *
 * Defaults: host 127.0.0.1 (nothing outside the machine can reach it unless configured), port 1884 so
 * it never collides with a system mosquitto on 1883. Port 0 = the OS picks one; `url` reports it.
 *
 * Security: without `username`/`password` it accepts every client, so it is meant for localhost
 * only; the settings loader refuses a non-loopback host without them (config/load.ts). With them,
 * every client (devices and the worker itself) must present both, compared in constant time.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateHandler } from 'aedes';
import type { Logger } from 'pino';
import { safeEqual } from '../http/auth.ts';

export const DEFAULT_EMBEDDED_HOST = '127.0.0.1';
export const DEFAULT_EMBEDDED_PORT = 1884;

export interface EmbeddedBrokerOptions {
  host?: string;
  port?: number;
  /** Both or neither (the settings loader checks it); null = no login. */
  username?: string | null;
  password?: string | null;
  log?: Logger;
}

export interface EmbeddedBrokerAddress {
  host: string;
  port: number;
  url: string;
}

export class EmbeddedBroker {
  readonly #host: string;
  readonly #port: number;
  readonly #log: Logger | undefined;
  readonly #login: { username: string; password: string } | null;
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  #address: EmbeddedBrokerAddress | null = null;

  constructor(options: EmbeddedBrokerOptions = {}) {
    this.#host = options.host ?? DEFAULT_EMBEDDED_HOST;
    this.#port = options.port ?? DEFAULT_EMBEDDED_PORT;
    this.#log = options.log?.child({ module: 'mqtt.embedded-broker' });
    const { username, password } = options;
    this.#login = username && password ? { username, password } : null;
  }

  /** Listen; resolves with the actual address. Rejects (e.g. EADDRINUSE) without leaving anything open. */
  async start(): Promise<EmbeddedBrokerAddress> {
    if (this.#state !== 'new')
      throw new Error('EmbeddedBroker cannot be started twice or restarted');
    this.#state = 'starting';
    const aedes = await Aedes.createBroker(
      this.#login ? { authenticate: this.#authenticate(this.#login) } : {},
    );
    stampAtEmit(aedes);
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      aedes.handle(socket);
    });
    aedes.on('clientError', (client, err) => {
      this.#log?.debug({ client_id: client?.id, err: err.message }, 'Embedded broker client error');
    });
    this.#aedes = aedes;
    this.#server = server;
    server.listen(this.#port, this.#host);
    try {
      await once(server, 'listening');
    } catch (err) {
      await this.stop();
      throw err;
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.#port;
    this.#address = { host: this.#host, port, url: `mqtt://${urlHost(this.#host)}:${port}` };
    this.#state = 'started';
    this.#log?.info(this.#address, `Embedded MQTT broker listening on ${this.#address.url}`);
    return this.#address;
  }

  #authenticate(login: { username: string; password: string }): AuthenticateHandler {
    return (client, username, password, done) => {
      // Both comparisons always run: the answer time does not tell which one was wrong.
      const userOk = safeEqual(username ?? '', login.username);
      const passOk = safeEqual(password?.toString('utf8') ?? '', login.password);
      if (userOk && passOk) return done(null, true);
      this.#log?.warn(
        { client_id: client.id, username: username?.slice(0, 64) ?? null },
        'Embedded broker refused a login',
      );
      done(null, false);
    };
  }

  /** Close every client connection, the listener and aedes. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = null;
    this.#aedes = null;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }

  /** Address once started, else null. */
  get address(): EmbeddedBrokerAddress | null {
    return this.#address;
  }

  get url(): string {
    if (!this.#address) throw new Error('EmbeddedBroker is not started');
    return this.#address.url;
  }
}

/**
 * Work around an aedes 1.2 ordering trap that loses messages. Every packet is stamped with an
 * increasing `brokerCounter` when it ARRIVES, and each subscriber drops a packet whose counter is not
 * above the last one it received (dedupe meant for clustered brokers). But packets are EMITTED out of
 * arrival order whenever a step is asynchronous: a QoS 0 retained publish waits for the retained
 * store, so the next packet of the same socket read (Tasmota's `LWT Online` then `STATE`, Shelly's
 * `online true` then a status) is delivered first and the retained one is then dropped as a
 * "duplicate": live subscribers never see the device's birth message. Re-stamping the counter at
 * emit time makes counters follow emit order; the same packet reaching one client through two
 * overlapping subscriptions still carries one counter, so real duplicates are still suppressed.
 */
function stampAtEmit(aedes: Aedes): void {
  // Neither field is in aedes' public typings (both are stable internals since aedes 0.x).
  const internals = aedes as unknown as AedesInternals;
  const mq = internals.mq;
  const emit = mq.emit.bind(mq);
  mq.emit = (packet, callback) => {
    packet.brokerCounter = ++internals.counter;
    return emit(packet, callback);
  };
}

interface AedesInternals {
  counter: number;
  mq: { emit(packet: { brokerCounter: number }, callback?: (err?: Error) => void): unknown };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
