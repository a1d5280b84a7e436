/**
 * The benches' broker: a private mosquitto on a free port (so the figures do not depend on what else
 * uses the system broker on 1883), or the worker's embedded aedes in this process when mosquitto is
 * not installed. `kind` says which one ran: the two are not comparable.
 *
 * The spawn code is the shared one (scripts/lib/mosquitto.ts); the settings are the bench's own:
 * mosquitto DROPS QoS 0 messages for a subscriber once 1,000 are queued for it
 * (`max_queued_messages`, which also bounds QoS 0 for online clients). A max-rate burst outruns any subscriber, so with the default the bench would measure
 * losses, not throughput. 0 = unbounded: the burst waits in the broker and each subscriber drains it
 * at its own speed.
 */
import { existsSync } from 'node:fs';
import { EmbeddedBroker } from '../../worker/src/mqtt/embedded-broker.ts';
import { MOSQUITTO, Mosquitto } from '../lib/mosquitto.ts';

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
  const broker = new Mosquitto({ extra: ['max_queued_messages 0', 'max_queued_bytes 0'] });
  await broker.start().catch(async (err) => {
    await broker.dispose();
    throw err;
  });
  return {
    kind: `mosquitto ${broker.version} (private instance, unbounded queues)`,
    url: broker.url,
    stop: async () => {
      await broker.stop();
      await broker.dispose();
    },
  };
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
