/**
 * The replay broker: a fake MQTT 3.1.1 broker on a local TCP socket that plays back ONE pre-encoded
 * stream of PUBLISH packets. With it a subscriber is bound only by its own CPU: no broker routes
 * anything and no publisher encodes anything while it is measured, and every subscriber of a run
 * gets exactly the same bytes (the bench stream of stream.ts, encoded once with mqtt-packet, the
 * encoder mqtt.js itself uses).
 *
 * `startReplayBroker()` runs this file as its own process (IPC channel), so the broker's writes never
 * share a CPU turn, or the subscriber's `process.cpuUsage()`, with the subscriber measured. The
 * child encodes the stream first, then listens on a free port of 127.0.0.1 and answers:
 *   CONNECT      CONNACK (accepted, no session present);
 *   SUBSCRIBE    SUBACK granting each filter the QoS it asked for (filters remembered);
 *   UNSUBSCRIBE  UNSUBACK;  PINGREQ  PINGRESP;  DISCONNECT  closes;
 *   PUBACK       (QoS 1) checked against the packet ids in flight.
 * `replay()` writes the stream to the connection that subscribed last, `CHUNK` packets per socket
 * write, waiting for 'drain' whenever the socket's buffer is full (backpressure), and resolves once
 * all is written and, at QoS 1, acknowledged. Before writing it checks that the connection
 * subscribed every topic of the stream (the benches subscribe exact topics).
 *
 * QoS 1: packet ids cycle through 1..65535 and at most `WINDOW` messages are unacknowledged, so an
 * id is never reused while in flight. A real broker bounds this too (mosquitto's
 * `max_inflight_messages`, default 20); the window here is large so that the round trip never
 * limits the subscriber, only its CPU does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { benchMessages } from './stream.ts';

/** Packets per socket write: large writes, few syscalls. */
const CHUNK = 1000;
/** QoS 1: unacknowledged messages at most (< 65,535 packet ids). */
const WINDOW = 20_000;
const MAX_PACKET_ID = 65_535;

export interface ReplayOptions {
  devices: number;
  messages: number;
  qos: 0 | 1;
}

export interface Replayed {
  /** From the first write to the last write done (QoS 1: to the last PUBACK). */
  seconds: number;
  pubacks: number;
  /** PUBACKs for an id not in flight (a duplicate or a wrong id): must be 0. */
  unexpectedPubacks: number;
}

export interface ReplayBroker {
  url: string;
  kind: string;
  packets: number;
  bytes: number;
  replay(): Promise<Replayed>;
  stop(): Promise<void>;
}

type FromChild =
  | { type: 'ready'; port: number; packets: number; bytes: number; encodeSeconds: number }
  | ({ type: 'replayed' } & Replayed)
  | { type: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// Parent side

export async function startReplayBroker(options: ReplayOptions): Promise<ReplayBroker> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      `${options.devices}`,
      `${options.messages}`,
      `${options.qos}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const exited = once(child, 'exit');
  const ready = await nextMessage(child);
  if (ready.type !== 'ready') {
    child.kill();
    throw new Error(`replay broker did not start: ${JSON.stringify(ready)}`);
  }
  return {
    url: `mqtt://127.0.0.1:${ready.port}`,
    kind:
      `replay broker (QoS ${options.qos}, ${ready.packets.toLocaleString('en-US')} PUBLISH packets, ` +
      `${(ready.bytes / 1e6).toFixed(1)} MB pre-encoded in ${ready.encodeSeconds.toFixed(2)} s)`,
    packets: ready.packets,
    bytes: ready.bytes,
    replay: async () => {
      const reply = nextMessage(child);
      child.send({ type: 'replay' });
      const done = await reply;
      if (done.type !== 'replayed') throw new Error(`replay failed: ${JSON.stringify(done)}`);
      return {
        seconds: done.seconds,
        pubacks: done.pubacks,
        unexpectedPubacks: done.unexpectedPubacks,
      };
    },
    stop: async () => {
      if (child.exitCode === null) child.disconnect();
      await exited;
    },
  };
}

function nextMessage(child: ChildProcess): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`replay broker exited with ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as FromChild);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Child side: the broker itself

/** The stream as PUBLISH packets, `CHUNK` per buffer, and the set of its topics. */
function encode(devices: number, messages: number, qos: 0 | 1) {
  const chunks: Buffer[] = [];
  const topics = new Set<string>();
  let batch: Buffer[] = [];
  let packets = 0;
  for (const msg of benchMessages(devices, messages)) {
    topics.add(msg.topic);
    const packet = {
      cmd: 'publish' as const,
      topic: msg.topic,
      payload: Buffer.from(msg.payload),
      qos,
      dup: false,
      retain: false,
      ...(qos === 1 ? { messageId: (packets % MAX_PACKET_ID) + 1 } : {}),
    };
    batch.push(mqttPacket.generate(packet));
    packets++;
    if (batch.length === CHUNK) {
      chunks.push(Buffer.concat(batch));
      batch = [];
    }
  }
  if (batch.length > 0) chunks.push(Buffer.concat(batch));
  return { chunks, topics, packets, bytes: chunks.reduce((n, c) => n + c.length, 0) };
}

/** One client connection: its subscriptions and, during a QoS 1 replay, the ids in flight. */
class Connection {
  readonly granted = new Set<string>();
  readonly inFlight = new Uint8Array(MAX_PACKET_ID + 1);
  pubacks = 0;
  unexpected = 0;
  #waiter: { acks: number; resolve: () => void } | null = null;

  constructor(readonly socket: Socket) {}

  puback(id: number): void {
    if (this.inFlight[id] !== 1) {
      this.unexpected++;
      return;
    }
    this.inFlight[id] = 0;
    this.pubacks++;
    if (this.#waiter && this.pubacks >= this.#waiter.acks) {
      this.#waiter.resolve();
      this.#waiter = null;
    }
  }

  /** Resolves once `acks` PUBACKs arrived (never, when the connection closes first). */
  acked(acks: number): Promise<void> {
    if (this.pubacks >= acks) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = { acks, resolve };
    });
  }
}

async function serve(devices: number, messages: number, qos: 0 | 1): Promise<void> {
  const started = performance.now();
  const stream = encode(devices, messages, qos);
  const encodeSeconds = (performance.now() - started) / 1000;
  let latest: Connection | null = null;

  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const conn = new Connection(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (packet: mqttPacket.Packet) => socket.write(mqttPacket.generate(packet));
    parser.on('packet', (packet) => {
      switch (packet.cmd) {
        case 'connect':
          send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
          break;
        case 'subscribe':
          for (const s of packet.subscriptions) conn.granted.add(s.topic);
          send({
            cmd: 'suback',
            messageId: packet.messageId ?? 0,
            granted: packet.subscriptions.map((s) => s.qos),
          });
          latest = conn;
          break;
        case 'unsubscribe':
          for (const topic of packet.unsubscriptions) conn.granted.delete(topic);
          send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
          break;
        case 'puback':
          conn.puback(packet.messageId ?? 0);
          break;
        case 'publish':
          if (packet.qos === 1) send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
          break;
        case 'pingreq':
          send({ cmd: 'pingresp' });
          break;
        case 'disconnect':
          socket.end();
          break;
        default:
          socket.destroy(new Error(`unexpected ${packet.cmd} packet`));
      }
    });
    parser.on('error', (err) => socket.destroy(err));
    socket.on('data', (data) => parser.parse(data));
    socket.on('error', () => {}); // a subscriber that ends abruptly is not the broker's failure
    socket.on('close', () => {
      if (latest === conn) latest = null;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');

  process.on('message', (message: { type: string }) => {
    if (message.type !== 'replay') return;
    const conn = latest;
    const reply = conn
      ? play(conn, stream, qos)
      : Promise.reject(new Error('no subscribed connection to replay to'));
    reply.then(
      (replayed) => process.send?.({ type: 'replayed', ...replayed }),
      (err: Error) => process.send?.({ type: 'error', message: err.message }),
    );
  });
  process.once('disconnect', () => {
    server.close();
    process.exit(0);
  });
  process.send?.({
    type: 'ready',
    port: address.port,
    packets: stream.packets,
    bytes: stream.bytes,
    encodeSeconds,
  });
}

async function play(
  conn: Connection,
  stream: ReturnType<typeof encode>,
  qos: 0 | 1,
): Promise<Replayed> {
  const missing = [...stream.topics].filter((topic) => !conn.granted.has(topic));
  if (missing.length > 0)
    throw new Error(
      `the subscriber did not subscribe ${missing.length} topics, e.g. '${missing[0]}'`,
    );
  conn.pubacks = 0;
  conn.unexpected = 0;
  const { socket } = conn;
  let onClose = () => {};
  const closed = new Promise<never>((_, reject) => {
    onClose = () =>
      reject(new Error(`the subscriber closed the connection after ${conn.pubacks} PUBACKs`));
    socket.once('close', onClose);
  });
  try {
    return await write(conn, stream, qos, closed);
  } finally {
    socket.off('close', onClose);
  }
}

async function write(
  conn: Connection,
  stream: ReturnType<typeof encode>,
  qos: 0 | 1,
  closed: Promise<never>,
): Promise<Replayed> {
  const { socket } = conn;
  const started = performance.now();
  let sent = 0;
  for (const chunk of stream.chunks) {
    const count = Math.min(CHUNK, stream.packets - sent);
    if (qos === 1) {
      await Promise.race([conn.acked(sent + count - WINDOW), closed]);
      for (let i = sent; i < sent + count; i++) conn.inFlight[(i % MAX_PACKET_ID) + 1] = 1;
    }
    sent += count;
    if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), closed]);
  }
  if (qos === 1) await Promise.race([conn.acked(stream.packets), closed]);
  return {
    seconds: (performance.now() - started) / 1000,
    pubacks: conn.pubacks,
    unexpectedPubacks: conn.unexpected,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const [devices = '1000', messages = '200000', qos = '0'] = process.argv.slice(2);
  serve(Number(devices), Number(messages), qos === '1' ? 1 : 0).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
