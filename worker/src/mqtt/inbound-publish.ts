/**
 * Incoming PUBLISH packets decoded by the worker itself; every other packet is left to mqtt.js.
 *
 * Why: meters send the worker thousands of small PUBLISH packets and little else, and mqtt.js reads
 * each one through mqtt-packet's general parser (a BufferList, a packet object with a dozen fields,
 * a `process.nextTick` per packet, several `debug` calls): in the replay bench that was ~31 % of the
 * worker's main thread, as much as everything the worker does with a reading. A PUBLISH at QoS 0
 * needs no session state and one at QoS 1 only its packet id for the PUBACK, so the worker frames
 * the socket's bytes itself (MQTT 3.1.1, which the worker speaks: `protocolVersion: 4`), hands each
 * such PUBLISH straight to the message handler, and passes every other packet (CONNACK, SUBACK,
 * PINGRESP, a QoS 2 PUBLISH, anything malformed) to mqtt.js unchanged, which does what it always
 * did with it: connection state, subscriptions, keepalive, protocol errors.
 *
 * Order is the socket's: bytes reach mqtt.js in order, and a PUBLISH is decoded here only once
 * mqtt.js emitted 'connect' and while it has nothing left to process (the bytes it was given were
 * handled at once, as a SUBACK or a PINGRESP are). While mqtt.js is still working through earlier packets (several in one read, a
 * QoS 1 PUBLISH waiting for its PUBACK's write), later PUBLISHes go to mqtt.js too, which delivers
 * them through its 'message' event to the same handler. A QoS 1 PUBLISH decoded here is
 * acknowledged after the handler returned, all PUBACKs of one socket read in one write.
 */
import type { Duplex, Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** A PUBLISH the worker decoded: what mqtt.js's 'message' event would have given. */
export type PublishHandler = (topic: string, payload: Buffer, retain: boolean) => void;

/** Where the splitter's output goes (in production: mqtt.js and the socket; in tests: arrays). */
export interface SplitterSink {
  publish: PublishHandler;
  /** Whole packets for mqtt.js, in socket order. */
  forward(bytes: Buffer): void;
  /** PUBLISHes may be decoded here now (mqtt.js emitted 'connect'); until then all goes to it. */
  decoding(): boolean;
  /** mqtt.js still has packets it was given and has not finished with. */
  busy(): boolean;
  /** PUBACK packets to write to the broker (one or more, concatenated). */
  acknowledge(pubacks: Buffer): void;
}

export interface SplitterCounts {
  /** PUBLISH packets decoded here. */
  decoded: number;
  /** Packets handed to mqtt.js (PUBLISHes among them while it was busy). */
  forwarded: number;
}

const PUBLISH = 3;
const PUBACK_HEADER = 0x40;
/** A remaining length has at most 4 bytes (MQTT 3.1.1, 2.2.3): 268,435,455 bytes. */
const MAX_LENGTH_BYTES = 4;

/**
 * Frames a byte stream into MQTT packets. Holds an incomplete packet until its last byte arrives;
 * after a malformed length it stops framing and passes everything on (mqtt.js reports the error
 * and closes the connection, as it did without this).
 */
export class InboundSplitter {
  readonly #sink: SplitterSink;
  /** Bytes of an incomplete packet, and how many the packet has in all (-1: length not read yet). */
  #held: Buffer[] = [];
  #heldBytes = 0;
  #need = -1;
  #passThrough = false;
  readonly counts: SplitterCounts = { decoded: 0, forwarded: 0 };

  constructor(sink: SplitterSink) {
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    if (this.#passThrough) {
      this.#sink.forward(chunk);
      return;
    }
    let buf = chunk;
    if (this.#heldBytes > 0) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#need >= 0 && this.#heldBytes < this.#need) return;
      buf = Buffer.concat(this.#held, this.#heldBytes);
      this.#held = [];
      this.#heldBytes = 0;
      this.#need = -1;
    }
    this.#split(buf);
  }

  #split(buf: Buffer): void {
    const sink = this.#sink;
    const acks: number[] = [];
    /** Start of the packets not decoded here and not forwarded yet. */
    let runStart = 0;
    let runPackets = 0;
    /**
     * The rest of this read goes to mqtt.js as well: it is behind, or not connected yet (then the
     * read reaches it as one write, so it orders the packets exactly as it did without this).
     */
    let toMqttJs = !sink.decoding();
    let off = 0;
    while (off < buf.length) {
      const header = buf[off] as number;
      let length = 0;
      let p = off + 1;
      let lengthRead = false;
      for (let i = 0, shift = 1; i < MAX_LENGTH_BYTES && p < buf.length; i++, shift *= 128) {
        const byte = buf[p++] as number;
        length += (byte & 0x7f) * shift;
        if ((byte & 0x80) === 0) {
          lengthRead = true;
          break;
        }
      }
      if (!lengthRead) {
        if (p - off - 1 >= MAX_LENGTH_BYTES) {
          // Five length bytes: not MQTT. mqtt.js sees the bytes as they came and fails the connection.
          this.#passThrough = true;
          this.#forward(buf.subarray(runStart), runPackets + 1);
          this.#flushAcks(acks);
          return;
        }
        this.#hold(buf.subarray(off), -1);
        break;
      }
      const end = p + length;
      if (end > buf.length) {
        this.#hold(buf.subarray(off), end - off);
        break;
      }
      if (!toMqttJs && header >> 4 === PUBLISH) {
        if (runPackets > 0) {
          this.#forward(buf.subarray(runStart, off), runPackets);
          runPackets = 0;
        }
        runStart = off;
        if (sink.busy()) toMqttJs = true;
        else {
          const ack = this.#publish(buf, header, p, end);
          if (ack !== null) {
            runStart = end;
            if (ack > 0) acks.push(ack);
            off = end;
            continue;
          }
        }
      }
      runPackets++;
      off = end;
    }
    if (runPackets > 0) this.#forward(buf.subarray(runStart, off), runPackets);
    this.#flushAcks(acks);
  }

  /**
   * Decodes the PUBLISH in `buf[start, end)` (after its fixed header) and delivers it. Returns the
   * packet id to acknowledge (0 for QoS 0), or null to leave the packet to mqtt.js: QoS 2 (a
   * session state the worker does not keep) and anything malformed (mqtt.js reports it).
   */
  #publish(buf: Buffer, header: number, start: number, end: number): number | null {
    const qos = (header >> 1) & 3;
    if (qos === 2 || qos === 3) return null;
    if (start + 2 > end) return null;
    const topicEnd = start + 2 + buf.readUInt16BE(start);
    const payloadStart = qos === 0 ? topicEnd : topicEnd + 2;
    if (topicEnd === start + 2 || payloadStart > end) return null;
    const id = qos === 0 ? 0 : buf.readUInt16BE(topicEnd);
    if (qos === 1 && id === 0) return null;
    const topic = buf.toString('utf8', start + 2, topicEnd);
    this.counts.decoded++;
    this.#sink.publish(topic, buf.subarray(payloadStart, end), (header & 1) === 1);
    return id;
  }

  #forward(bytes: Buffer, packets: number): void {
    this.counts.forwarded += packets;
    this.#sink.forward(bytes);
  }

  #hold(tail: Buffer, need: number): void {
    // A copy: the socket's chunk may be large, and only this tail is needed until the next read.
    this.#held = [Buffer.from(tail)];
    this.#heldBytes = tail.length;
    this.#need = need;
  }

  #flushAcks(ids: number[]): void {
    if (ids.length === 0) return;
    const pubacks = Buffer.allocUnsafe(ids.length * 4);
    ids.forEach((id, i) => {
      pubacks[i * 4] = PUBACK_HEADER;
      pubacks[i * 4 + 1] = 2;
      pubacks.writeUInt16BE(id, i * 4 + 2);
    });
    this.#sink.acknowledge(pubacks);
  }
}

/** mqtt.js's socket factory: private in its typings, a plain property at run time. */
type StreamBuilder = (client: MqttClient) => Duplex;

/**
 * Makes `client` (created with `manualConnect: true`, not connected yet) decode incoming PUBLISHes
 * through an `InboundSplitter` and give them to `onPublish`; everything else reaches mqtt.js as
 * before. mqtt.js pipes each connection's stream into its packet parser: the stream it builds is
 * kept (so `client.stream` is still the socket) and only that `pipe` goes through the splitter.
 * Returns the counts of the current connection's splitter (tests and diagnostics).
 */
export function decodePublishesFirst(
  client: MqttClient,
  onPublish: PublishHandler,
): () => SplitterCounts {
  const holder = client as unknown as { streamBuilder: StreamBuilder };
  const build = holder.streamBuilder;
  if (typeof build !== 'function') throw new Error('mqtt.js client has no streamBuilder');
  let counts: SplitterCounts = { decoded: 0, forwarded: 0 };
  holder.streamBuilder = (c) => {
    const stream = build(c);
    // Until mqtt.js emitted 'connect' (after CONNACK it first replays its outgoing store) every
    // packet goes to it: a resumed session's queued PUBLISHes follow the CONNACK at once, and the
    // worker must see them after 'connect', as it always did.
    let connected = false;
    client.once('connect', () => {
      if (client.stream === stream) connected = true;
    });
    stream.pipe = <T extends NodeJS.WritableStream>(destination: T): T => {
      const parser = destination as unknown as Writable;
      const splitter = pipeThroughSplitter(stream, parser, onPublish, () => connected);
      counts = splitter.counts;
      return destination;
    };
    return stream;
  };
  return () => counts;
}

/** What `stream.pipe(mqttJsParser)` did, with the splitter between them (backpressure included). */
function pipeThroughSplitter(
  stream: Duplex,
  parser: Writable,
  onPublish: PublishHandler,
  connected: () => boolean,
): InboundSplitter {
  const splitter = new InboundSplitter({
    publish: onPublish,
    forward: (bytes) => {
      if (!parser.write(bytes)) stream.pause();
    },
    decoding: connected,
    busy: () => parser.writableLength > 0,
    acknowledge: (pubacks) => {
      // A connection being torn down takes no more writes; the broker re-sends what was not acked.
      if (stream.writable) stream.write(pubacks);
    },
  });
  parser.on('drain', () => stream.resume());
  // mqtt:// and mqtts:// only (the config schema): TCP and TLS sockets hand out Buffers.
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  stream.on('end', () => parser.end());
  return splitter;
}
