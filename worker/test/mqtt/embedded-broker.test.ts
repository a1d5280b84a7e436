import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import {
  DEFAULT_EMBEDDED_HOST,
  DEFAULT_EMBEDDED_PORT,
  EmbeddedBroker,
} from '../../src/mqtt/embedded-broker.ts';
import { device } from './helpers/devices.ts';
import { Recorder } from './helpers/wait.ts';
import { isReading, publisher, workerSide } from './helpers/worker.ts';

describe('EmbeddedBroker', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('defaults to 127.0.0.1:1884, away from a system mosquitto on 1883', () => {
    expect(DEFAULT_EMBEDDED_HOST).toBe('127.0.0.1');
    expect(DEFAULT_EMBEDDED_PORT).toBe(1884);
  });

  it('with a login configured, refuses anonymous and wrong logins and accepts the right one', async () => {
    const broker = new EmbeddedBroker({ port: 0, username: 'devices', password: 'pa55-word-long' });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const refused = async (options: Record<string, unknown>) => {
      const err = await publisher(url, options).then(
        async (c) => {
          await c.endAsync(true);
          return null;
        },
        (e: Error) => e,
      );
      return err?.message ?? 'connected';
    };
    expect(await refused({})).toMatch(/Not authorized/i);
    expect(await refused({ username: 'devices', password: 'wrong' })).toMatch(/Not authorized/i);
    expect(await refused({ username: 'other', password: 'pa55-word-long' })).toMatch(
      /Not authorized/i,
    );
    expect(await refused({ username: 'devices', password: 'pa55-word-long' })).toBe('connected');
  });

  it('listens on an OS-chosen port for port 0 and reports it', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const address = await broker.start();
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    expect(address.url).toBe(`mqtt://127.0.0.1:${address.port}`);
    expect(broker.url).toBe(address.url);
  });

  it('carries device traffic to the worker through MqttConnection and Ingest', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const side = workerSide({ url }, [device('saw', 'tasmota', 'tasmota_1')]);
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'subscribed', 'subscription');
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    await meter.publishAsync(
      'tele/tasmota_1/SENSOR',
      JSON.stringify({ ENERGY: { Power: 42, Total: 0.5 } }),
    );
    const got = await side.inputs.waitFor(isReading('saw', 42), 'reading');
    expect(got.input).toEqual({ kind: 'reading', power_w: 42, energy_wh: 500 });
  });

  it('delivers a QoS 0 retained birth message followed at once by live traffic', async () => {
    // Regression: aedes 1.2 dropped the retained packet here (see keepRetainedInOrder).
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const side = workerSide({ url }, [device('saw', 'tasmota', 'tasmota_1')]);
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'subscribed', 'subscription');
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    await meter.publishAsync('tele/tasmota_1/LWT', 'Online', { retain: true, qos: 0 });
    await meter.publishAsync('tele/tasmota_1/STATE', JSON.stringify({ POWER: 'ON' }), { qos: 0 });
    await meter.publishAsync('tele/tasmota_1/SENSOR', JSON.stringify({ ENERGY: { Power: 9 } }));
    await side.inputs.waitFor(isReading('saw', 9), 'reading');
    const birth = await side.inputs.waitFor((d) => d.input.kind === 'availability', 'LWT Online');
    expect(birth).toMatchObject({ input: { online: true }, retained: false });
  });

  it('loses nothing when one client mixes retained, QoS 0 and QoS 1 publishes', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const subscriber = await publisher(url);
    cleanup.push(() => subscriber.endAsync());
    const received = new Recorder<string>();
    subscriber.on('message', (topic) => received.push(topic));
    await subscriber.subscribeAsync('mix/#', { qos: 0 });
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      sends.push(meter.publishAsync(`mix/retained0/${i}`, 'x', { qos: 0, retain: true }));
      sends.push(meter.publishAsync(`mix/live0/${i}`, 'x', { qos: 0 }));
      sends.push(meter.publishAsync(`mix/live1/${i}`, 'x', { qos: 1 }));
      sends.push(meter.publishAsync(`mix/retained1/${i}`, 'x', { qos: 1, retain: true }));
    }
    await Promise.all(sends);
    // A final QoS 1 round-trip marker: everything published before it has been routed.
    await meter.publishAsync('mix/zz-marker', 'end', { qos: 1 });
    await received.waitFor((t) => t === 'mix/zz-marker', 'marker');
    expect(new Set(received.items).size).toBe(801);
  });

  it('fails to start on a port in use and releases everything', async () => {
    const first = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => first.stop());
    const { port } = await first.start();
    const second = new EmbeddedBroker({ port });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    await second.stop();
  });

  it('cannot be started twice, and stop is idempotent', async () => {
    const broker = new EmbeddedBroker({ port: await freePort() });
    await broker.start();
    await expect(broker.start()).rejects.toThrow(/cannot be started twice/);
    await broker.stop();
    await broker.stop();
    await expect(broker.start()).rejects.toThrow();
    expect(() => new EmbeddedBroker().url).toThrow(/not started/);
  });
});
