/** MqttConnection against the embedded aedes broker, in-process on OS-chosen ports. */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import { captureLog } from '../helpers/log.ts';
import { buf, device } from './helpers/devices.ts';
import { Recorder } from './helpers/wait.ts';
import { FAST_RECONNECT, isReading, publisher, workerSide } from './helpers/worker.ts';

const LATHE = device('lathe', 'shelly_gen2', 'shellyplus1pm-a1');

describe('MqttConnection (embedded aedes)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function broker(port = 0) {
    const b = new EmbeddedBroker({ port });
    cleanup.push(() => b.stop());
    return b.start();
  }

  it('subscribes the device topics and delivers readings through Ingest', async () => {
    const { url } = await broker();
    const side = workerSide({ url }, [LATHE]);
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    const subscribed = await side.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    expect(subscribed).toMatchObject({ failed: [] });
    expect(side.connection.status()).toMatchObject({
      connected: true,
      // Shelly Gen2 channel 0: status of switch/pm1/em1/em/em1data/emdata, events, online, poll.
      subscriptions: 9,
      subscribed: 9,
    });
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    await meter.publishAsync(
      'shellyplus1pm-a1/status/switch:0',
      JSON.stringify({ apower: 150, aenergy: { total: 10 } }),
    );
    const got = await side.inputs.waitFor(isReading('lathe', 150), 'reading');
    expect(got).toEqual({
      deviceId: 'lathe',
      input: { kind: 'reading', power_w: 150, energy_wh: 10 },
      retained: false,
    });
  });

  it('passes the retained flag through: replay on subscribe is retained, live is not', async () => {
    const { url } = await broker();
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    await meter.publishAsync('shellyplus1pm-a1/online', 'true', { retain: true, qos: 1 });
    const side = workerSide({ url }, [LATHE]);
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    const replay = await side.inputs.waitFor((d) => d.input.kind === 'availability', 'replay');
    expect(replay).toMatchObject({ retained: true, input: { online: true } });
    const live = side.inputs.next((d) => d.input.kind === 'availability', 'live');
    await meter.publishAsync('shellyplus1pm-a1/online', 'false', { retain: true, qos: 1 });
    expect(await live).toMatchObject({ retained: false, input: { online: false } });
  });

  it('publishes a poll when connected and refuses to queue one when not', async () => {
    const { url } = await broker();
    const side = workerSide({ url }, [LATHE]);
    cleanup.push(() => side.connection.stop());
    const poll = side.ingest.pollRequest('lathe')!;
    expect(await side.connection.publish(poll.topic, poll.payload)).toBe(false);
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    const received = new Recorder<{ topic: string; payload: string }>();
    meter.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await meter.subscribeAsync('shellyplus1pm-a1/rpc');
    expect(await side.connection.publish(poll.topic, poll.payload)).toBe(true);
    const got = await received.waitFor(() => true, 'poll at the device');
    expect(JSON.parse(got.payload)).toMatchObject({
      src: 'shellyplus1pm-a1/poll',
      method: 'Shelly.GetStatus',
    });
  });

  it('starts with the broker down, keeps retrying with clamped backoff, connects when it appears', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const side = workerSide({ url, ...FAST_RECONNECT }, [LATHE]);
    cleanup.push(() => side.connection.stop());
    expect(() => side.connection.start()).not.toThrow();
    await side.events.waitFor(
      (e) => e.type === 'reconnect_scheduled' && e.attempt === 4,
      'fourth retry',
    );
    const delays = side.events.items.flatMap((e) =>
      e.type === 'reconnect_scheduled' ? [e.delay_ms] : [],
    );
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 400]);
    const status = side.connection.status();
    expect(status.connected).toBe(false);
    expect(status.reconnects).toBeGreaterThanOrEqual(3);
    expect(status.last_error).toMatch(/ECONNREFUSED/);

    await broker(port);
    await side.events.waitFor((e) => e.type === 'subscribed', 'subscribe once the broker is up');
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    await meter.publishAsync('shellyplus1pm-a1/online', 'true');
    await side.inputs.waitFor((d) => d.deviceId === 'lathe', 'message after late start');
    expect(side.connection.status()).toMatchObject({ connected: true, last_error: null });
  });

  it('releases everything on stop and cannot be restarted', async () => {
    const { url } = await broker();
    const side = workerSide({ url }, [LATHE]);
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    await side.connection.stop();
    expect(side.events.items.at(-1)).toMatchObject({ type: 'disconnected' });
    expect(side.connection.status()).toMatchObject({ connected: false, subscribed: 0 });
    expect(() => side.connection.start()).toThrow(/cannot be restarted/);
    expect(() => side.connection.setBroker({ url })).toThrow(/stopped/);
    await side.connection.stop();
  });

  it('never reports or logs the password', async () => {
    const { port } = await broker();
    const log = captureLog();
    const secret = 's3cr3t-Pa55';
    const down = await freePort();
    const side = workerSide(
      {
        url: `mqtt://worker:${secret}@127.0.0.1:${down}`,
        password: secret,
        username: 'worker',
        ...FAST_RECONNECT,
      },
      [LATHE],
      log.log,
    );
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'reconnect_scheduled', 'first retry');
    side.connection.setBroker({
      url: `mqtt://worker:${secret}@127.0.0.1:${port}`,
      password: secret,
    });
    await side.events.waitFor((e) => e.type === 'connected', 'connect');
    expect(side.connection.status().url).toBe(`mqtt://127.0.0.1:${port}`);
    expect(JSON.stringify(side.connection.status())).not.toContain(secret);
    expect(JSON.stringify(side.events.items)).not.toContain(secret);
    expect(log.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(log.lines)).not.toContain(secret);
  });

  it('survives a device flood of bad payloads without dropping the good ones', async () => {
    const { url } = await broker();
    const side = workerSide({ url }, [LATHE]);
    cleanup.push(() => side.connection.stop());
    side.connection.start();
    await side.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    const meter = await publisher(url);
    cleanup.push(() => meter.endAsync());
    const huge = buf(`{"apower":1,"pad":"${'x'.repeat(70_000)}"}`);
    for (let i = 0; i < 50; i++) {
      await meter.publishAsync('shellyplus1pm-a1/status/pm1:0', i % 2 ? huge : buf('not json'));
    }
    await meter.publishAsync('shellyplus1pm-a1/status/pm1:0', JSON.stringify({ apower: 7 }));
    await side.inputs.waitFor(isReading('lathe', 7), 'good reading after the flood');
    expect(side.ingest.stats().devices.lathe).toMatchObject({ parse_errors: 50, inputs: 1 });
  });
});
