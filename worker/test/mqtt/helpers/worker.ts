/**
 * The worker's MQTT side as the integration tests drive it: `Ingest` + `MqttConnection`, with every
 * delivered input and connection event recorded for event-driven assertions.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { afterEach } from 'vitest';
import type { DeviceInput } from '../../../src/devices/types.ts';
import {
  type ConnectionEvent,
  MqttConnection,
  type MqttConnectionOptions,
  type ResolvedBrokerConfig,
} from '../../../src/mqtt/client.ts';
import { Ingest } from '../../../src/mqtt/ingest.ts';
import { Recorder } from './wait.ts';

export interface Delivered {
  deviceId: string;
  input: DeviceInput;
  retained: boolean;
}

export interface WorkerSide {
  ingest: Ingest;
  connection: MqttConnection;
  inputs: Recorder<Delivered>;
  events: Recorder<ConnectionEvent>;
  /** Replace the device list the way main.ts does: ingest index + connection subscriptions. */
  setDevices(devices: DeviceConfig[]): void;
}

/** Fast backoff so reconnect tests take well under a second per retry. */
export const FAST_RECONNECT = { reconnect_min_ms: 100, reconnect_max_ms: 400 } as const;

export function workerSide(
  broker: ResolvedBrokerConfig,
  devices: DeviceConfig[],
  log?: Logger,
  extra: Partial<MqttConnectionOptions> = {},
): WorkerSide {
  const inputs = new Recorder<Delivered>();
  const events = new Recorder<ConnectionEvent>();
  const ingest = new Ingest({
    onInput: (deviceId, input, meta) => inputs.push({ deviceId, input, retained: meta.retained }),
    ...(log ? { log } : {}),
  });
  const connection = new MqttConnection({
    broker,
    onMessage: (topic, payload, retained) => ingest.handle(topic, payload, retained),
    onEvent: events.push,
    random: () => 0.5,
    devicesFor: (filter) => ingest.devicesFor(filter),
    ...(log ? { log } : {}),
    ...extra,
  });
  const setDevices = (list: DeviceConfig[]) => connection.setSubscriptions(ingest.setDevices(list));
  setDevices(devices);
  return { ingest, connection, inputs, events, setDevices };
}

/** A device-side publisher (what a meter would be). */
export function publisher(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
}

/**
 * A simulated meter's answer, published from inside its message handler, where nothing awaits it.
 * The test's cleanup force-ends the meter, which rejects a publish still in flight: that rejection is
 * expected and dropped. Any other failure is rethrown (an unhandled rejection fails the run), and a
 * lost answer fails the test through its own waits.
 */
export function answer(
  client: MqttClient,
  topic: string,
  payload: string,
  options: IClientPublishOptions = {},
): void {
  client.publishAsync(topic, payload, options).catch((err: unknown) => {
    if (!client.disconnecting && !client.disconnected) throw err;
  });
}

export const isReading =
  (deviceId: string, power_w?: number) =>
  (d: Delivered): boolean =>
    d.deviceId === deviceId &&
    d.input.kind === 'reading' &&
    (power_w === undefined || d.input.power_w === power_w);

/**
 * What a describe block opens per test, closed after each test, newest first: meters (`meter`),
 * worker sides (`side`) and anything else pushed on `cleanup` (a broker process, a connection).
 * Call it once at the top of a describe block: it registers the afterEach.
 */
export function perTest() {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  return {
    cleanup,
    async meter(url: string, options: IClientOptions = {}): Promise<MqttClient> {
      const client = await publisher(url, options);
      cleanup.push(() => client.endAsync(true));
      return client;
    },
    side(...args: Parameters<typeof workerSide>): WorkerSide {
      const s = workerSide(...args);
      cleanup.push(() => s.connection.stop());
      return s;
    },
  };
}
