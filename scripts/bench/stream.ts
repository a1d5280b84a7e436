/**
 * The benches' devices and their traffic: Shelly Plus 1PM (Gen2) meters from the simulator library,
 * so payloads are the real status / NotifyStatus JSON. Each device cycles working -> standby -> off
 * (shifted per device), so with zero debounce every cycle opens and closes a session: the stream
 * exercises session start/stop and energy, not just readings. A meter reports on a >5 % change, so
 * nearly every tick is a status + a NotifyStatus (two readings). Deterministic (seeded).
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import { ShellyGen2Device, type SimMessage } from '../sim/devices.ts';
import { seededRandom } from '../sim/random.ts';

/** Simulated seconds per round (one tick of every device). */
const ROUND_S = 10;
/**
 * Rounds per cycle: 0-24 working, 25-31 standby, 32-39 off. About two sessions per device in a
 * 200,000-message run, each with ~50 readings: more events per message than a real workshop.
 */
const CYCLE = 40;

/**
 * Messages per meter when the memory benches feed every meter (worker-rss-probe.ts into Ingest,
 * worker-rss-shipped.ts through the broker): about three ticks of a Gen2 meter.
 */
export const FEED_MESSAGES_PER_DEVICE = 10;

export const benchTopic = (i: number) => `bench/shellyplus1pm-${i.toString(16).padStart(6, '0')}`;

export function benchDevices(count: number): DeviceConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    device_id: `bench-${i}`,
    name: `Bench machine ${i}`,
    parser_type: 'shelly_gen2' as const,
    topic: benchTopic(i),
    session_config: {
      standby_threshold_w: 10,
      working_threshold_w: 100,
      // Zero debounce: every cycle is a session (the most events per message, the worst case).
      start_debounce_s: 0,
      stop_debounce_s: 0,
      message_timeout_s: 360,
      heartbeat_interval_s: 60,
    },
  }));
}

/**
 * The first `count` messages of `devices` meters ticking round-robin. Retain flags are dropped:
 * a bench runs several subscribers one after another on the same broker, and a retained `online`
 * would be replayed to each of them and spoil the message count.
 */
export function* benchMessages(devices: number, count: number): Generator<SimMessage> {
  const random = seededRandom(42);
  const meters = Array.from(
    { length: devices },
    (_, i) => new ShellyGen2Device(`bench-${i}`, benchTopic(i), 'switch:0'),
  );
  let sent = 0;
  for (let round = 0; ; round++) {
    for (let i = 0; i < devices; i++) {
      const phase = (round + i) % CYCLE;
      const power =
        phase < 25 ? 600 + random() * 1400 : phase < 32 ? 15 + random() * 30 : random() * 3;
      for (const msg of meters[i]!.tick(round * ROUND_S, Math.round(power * 10) / 10, true)) {
        yield { topic: msg.topic, payload: msg.payload };
        if (++sent === count) return;
      }
    }
  }
}
