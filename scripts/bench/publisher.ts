/**
 * The benches' publisher, run as its own process so it never shares a CPU turn with the subscriber
 * being measured: `node --import tsx scripts/bench/publisher.ts <mqtt-url> <devices> <messages>`.
 *
 * All MQTT packets are encoded BEFORE connecting, then written to a raw socket as fast as TCP takes
 * them (QoS 0, MQTT 3.1.1): the publisher must never be the bottleneck, or the "bare subscriber"
 * figure would only measure it. A PINGREQ after the burst returns once the broker has routed every
 * PUBLISH before it (brokers handle one connection's packets in order); then it prints one JSON line.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { benchMessages } from './stream.ts';

const [url = '', devices = '1000', messages = '200000'] = process.argv.slice(2);
/** Packets per socket write: large writes, few syscalls. */
const CHUNK = 1000;

function packet(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  let n = body.length;
  do {
    length.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...length]), body]);
}

function mqttString(s: string): Buffer {
  const bytes = Buffer.from(s);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Resolves with the first `bytes` bytes the broker sends (CONNACK, PINGRESP). */
async function read(socket: Socket, bytes: number): Promise<Buffer> {
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  if (chunk.length < bytes) throw new Error(`short read from the broker: ${chunk.toString('hex')}`);
  return chunk;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  let batch: Buffer[] = [];
  let count = 0;
  for (const msg of benchMessages(Number(devices), Number(messages))) {
    batch.push(packet(0x30, mqttString(msg.topic), Buffer.from(msg.payload)));
    count++;
    if (batch.length === CHUNK) {
      chunks.push(Buffer.concat(batch));
      batch = [];
    }
  }
  if (batch.length > 0) chunks.push(Buffer.concat(batch));

  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  // CONNECT: protocol "MQTT" level 4, flags 0x02 (clean session), keepalive 60 s.
  socket.write(
    packet(
      0x10,
      mqttString('MQTT'),
      Buffer.from([4, 0x02, 0, 60]),
      mqttString(`bench-pub-${process.pid}`),
    ),
  );
  const connack = await read(socket, 4);
  if (connack[0] !== 0x20 || connack[3] !== 0)
    throw new Error(`CONNACK refused: ${connack.toString('hex')}`);
  const started = performance.now();
  for (const chunk of chunks) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.write(Buffer.from([0xc0, 0])); // PINGREQ
  await read(socket, 2);
  const seconds = (performance.now() - started) / 1000;
  socket.end(Buffer.from([0xe0, 0])); // DISCONNECT
  console.log(
    JSON.stringify({ sent: count, seconds, bytes: chunks.reduce((n, c) => n + c.length, 0) }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
