/**
 * Debian's mosquitto as a child process with a generated config in a private directory: one
 * listener on 127.0.0.1:<port>, authentication on (generated passwords), optionally an ACL file
 * (the Docker stack's deploy/mosquitto/acl: logins `worker` and `devices`), no persistence, and the
 * queue settings of the worker's persistent session.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, run, terminate, waitFor } from './util.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
/** The Docker stack's ACL: `worker` reads everything and writes its polls, `devices` the meters. */
export const STACK_ACL = path.join(REPO_ROOT, 'deploy/mosquitto/acl');

/**
 * Broker settings that let the worker's persistent MQTT session bridge a worker restart: the meters'
 * QoS 0 readings are queued for it while it is away (worker/src/mqtt/README.md "Persistent session").
 */
export const PERSISTENT_SESSION_SETTINGS = [
  'queue_qos0_messages true',
  'max_queued_messages 100000',
  'persistent_client_expiration 2d',
] as const;

export interface MosquittoLogin {
  username: string;
  password: string;
}

export interface MosquittoOptions {
  dir: string;
  port: number;
  logins: MosquittoLogin[];
  /** An ACL file (`acl_file`); copied into `dir` with mode 0600, as deploy/mosquitto/start.sh does. */
  aclFile?: string;
}

export class Mosquitto {
  child: ChildProcess | null = null;
  readonly url: string;
  readonly logFile: string;
  readonly confFile: string;

  constructor(readonly options: MosquittoOptions) {
    for (const bin of [MOSQUITTO, MOSQUITTO_PASSWD])
      if (!fs.existsSync(bin)) throw new Error(`${bin} missing: apt-get install -y mosquitto`);
    this.url = `mqtt://127.0.0.1:${options.port}`;
    this.logFile = path.join(options.dir, 'mosquitto.log');
    this.confFile = path.join(options.dir, 'mosquitto.conf');
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Writes config + password file, starts mosquitto, resolves when it accepts connections. */
  async start(): Promise<void> {
    const { dir, port, logins, aclFile } = this.options;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const passwd = path.join(dir, 'passwd');
    fs.rmSync(passwd, { force: true });
    for (const [i, { username, password }] of logins.entries())
      await run(MOSQUITTO_PASSWD, ['-b', ...(i === 0 ? ['-c'] : []), passwd, username, password]);
    fs.chmodSync(passwd, 0o600);
    const lines = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      'persistence false',
      // The worker's persistent session: meters' QoS 0 readings wait for it while it restarts
      // (same settings as deploy/mosquitto/mosquitto.conf; worker/src/mqtt/README.md).
      ...PERSISTENT_SESSION_SETTINGS,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
    ];
    if (aclFile) {
      const acl = path.join(dir, 'acl');
      fs.copyFileSync(aclFile, acl);
      fs.chmodSync(acl, 0o600);
      lines.push(`acl_file ${acl}`);
    }
    // As root mosquitto would drop to user "mosquitto", which cannot read this private directory.
    if (process.getuid?.() === 0) lines.push('user root');
    fs.writeFileSync(this.confFile, `${lines.join('\n')}\n`, { mode: 0o600 });
    const log = fs.openSync(this.logFile, 'w');
    const child = spawn(MOSQUITTO, ['-c', this.confFile], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    fs.closeSync(log);
    this.child = child;
    await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`mosquitto exited: ${fs.readFileSync(this.logFile, 'utf8')}`);
        return /mosquitto version .* running/.test(fs.readFileSync(this.logFile, 'utf8'));
      },
      `mosquitto on port ${port}`,
      10_000,
      50,
    );
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 5000);
  }
}
