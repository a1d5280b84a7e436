import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  freePort,
  Mosquitto,
  makeTlsFiles,
  requireBinaries,
  type TlsFiles,
} from '../../../scripts/lib/mosquitto.ts';
import { device } from './helpers/devices.ts';
import { FAST_RECONNECT, isReading, perTest } from './helpers/worker.ts';

const SAW = device('saw', 'tasmota', 'tasmota_saw');
const DRILL = device('drill', 'shelly_gen1', 'shellyplug-s-drill');
const sensor = (power: number) =>
  JSON.stringify({ Time: '2024-01-01T00:00:00', ENERGY: { Power: power, Total: 1.5 } });

describe('MqttConnection (mosquitto child process)', () => {
  const { cleanup, meter, side } = perTest();
  let tls: TlsFiles;
  let tlsDir: Mosquitto;

  beforeAll(() => {
    requireBinaries();
    tlsDir = new Mosquitto();
    tls = makeTlsFiles(tlsDir.dir);
  });
  afterAll(() => tlsDir.dispose());

  async function mosquitto(options: ConstructorParameters<typeof Mosquitto>[0] = {}) {
    const m = new Mosquitto(options);
    cleanup.push(() => m.dispose());
    return m.start();
  }

  it('receives device messages through the client and ingest', async () => {
    const broker = await mosquitto();
    const w = side({ url: broker.url }, [SAW, DRILL]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    const m = await meter(broker.url);
    await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(640));
    await m.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '55.5');
    await w.inputs.waitFor(isReading('saw', 640), 'tasmota reading');
    await w.inputs.waitFor(isReading('drill', 55.5), 'gen1 reading');
    expect(w.ingest.stats()).toMatchObject({ inputs: 2, parse_errors: 0, unknown_topic: 0 });
    expect(w.connection.inboundCounts().decoded).toBe(2);
  });

  it('passes the retained flag of a replayed last will through', async () => {
    const broker = await mosquitto();
    const m = await meter(broker.url);
    await m.publishAsync('tele/tasmota_saw/LWT', 'Offline', { retain: true, qos: 1 });
    const w = side({ url: broker.url }, [SAW]);
    w.connection.start();
    const replay = await w.inputs.waitFor((d) => d.input.kind === 'availability', 'LWT replay');
    expect(replay).toEqual({
      deviceId: 'saw',
      input: { kind: 'availability', online: false },
      retained: true,
    });
  });

  it('reconnects and re-subscribes after the broker is killed and restarted on the same port', async () => {
    const broker = await mosquitto();
    const w = side({ url: broker.url, ...FAST_RECONNECT }, [SAW]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'first SUBACK');

    const lost = w.events.next((e) => e.type === 'disconnected', 'disconnect');
    await broker.kill();
    await lost;
    expect(w.connection.status().connected).toBe(false);
    const resubscribed = w.events.next((e) => e.type === 'subscribed', 're-subscribe');
    await broker.start();
    await resubscribed;

    const m = await meter(broker.url);
    await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(77));
    await w.inputs.waitFor(isReading('saw', 77), 'reading after restart');
    expect(w.connection.status()).toMatchObject({ connected: true, subscribed: 5 });
    expect(w.connection.status().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('comes up when the broker appears after a start with the broker down', async () => {
    const port = await freePort();
    const broker = new Mosquitto({ port });
    cleanup.push(() => broker.dispose());
    const w = side({ url: `mqtt://127.0.0.1:${port}`, ...FAST_RECONNECT }, [SAW]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'reconnect_scheduled' && e.attempt >= 2, 'retries');
    expect(w.connection.status()).toMatchObject({ connected: false });
    expect(w.connection.status().last_error).toMatch(/ECONNREFUSED/);
    await broker.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK after late broker');
    const m = await meter(broker.url);
    await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(5));
    await w.inputs.waitFor(isReading('saw', 5), 'reading');
  });

  it('subscribes and unsubscribes dynamically when the device list changes', async () => {
    const broker = await mosquitto();
    const w = side({ url: broker.url }, [SAW]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    const m = await meter(broker.url);

    const added = w.events.next((e) => e.type === 'subscribed', 'SUBACK for drill');
    w.setDevices([SAW, DRILL]);
    expect(await added).toMatchObject({
      filters: expect.arrayContaining(['shellies/shellyplug-s-drill/relay/0/power']),
    });
    await m.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '12');
    await w.inputs.waitFor(isReading('drill', 12), 'drill reading');

    const removed = w.events.next((e) => e.type === 'unsubscribed', 'UNSUBACK for saw');
    w.setDevices([DRILL]);
    expect(await removed).toMatchObject({
      filters: expect.arrayContaining(['tele/tasmota_saw/SENSOR']),
    });
    // Shelly Gen1 channel 0: relay/0 (3), emeter/0..2 power+total (6), online, info, status.
    expect(w.connection.status()).toMatchObject({ subscriptions: 12, subscribed: 12 });
    // Same publisher, same subscriber: mosquitto keeps order, so once the drill's second reading
    // is here, a saw message published before it would have arrived too.
    await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(999), { qos: 1 });
    await m.publishAsync('shellies/shellyplug-s-drill/relay/0/power', '13', { qos: 1 });
    await w.inputs.waitFor(isReading('drill', 13), 'second drill reading');
    expect(w.inputs.items.some(isReading('saw', 999))).toBe(false);
  });

  it('switches to a new broker via setBroker while messages flow', async () => {
    const a = await mosquitto();
    const b = await mosquitto();
    const w = side({ url: a.url }, [SAW]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK on A');
    const ma = await meter(a.url);
    const mb = await meter(b.url);
    await ma.publishAsync('tele/tasmota_saw/SENSOR', sensor(1));
    await w.inputs.waitFor(isReading('saw', 1), 'reading via A');

    const onB = w.events.next((e) => e.type === 'subscribed', 'SUBACK on B');
    w.connection.setBroker({ url: b.url });
    await onB;
    expect(w.connection.status()).toMatchObject({ connected: true, url: b.url, reconnects: 0 });
    await ma.publishAsync('tele/tasmota_saw/SENSOR', sensor(2));
    await mb.publishAsync('tele/tasmota_saw/SENSOR', sensor(3));
    await w.inputs.waitFor(isReading('saw', 3), 'reading via B');
    expect(w.inputs.items.some(isReading('saw', 2))).toBe(false);
  });

  it('keeps the connection when only the backoff bounds change', async () => {
    const broker = await mosquitto();
    const w = side({ url: broker.url }, [SAW]);
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
    w.connection.setBroker({ url: broker.url, reconnect_min_ms: 200, reconnect_max_ms: 800 });
    expect(w.events.items.filter((e) => e.type === 'disconnected')).toHaveLength(0);
    expect(w.connection.status().connected).toBe(true);
  });

  describe('username/password (password_file)', () => {
    it('connects with the right credentials', async () => {
      const broker = await mosquitto({ users: { worker: 'c0rrect-horse', meter: 'm3ter' } });
      const w = side({ url: broker.url, username: 'worker', password: 'c0rrect-horse' }, [SAW]);
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK');
      const m = await meter(broker.url, { username: 'meter', password: 'm3ter' });
      await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(10));
      await w.inputs.waitFor(isReading('saw', 10), 'reading');
    });

    it('reports a refused login, keeps retrying, and recovers after a credentials change', async () => {
      const broker = await mosquitto({ users: { worker: 'c0rrect-horse' } });
      const w = side(
        { url: broker.url, username: 'worker', password: 'wrong', ...FAST_RECONNECT },
        [SAW],
      );
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'reconnect_scheduled' && e.attempt >= 2, 'retries');
      const status = w.connection.status();
      expect(status.connected).toBe(false);
      expect(status.last_error).toMatch(/Not authorized|Bad username or password/i);
      expect(JSON.stringify(status)).not.toContain('wrong');
      w.connection.setBroker({ url: broker.url, username: 'worker', password: 'c0rrect-horse' });
      await w.events.waitFor((e) => e.type === 'connected', 'connect with fixed credentials');
    });
  });

  it('sends SUBSCRIBEs at once (TCP_NODELAY), then packs small writes again, over TCP and TLS', async () => {
    // With Nagle's algorithm each big SUBSCRIBE waited for mosquitto's delayed ACK (~60 ms a
    // packet: 13 s instead of 6 to subscribe 10,000 meters); without it afterwards, every PUBACK
    // would be a segment of its own.
    const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    cleanup.push(async () => setNoDelay.mockRestore());
    const plain = await mosquitto();
    const secure = await mosquitto({ tls });
    const brokers = [
      { url: plain.url, tls: undefined },
      { url: secure.url, tls: { ca: tls.pem.ca } },
    ];
    for (const broker of brokers) {
      const w = side(broker.tls ? broker : { url: broker.url }, [SAW]);
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'ready', `every SUBACK from ${broker.url}`);
      const port = Number(new URL(broker.url).port);
      const ours = setNoDelay.mock.calls.filter(
        (_, i) => (setNoDelay.mock.contexts[i] as net.Socket).remotePort === port,
      );
      expect(ours, broker.url).toEqual([[true], [false]]);
    }
  });

  describe('TLS (mqtts)', () => {
    it('verifies the broker against the configured CA', async () => {
      const broker = await mosquitto({ tls });
      const w = side({ url: broker.url, tls: { ca: tls.pem.ca } }, [SAW]);
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK over TLS');
      const m = await meter(broker.url, { ca: tls.pem.ca });
      await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(20));
      await w.inputs.waitFor(isReading('saw', 20), 'reading over TLS');
      // Decoded by the worker from the TLS socket's plaintext, not by mqtt.js.
      expect(w.connection.inboundCounts().decoded).toBe(1);
    });

    it('refuses an unknown CA, and connects with the insecure flag', async () => {
      const broker = await mosquitto({ tls });
      const w = side({ url: broker.url, ...FAST_RECONNECT }, [SAW]);
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'reconnect_scheduled', 'certificate failure');
      expect(w.connection.status().last_error).toMatch(/certificate/i);
      // A TLS-only change must reconnect: same URL, new tls settings.
      w.connection.setBroker({ url: broker.url, tls: { insecure: true }, ...FAST_RECONNECT });
      await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK with insecure');
      expect(w.connection.status()).toMatchObject({ connected: true, last_error: null });
    });

    it('authenticates with a client certificate when the broker requires one', async () => {
      const broker = await mosquitto({ tls, requireClientCert: true });
      const w = side(
        {
          url: broker.url,
          tls: { ca: tls.pem.ca, cert: tls.pem.clientCert, key: tls.pem.clientKey },
        },
        [SAW],
      );
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK with client cert');
    });

    it('switches from a plain broker to a TLS broker via setBroker', async () => {
      const plain = await mosquitto();
      const secure = await mosquitto({ tls });
      const w = side({ url: plain.url }, [SAW]);
      w.connection.start();
      await w.events.waitFor((e) => e.type === 'subscribed', 'SUBACK plain');
      const onTls = w.events.next((e) => e.type === 'subscribed', 'SUBACK over TLS');
      w.connection.setBroker({ url: secure.url, tls: { ca: tls.pem.ca } });
      await onTls;
      const m = await meter(secure.url, { ca: tls.pem.ca });
      await m.publishAsync('tele/tasmota_saw/SENSOR', sensor(30));
      await w.inputs.waitFor(isReading('saw', 30), 'reading after switch to TLS');
    });
  });
});
