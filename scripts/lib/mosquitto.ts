/**
 * Debian's mosquitto as a child process with a generated config, for the worker's integration tests,
 * the dev stack (`npm run dev`, the end-to-end run) and the benches: the one place that spawns it
 * (issue 19). One listener on `host:port` (default 127.0.0.1 and a free port, kept across
 * `kill()`/`start()`), optionally logins (password file, anonymous access off), an ACL file, TLS,
 * persistence in the instance's directory, and any further config lines (`extra`: queue settings).
 * `start()` resolves once mosquitto says it runs AND accepts a TCP connection (polled, no sleeps);
 * it fails with mosquitto's log when mosquitto exits first or does not come up within 10 s.
 * Missing binaries fail loudly with the package to install.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acceptsConnections, freePort } from './net.ts';
import { waitFor, withTimeout } from './wait.ts';

export { freePort } from './net.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const OPENSSL = '/usr/bin/openssl';
const START_TIMEOUT_MS = 10_000;
/** `stop()` waits this long for a clean exit before it kills. */
const STOP_GRACE_MS = 5_000;

/** Throws a clear message when a binary the tests need (broker, logins, TLS files) is missing. */
export function requireBinaries(): void {
  need(MOSQUITTO, 'mosquitto');
  need(MOSQUITTO_PASSWD, 'mosquitto-clients or mosquitto');
  need(OPENSSL, 'openssl');
}

function need(bin: string, pkg: string): void {
  if (!fs.existsSync(bin))
    throw new Error(`${bin} is missing: install it with 'apt-get install -y ${pkg}'`);
}

export interface TlsFiles {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** PEM contents, as the worker config carries them. */
  pem: { ca: string; clientCert: string; clientKey: string };
}

export interface MosquittoOptions {
  /** Default: a free port, chosen at the first `start()`. */
  port?: number;
  /** The listener's address; default 127.0.0.1. */
  host?: string;
  /** Where config, password file, ACL, log and persistence go; default a private temp dir. */
  dir?: string;
  /** user -> password: a password file, anonymous access off. Without: anonymous access. */
  users?: Record<string, string>;
  /** An ACL file, copied into `dir` with mode 0600 (as deploy/mosquitto/start.sh does). */
  aclFile?: string;
  tls?: TlsFiles;
  requireClientCert?: boolean;
  /** Keep mosquitto's persistence file in `dir` (default: persistence off). */
  persistence?: boolean;
  /** Further config lines (the queue settings of a persistent session, unbounded queues). */
  extra?: readonly string[];
  /**
   * Write mosquitto's log to `<dir>/mosquitto.log` and run it in its own process group (the dev
   * stack: a Ctrl-C in the terminal must not kill the broker before the stack stops in order).
   * Default: the log is kept in memory (`log()`), the process is a plain child.
   */
  logToFile?: boolean;
}

/** One mosquitto instance; `start()` again after `kill()`/`stop()` reuses its port and config. */
export class Mosquitto {
  readonly dir: string;
  readonly host: string;
  port: number;
  /** mosquitto's version, from its "running" line, once started. */
  version = '';
  readonly #ownDir: boolean;
  readonly #options: MosquittoOptions;
  #child: ChildProcess | null = null;
  #stderr = '';

  constructor(options: MosquittoOptions = {}) {
    need(MOSQUITTO, 'mosquitto');
    if (options.users) need(MOSQUITTO_PASSWD, 'mosquitto-clients or mosquitto');
    this.#options = options;
    this.#ownDir = options.dir === undefined;
    this.dir = options.dir ?? fs.mkdtempSync(path.join(tmpdir(), 'workshop-iot-mosquitto-'));
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
  }

  get url(): string {
    return `${this.#options.tls ? 'mqtts' : 'mqtt'}://${this.host}:${this.port}`;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The running process (to watch for an unexpected exit), null when stopped. */
  get child(): ChildProcess | null {
    return this.#child;
  }

  get confFile(): string {
    return path.join(this.dir, 'mosquitto.conf');
  }

  get logFile(): string {
    return path.join(this.dir, 'mosquitto.log');
  }

  /** What mosquitto logged so far (this run). */
  log(): string {
    if (!this.#options.logToFile) return this.#stderr;
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Writes the config, starts mosquitto, resolves when it accepts connections. */
  async start(): Promise<this> {
    if (this.#child) throw new Error('mosquitto already running');
    this.port ||= await freePort();
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.confFile, this.#config(), { mode: 0o600 });
    this.#stderr = '';
    let child: ChildProcess;
    if (this.#options.logToFile) {
      const log = fs.openSync(this.logFile, 'w');
      child = spawn(MOSQUITTO, ['-c', this.confFile], {
        stdio: ['ignore', log, log],
        detached: true,
      });
      fs.closeSync(log);
    } else {
      child = spawn(MOSQUITTO, ['-c', this.confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer) => {
        this.#stderr += chunk.toString();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    }
    this.#child = child;
    let failed: Error | null = null;
    child.once('error', (err) => {
      failed = err;
    });
    try {
      const running = await waitFor(
        () => {
          if (failed) throw failed;
          if (child.exitCode !== null || child.signalCode !== null)
            throw new Error(`mosquitto exited before it was ready:\n${this.log()}`);
          return /mosquitto version (\S+) running/.exec(this.log());
        },
        `mosquitto on port ${this.port}`,
        START_TIMEOUT_MS,
      ).catch((err: Error) => {
        // The check's own error (mosquitto exited, with its log) says more than the timeout.
        throw new Error(`${err.message}\n${this.log()}`);
      });
      this.version = running[1] ?? '';
      await acceptsConnections(this.host, this.port);
    } catch (err) {
      await this.kill();
      throw err;
    }
    return this;
  }

  /** SIGKILL (a crash, not a clean shutdown) and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await withTimeout(exited, 10_000, 'mosquitto to exit');
  }

  /** A clean shutdown: SIGTERM, then SIGKILL when it has not exited within 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#child = null;
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = new Promise<'late'>((resolve) =>
      setTimeout(() => resolve('late'), STOP_GRACE_MS).unref(),
    );
    if ((await Promise.race([exited, timer])) === 'late') await this.kill();
    this.#child = null;
  }

  /** Kills it and removes its directory when it is the private temp one. */
  async dispose(): Promise<void> {
    await this.kill();
    if (this.#ownDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  #config(): string {
    const o = this.#options;
    const lines = [
      `listener ${this.port} ${this.host}`,
      o.persistence ? 'persistence true' : 'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
    ];
    if (o.persistence) lines.push(`persistence_location ${this.dir}/`);
    // As root (CI containers) mosquitto would drop to user "mosquitto", which cannot read the
    // private directory holding the config, password file and keys.
    if (process.getuid?.() === 0) lines.push('user root');
    if (o.users)
      lines.push('allow_anonymous false', `password_file ${this.#passwordFile(o.users)}`);
    else lines.push('allow_anonymous true');
    if (o.aclFile) {
      const acl = path.join(this.dir, 'acl');
      fs.copyFileSync(o.aclFile, acl);
      fs.chmodSync(acl, 0o600);
      lines.push(`acl_file ${acl}`);
    }
    if (o.tls) {
      lines.push(
        `cafile ${o.tls.caCert}`,
        `certfile ${o.tls.serverCert}`,
        `keyfile ${o.tls.serverKey}`,
      );
      lines.push(`require_certificate ${o.requireClientCert ? 'true' : 'false'}`);
    }
    lines.push(...(o.extra ?? []));
    return `${lines.join('\n')}\n`;
  }

  #passwordFile(users: Record<string, string>): string {
    const file = path.join(this.dir, 'passwd');
    fs.rmSync(file, { force: true });
    let first = true;
    for (const [user, password] of Object.entries(users)) {
      const args = first ? ['-b', '-c', file, user, password] : ['-b', file, user, password];
      execFileSync(MOSQUITTO_PASSWD, args, { stdio: 'pipe' });
      first = false;
    }
    fs.chmodSync(file, 0o600);
    return file;
  }
}

/** A throw-away CA plus a server cert for 127.0.0.1/localhost and a client cert, all EC P-256. */
export function makeTlsFiles(dir: string): TlsFiles {
  const file = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const subject = '/CN=workshop-iot test CA';
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    subject,
  );
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  fs.writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'workshop-iot-worker'],
  ] as const) {
    ssl(
      'req',
      ...ec,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
    );
  }
  const read = (name: string) => fs.readFileSync(file(name), 'utf8');
  return {
    caCert: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    pem: { ca: read('ca.crt'), clientCert: read('client.crt'), clientKey: read('client.key') },
  };
}
