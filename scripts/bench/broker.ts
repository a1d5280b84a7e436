/**
 * The benches' broker: a private mosquitto on a free port (so the figures do not depend on what else
 * uses the system broker on 1883), or the worker's embedded aedes in this process when mosquitto is
 * not installed. `kind` says which one ran: the two are not comparable.
 *
 * Why a config of our own rather than the test helper's: mosquitto DROPS QoS 0 messages for a
 * subscriber once 1,000 are queued for it (`max_queued_messages`, which also bounds QoS 0 for online
 * clients). A max-rate burst outruns any subscriber, so with the default the bench would measure
 * losses, not throughput. 0 = unbounded: the burst waits in the broker and each subscriber drains it
 * at its own speed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBroker } from '../../worker/src/mqtt/embedded-broker.ts';
import { freePort } from '../../worker/test/mqtt/helpers/mosquitto.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';

export interface BenchBroker {
  kind: string;
  url: string;
  stop(): Promise<void>;
}

/** `BENCH_BROKER=aedes` forces the fallback (to check it, or to compare the brokers). */
export async function startBenchBroker(): Promise<BenchBroker> {
  const aedes = process.env.BENCH_BROKER === 'aedes' || !existsSync(MOSQUITTO);
  return aedes ? startAedes() : startMosquitto();
}

async function startMosquitto(): Promise<BenchBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 0',
    'max_queued_bytes 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
  ];
  // As root, mosquitto would switch to user "mosquitto", which cannot read our private temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let version: string;
  try {
    version = await waitForRunning(child);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    kind: `mosquitto ${version} (private instance, unbounded queues)`,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with mosquitto's version once it logs that it runs. */
function waitForRunning(child: ChildProcess): Promise<string> {
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mosquitto did not start:\n${stderr}`)),
      10_000,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const running = /mosquitto version (\S+) running/.exec(stderr);
      if (running) {
        clearTimeout(timer);
        resolve(running[1] ?? '?');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited with ${code}:\n${stderr}`));
    });
  });
}

async function startAedes(): Promise<BenchBroker> {
  const broker = new EmbeddedBroker({ port: 0 });
  const { url } = await broker.start();
  return {
    kind: 'aedes, in-process fallback (shares the CPU of the subscriber: not comparable to mosquitto)',
    url,
    stop: () => broker.stop(),
  };
}
