/**
 * A topic filter the broker refuses fails only its device: Debian's mosquitto 2.0 (a private
 * instance on a free port; it closes the connection on a SUBSCRIBE holding a control character, MQTT 3.1.1 and
 * 5 alike) and aedes refusing a filter with SUBACK 0x80. The schema rejects such topics now, so the
 * bad filter reaches MqttConnection through its public API (Ingest + setSubscriptions), as a config
 * stored before the rule existed or a broker with stricter rules would.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../../scripts/lib/mosquitto.ts';
import type { ConnectionEvent } from '../../src/mqtt/client.ts';
import { captureLog } from '../helpers/log.ts';
import { device } from './helpers/devices.ts';
import { isReading, perTest } from './helpers/worker.ts';

const GENERIC = { field_path: 'power', unit: 'W' } as const;

describe('MqttConnection with a refused subscription', () => {
  const { cleanup, meter, side } = perTest();
  const mosquitto = new Mosquitto();
  beforeAll(() => mosquitto.start());
  afterAll(() => mosquitto.dispose());

  /** Unique topics per test: the broker is shared by the tests of this file. */
  function devices() {
    const base = `wiot-test/${randomBytes(4).toString('hex')}`;
    return {
      base,
      goodA: device('good-a', 'generic_json', `${base}/good-a`, GENERIC),
      goodB: device('good-b', 'generic_json', `${base}/good b with spaces`, GENERIC),
      bad: device('bad', 'generic_json', `${base}/bad\u0001topic`, GENERIC),
    };
  }
  const failedFilters = (events: ConnectionEvent[]) =>
    events.flatMap((e) => (e.type === 'subscription_failed' ? [e.filter] : []));

  it('keeps the good devices flowing when mosquitto closes the connection on one bad filter', async () => {
    const { goodA, goodB, bad } = devices();
    const log = captureLog();
    const w = side(
      { url: mosquitto.url, reconnect_min_ms: 50, reconnect_max_ms: 400 },
      [goodA, bad, goodB],
      log.log,
      { stableAfterMs: 300 },
    );
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'stable', 'a stable connection');

    // Isolating the filter costs two reconnects: the first close blames the whole packet, the
    // second the bad filter alone. Then nothing reconnects any more.
    const status = w.connection.status();
    expect(status).toMatchObject({
      connected: true,
      reconnects: 2,
      subscriptions: 3,
      subscribed: 2,
    });
    expect(failedFilters(w.events.items)).toEqual([bad.topic]);
    expect(status.failed_subscriptions).toEqual([
      expect.objectContaining({
        topic: bad.topic,
        device_ids: ['bad'],
        reason: 'the broker closed the connection on SUBSCRIBE',
        failures: 1,
      }),
    ]);
    const line = log.lines.find((l) => l.topic === bad.topic && l.level === 40);
    expect(line).toMatchObject({ device_ids: ['bad'], failures: 1 });
    expect(String(line?.msg)).toContain('device bad');

    const m = await meter(mosquitto.url);
    for (let i = 1; i <= 20; i++) {
      await m.publishAsync(goodA.topic, JSON.stringify({ power: i }), { qos: 1 });
      await m.publishAsync(goodB.topic, JSON.stringify({ power: 1000 + i }), { qos: 1 });
    }
    await w.inputs.waitFor(isReading('good-a', 20), 'the last reading of good-a');
    await w.inputs.waitFor(isReading('good-b', 1020), 'the last reading of good-b');
    expect(w.inputs.items.filter((d) => d.input.kind === 'reading')).toHaveLength(40);
    expect(w.connection.status()).toMatchObject({ connected: true, reconnects: 2 });
  });

  it('retries a refused filter on its own growing backoff, without resetting the reconnect delay', async () => {
    const { goodA, bad } = devices();
    const w = side(
      { url: mosquitto.url, reconnect_min_ms: 50, reconnect_max_ms: 10_000 },
      [goodA, bad],
      undefined,
      { subscriptionRetry: { min_ms: 100, max_ms: 10_000 }, stableAfterMs: 60_000 },
    );
    w.connection.start();
    const third = (e: ConnectionEvent) =>
      e.type === 'subscription_failed' && failedFilters(w.events.items).length === 3;
    await w.events.waitFor(third, 'the third failure of the bad filter', 15_000);

    const retries = w.events.items.flatMap((e) =>
      e.type === 'subscription_failed' ? [e.retry_in_ms] : [],
    );
    expect(retries[1]).toBeGreaterThan(retries[0] as number);
    expect(retries[2]).toBeGreaterThan(retries[1] as number);
    const delays = w.events.items.flatMap((e) =>
      e.type === 'reconnect_scheduled' ? [e.delay_ms] : [],
    );
    // Every close came from the bad filter: the delay keeps doubling instead of going back to 50 ms.
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays.at(-1)).toBeGreaterThanOrEqual(200);
    expect(w.connection.status().failed_subscriptions).toMatchObject([
      { topic: bad.topic, device_ids: ['bad'], failures: 3 },
    ]);
  });

  it('fails only the filter a SUBACK refuses (0x80), without any reconnect', async () => {
    const url = await aedesDenying((topic) => topic.includes('/denied'));
    const { base, goodA } = devices();
    const denied = device('denied', 'generic_json', `${base}/denied`, GENERIC);
    const w = side(
      { url, reconnect_min_ms: 50, reconnect_max_ms: 400 },
      [goodA, denied],
      undefined,
      {
        stableAfterMs: 100,
      },
    );
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'stable', 'a stable connection');
    expect(w.connection.status()).toMatchObject({
      reconnects: 0,
      subscribed: 1,
      failed_subscriptions: [
        expect.objectContaining({
          topic: denied.topic,
          device_ids: ['denied'],
          reason: 'the broker refused it (SUBACK 0x80)',
        }),
      ],
    });
    const m = await meter(url);
    await m.publishAsync(goodA.topic, JSON.stringify({ power: 5 }), { qos: 1 });
    await w.inputs.waitFor(isReading('good-a', 5), 'good-a reading');
  });

  /** An in-process aedes that answers SUBACK 0x80 for the filters `deny` picks. */
  async function aedesDenying(deny: (topic: string) => boolean): Promise<string> {
    const aedes = await Aedes.createBroker({
      authorizeSubscribe: (_client, sub, done) => done(null, deny(sub.topic) ? null : sub),
    });
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      aedes.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => aedes.close(() => resolve(undefined)));
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    });
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('no port');
    return `mqtt://127.0.0.1:${address.port}`;
  }
});
