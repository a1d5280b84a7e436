/**
 * InboundSplitter against mqtt-packet, the encoder and parser mqtt.js uses: every stream is encoded
 * by mqtt-packet, cut into reads every which way, and what the splitter decodes plus what it hands
 * to mqtt.js (parsed here by mqtt-packet, as mqtt.js would) must be the encoded packets, in order.
 */
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../scripts/sim/random.ts';
import { InboundSplitter, type SplitterSink } from '../../src/mqtt/inbound-publish.ts';

const encode = (packets: Packet[]) =>
  Buffer.concat(packets.map((p) => mqttPacket.generate(p, { protocolVersion: 4 })));

const publish = (
  topic: string,
  payload: string | Buffer,
  opts: { qos?: 0 | 1 | 2; messageId?: number; retain?: boolean } = {},
): Packet => ({
  cmd: 'publish',
  topic,
  payload,
  qos: opts.qos ?? 0,
  dup: false,
  retain: opts.retain ?? false,
  ...(opts.qos ? { messageId: opts.messageId ?? 1 } : {}),
});

/** One line per packet, whoever read it: the order the worker's handler and mqtt.js saw. */
function line(p: {
  cmd: string;
  topic?: string;
  payload?: Buffer | string;
  retain?: boolean;
  qos?: number;
}) {
  if (p.cmd !== 'publish') return p.cmd;
  return `publish ${p.topic} qos${p.qos} retain=${p.retain} ${Buffer.from(p.payload ?? '').toString('hex')}`;
}

/**
 * A sink that parses what it forwards with mqtt-packet, as mqtt.js does. By default it handles
 * each packet at once; with `lagging` it works like mqtt.js: of one write it handles the first
 * packet at once and the rest only at the next `tick()` (mqtt.js: one `process.nextTick` per
 * packet, all run before the next socket read), and `lagging()` may keep a write in progress until
 * then (a QoS 1 PUBLISH waits for its PUBACK's write). `busy()` then tells the truth.
 */
class Sink implements SplitterSink {
  readonly seen: string[] = [];
  readonly decodedLines: string[] = [];
  readonly forwards: Buffer[] = [];
  readonly acks: Buffer[] = [];
  readonly errors: string[] = [];
  readonly #parser = mqttPacket.parser({ protocolVersion: 4 });
  readonly #queue: string[] = [];
  #inProgress = false;
  /** Asked before each PUBLISH: what mqtt.js's state is at that moment. */
  busyNow: () => boolean = () => this.#queue.length > 0 || this.#inProgress;
  decodingNow: () => boolean = () => true;

  constructor(readonly lagging: (() => boolean) | null = null) {
    this.#parser.on('packet', (p) => this.#queue.push(line(p as never)));
    this.#parser.on('error', (e) => this.errors.push(e.message));
  }

  /** mqtt.js's queued packets run (between socket reads). */
  tick(): void {
    this.seen.push(...this.#queue.splice(0));
    this.#inProgress = false;
  }

  publish(topic: string, payload: Buffer, retain: boolean): void {
    // The splitter is not told the QoS; the acks say which were QoS 1.
    const l = `publish ${topic} retain=${retain} ${payload.toString('hex')}`;
    this.decodedLines.push(l);
    this.seen.push(l);
  }
  forward(bytes: Buffer): void {
    this.forwards.push(Buffer.from(bytes));
    const idle = !this.busyNow();
    this.#parser.parse(bytes);
    if (this.lagging === null) {
      this.tick();
      return;
    }
    if (idle && this.#queue.length > 0) this.seen.push(this.#queue.shift() as string);
    this.#inProgress = this.#queue.length > 0 || this.lagging();
  }
  busy(): boolean {
    return this.busyNow();
  }
  decoding(): boolean {
    return this.decodingNow();
  }
  acknowledge(pubacks: Buffer): void {
    this.acks.push(Buffer.from(pubacks));
  }
  /** The PUBACK packet ids written, in order (parsed by mqtt-packet). */
  ackedIds(): number[] {
    const ids: number[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      expect(p.cmd).toBe('puback');
      ids.push((p as { messageId: number }).messageId);
    });
    for (const a of this.acks) parser.parse(a);
    return ids;
  }
}

/** `seen` without the QoS (decoded lines do not carry it), to compare across both readers. */
const withoutQos = (lines: string[]) => lines.map((l) => l.replace(/ qos\d/, ''));

function feed(bytes: Buffer, cuts: number[], sink = new Sink()) {
  const splitter = new InboundSplitter(sink);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    sink.tick();
    splitter.push(bytes.subarray(from, cut));
    from = cut;
  }
  sink.tick();
  return { sink, splitter };
}

const MIXED: Packet[] = [
  { cmd: 'suback', messageId: 3, granted: [1, 1] },
  publish('shellies/plug/relay/0/power', '55.5', { retain: true }),
  publish('plug/events/rpc', '{"method":"NotifyStatus"}', { qos: 1, messageId: 7 }),
  { cmd: 'pingresp' },
  publish('tele/saw/SENSOR', '{"ENERGY":{"Power":640}}', { qos: 2, messageId: 8 }),
  publish('tele/saw/LWT', ''),
  // A remaining length of three bytes, and a topic outside ASCII.
  publish('werkstatt/säge/leistung', Buffer.alloc(200_000, 0x61), { qos: 1, messageId: 65535 }),
  { cmd: 'unsuback', messageId: 4, granted: [] },
  publish('a', Buffer.from([0, 1, 2, 255])),
];

describe('InboundSplitter', () => {
  it('decodes QoS 0 and 1 PUBLISHes itself and leaves every other packet to mqtt.js, in order', () => {
    const bytes = encode(MIXED);
    const { sink, splitter } = feed(bytes, []);
    expect(sink.errors).toEqual([]);
    expect(withoutQos(sink.seen)).toEqual(withoutQos(MIXED.map((p) => line(p as never))));
    expect(sink.decodedLines).toHaveLength(5);
    expect(splitter.counts).toEqual({ decoded: 5, forwarded: 4 });
    // QoS 2 (a session state the worker does not keep) stays with mqtt.js.
    expect(sink.seen).toContain(line(MIXED[4] as never));
    expect(sink.ackedIds()).toEqual([7, 65535]);
  });

  it('gives the same packets however the stream is cut into reads', () => {
    const bytes = encode(
      MIXED.filter((p) => p.cmd !== 'publish' || p.topic !== 'werkstatt/säge/leistung'),
    );
    const whole = feed(bytes, []).sink;
    for (let cut = 1; cut < bytes.length; cut++) {
      const { sink } = feed(bytes, [cut]);
      expect(sink.seen, `cut at ${cut}`).toEqual(whole.seen);
      expect(sink.ackedIds()).toEqual([7]);
    }
    const byteByByte = feed(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    ).sink;
    expect(byteByByte.seen).toEqual(whole.seen);
    expect(byteByByte.errors).toEqual([]);
  });

  it('reassembles a large PUBLISH from many reads, decoding it once', () => {
    const payload = Buffer.alloc(1_000_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const bytes = encode([publish('big/one', payload, { qos: 1, messageId: 42 })]);
    const cuts = [];
    for (let at = 65_536; at < bytes.length; at += 65_536) cuts.push(at);
    const { sink, splitter } = feed(bytes, cuts);
    expect(sink.decodedLines).toEqual([`publish big/one retain=false ${payload.toString('hex')}`]);
    expect(splitter.counts).toEqual({ decoded: 1, forwarded: 0 });
    expect(sink.forwards).toEqual([]);
    expect(sink.ackedIds()).toEqual([42]);
  });

  it('acknowledges the QoS 1 PUBLISHes of one read in one write, after delivering them', () => {
    const sink = new Sink();
    const acksWhenDelivered: number[] = [];
    const publishOriginal = sink.publish.bind(sink);
    sink.publish = (topic, payload, retain) => {
      acksWhenDelivered.push(sink.acks.length);
      publishOriginal(topic, payload, retain);
    };
    const ids = [1, 2, 300];
    feed(encode(ids.map((id) => publish(`m/${id}`, 'x', { qos: 1, messageId: id }))), [], sink);
    expect(acksWhenDelivered).toEqual([0, 0, 0]);
    expect(sink.acks).toHaveLength(1);
    expect(sink.acks[0]?.toString('hex')).toBe('40020001400200024002012c');
  });

  it('hands whole reads to mqtt.js until it has connected', () => {
    const sink = new Sink();
    sink.decodingNow = () => false;
    const connack: Packet = { cmd: 'connack', returnCode: 0, sessionPresent: true };
    const bytes = encode([connack, ...MIXED.slice(0, 4)]);
    const cut = bytes.length - 5;
    const { splitter } = feed(bytes, [cut], sink);
    // The first read up to its last whole packet, then the rest: never split where a PUBLISH starts.
    expect(sink.forwards).toHaveLength(2);
    expect(Buffer.concat(sink.forwards)).toEqual(bytes);
    expect(splitter.counts.decoded).toBe(0);
    expect(sink.seen).toEqual(['connack', ...MIXED.slice(0, 4).map((p) => line(p as never))]);
    expect(sink.acks).toEqual([]);
  });

  it('leaves the rest of a read to mqtt.js while mqtt.js is behind, and decodes again after', () => {
    const sink = new Sink(() => false);
    const first = [
      { cmd: 'suback', messageId: 2, granted: [1] } as Packet,
      { cmd: 'pingresp' } as Packet,
      publish('t/1', 'a'),
      publish('t/2', 'b', { qos: 1, messageId: 9 }),
    ];
    const splitter = new InboundSplitter(sink);
    splitter.push(encode(first));
    // mqtt.js got the SUBACK and the PINGRESP in one write and handles the second on the next tick:
    // the PUBLISHes behind them wait their turn with mqtt.js.
    expect(splitter.counts).toEqual({ decoded: 0, forwarded: 4 });
    expect(sink.acks).toEqual([]);
    sink.tick();
    splitter.push(encode([publish('t/3', 'c', { qos: 1, messageId: 10 })]));
    expect(splitter.counts).toEqual({ decoded: 1, forwarded: 4 });
    expect(withoutQos(sink.seen)).toEqual(
      withoutQos([...first, publish('t/3', 'c', { qos: 1 })].map((p) => line(p as never))),
    );
    expect(sink.ackedIds()).toEqual([10]);
  });

  describe('malformed input reaches mqtt.js as it came (mqtt.js reports it and drops the connection)', () => {
    it('a remaining length of five bytes: everything from there on, later reads too', () => {
      const good = encode([publish('t/ok', '1')]);
      const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]);
      const later = encode([publish('t/later', '2')]);
      const { sink, splitter } = feed(Buffer.concat([good, bad, later]), [
        good.length + bad.length,
      ]);
      expect(sink.decodedLines).toEqual([
        `publish t/ok retain=false ${Buffer.from('1').toString('hex')}`,
      ]);
      expect(Buffer.concat(sink.forwards)).toEqual(Buffer.concat([bad, later]));
      expect(sink.errors.length).toBeGreaterThan(0);
      expect(splitter.counts.decoded).toBe(1);
    });

    it.each([
      ['a topic longer than the packet', Buffer.from([0x30, 0x04, 0x00, 0x09, 0x61, 0x62])],
      ['an empty topic', Buffer.from([0x30, 0x03, 0x00, 0x00, 0x78])],
      ['a QoS 1 PUBLISH with packet id 0', Buffer.from([0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00])],
      ['a QoS 3 PUBLISH', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])],
    ])('%s', (_what, bad) => {
      const after = encode([publish('t/after', 'z')]);
      const { sink, splitter } = feed(Buffer.concat([bad, after]), []);
      expect(splitter.counts.decoded).toBe(1);
      expect(sink.forwards[0]).toEqual(bad);
      expect(sink.acks).toEqual([]);
    });
  });

  it('keeps socket order over 300 random streams, reads and mqtt.js states', () => {
    const random = seededRandom(20);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)] as T;
    for (let run = 0; run < 300; run++) {
      const packets: Packet[] = [];
      let id = 1;
      for (let i = 0, n = 1 + Math.floor(random() * 40); i < n; i++) {
        const kind = pick(['p0', 'p0', 'p0', 'p1', 'p1', 'p2', 'suback', 'pingresp', 'puback']);
        const size = pick([0, 3, 120, 127, 128, 300, 16_383, 16_384]);
        const payload = Buffer.alloc(size, run % 256);
        const topic = `dev/${run}/${i}`;
        if (kind === 'p0') packets.push(publish(topic, payload, { retain: random() < 0.2 }));
        else if (kind === 'p1' || kind === 'p2')
          packets.push(publish(topic, payload, { qos: kind === 'p1' ? 1 : 2, messageId: id++ }));
        else if (kind === 'suback') packets.push({ cmd: 'suback', messageId: id++, granted: [1] });
        else if (kind === 'puback') packets.push({ cmd: 'puback', messageId: id++ });
        else packets.push({ cmd: 'pingresp' });
      }
      const bytes = encode(packets);
      const cuts = new Set<number>();
      for (let c = 0, n = Math.floor(random() * 8); c < n; c++)
        cuts.add(1 + Math.floor(random() * (bytes.length - 1)));
      const sink = new Sink(() => random() < 0.2);
      sink.decodingNow = () => random() < 0.9;
      const { splitter } = feed(
        bytes,
        [...cuts].sort((a, b) => a - b),
        sink,
      );
      const context = `run ${run}`;
      expect(sink.errors, context).toEqual([]);
      expect(withoutQos(sink.seen), context).toEqual(
        withoutQos(packets.map((p) => line(p as never))),
      );
      expect(splitter.counts.decoded + splitter.counts.forwarded, context).toBe(packets.length);
      // Every QoS 1 PUBLISH decoded here is acknowledged, in order; mqtt.js acknowledges the others.
      const decodedIds = packets
        .filter(
          (p): p is Packet & { messageId: number } =>
            p.cmd === 'publish' && p.qos === 1 && sink.decodedLines.includes(decodedLine(p)),
        )
        .map((p) => p.messageId);
      expect(sink.ackedIds(), context).toEqual(decodedIds);
    }
  });
});

function decodedLine(p: Packet): string {
  const pub = p as { topic: string; payload: Buffer | string; retain: boolean };
  return `publish ${pub.topic} retain=${pub.retain} ${Buffer.from(pub.payload).toString('hex')}`;
}
