/**
 * Golden traces for the noise band (issue 13, finding 2), driven through the real parser and ingest
 * into the device registry on a simulated clock: MQTT payload -> Ingest -> DeviceRegistry -> events.
 *
 * Rule: a reading in [-negative_noise_w, 0) reads as 0 W (default band 1 W); a reading below
 * -negative_noise_w is a parse error (counted, rate-limited log) and feeds NOTHING to the device: no
 * reading, no sign of life. It neither cancels a start debounce nor keeps a silent meter alive.
 */
import type { DeviceConfig, SessionConfig } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { MemoryDeviceStore } from '../../src/devices/registry.ts';
import { Ingest } from '../../src/mqtt/ingest.ts';
import {
  BASE_MS,
  DEFAULT_SESSION_CONFIG,
  DEVICE_ID,
  flatten,
  project,
  TestClock,
  testRegistry,
} from './harness.ts';

const STATUS_TOPIC = `${DEVICE_ID}/status/switch:0`;

/** A Shelly Gen2 `status/switch:0` payload with the given apower. */
const status = (apower: number) =>
  Buffer.from(JSON.stringify({ id: 0, output: true, apower, aenergy: { total: 1000 } }));

function run(
  steps: { t: number; w: number }[],
  end: number,
  opts: { session?: Partial<SessionConfig>; negative_noise_w?: number } = {},
) {
  const clock = new TestClock();
  const store = new MemoryDeviceStore();
  const polls: number[] = [];
  const registry = testRegistry(store, clock, {
    fastLane: true,
    onPoll: () => {
      polls.push(clock.now() - BASE_MS);
      return true; // sent, never answered: the meter is silent
    },
  });
  const device: DeviceConfig = {
    device_id: DEVICE_ID,
    name: 'Noise band saw',
    parser_type: 'shelly_gen2',
    topic: DEVICE_ID,
    ...(opts.negative_noise_w === undefined ? {} : { negative_noise_w: opts.negative_noise_w }),
    session_config: { ...DEFAULT_SESSION_CONFIG, ...opts.session },
  };
  const ingest = new Ingest({
    onInput: (id, input, meta) => registry.input(id, input, meta),
    now: () => clock.now(),
  });
  ingest.setDevices([device]);
  registry.apply([device]);
  for (const step of steps) {
    clock.advanceTo(BASE_MS + step.t);
    ingest.handle(STATUS_TOPIC, status(step.w), false);
  }
  clock.advanceTo(BASE_MS + end);
  return { events: flatten(store.eventsOf(DEVICE_ID)), polls, stats: ingest.stats() };
}

describe('negative power through parser + registry (golden)', () => {
  it('-5 W within a start debounce is a parse error: the start is not cancelled', () => {
    // Start debounce 10 s: 500 W at t=1 s starts a session at t=11 s, started_at 1 s. Before the
    // fix -5 W read as 0 W, cancelled the start and the session began only after the next 500 W.
    const out = run(
      [
        { t: 0, w: 0 },
        { t: 1000, w: 500 },
        { t: 5000, w: -5 },
        { t: 6000, w: 500 },
        { t: 20_000, w: 0 },
      ],
      55_000,
    );
    const expected = [
      { type: 'session_started', t: 11_000, session: 'S1', started_at: 1000, state: 'working' },
      {
        type: 'session_stopped',
        t: 50_000,
        session: 'S1',
        started_at: 1000,
        ended_at: 20_000,
        reason: 'power_off',
      },
    ];
    expect(project(out.events, expected)).toEqual(expected);
    expect(out.stats.devices[DEVICE_ID]).toMatchObject({ parse_errors: 1, inputs: 4 });
    expect(out.stats.devices[DEVICE_ID]?.last_error).toContain('apower is negative (-5 W');
  });

  it('-50 W in a running session changes no state; -0.8 W reads as 0 W (default band 1 W)', () => {
    const out = run(
      [
        { t: 0, w: 500 },
        { t: 15_000, w: -50 }, // ignored: the session keeps working
        { t: 20_000, w: 500 },
        { t: 30_000, w: -0.8 }, // noise: 0 W, the stop debounce starts here
      ],
      65_000,
    );
    const expected = [
      { type: 'session_started', t: 10_000, session: 'S1', started_at: 0, state: 'working' },
      { type: 'session_stopped', t: 60_000, session: 'S1', ended_at: 30_000, reason: 'power_off' },
    ];
    expect(project(out.events, expected)).toEqual(expected);
    expect(out.stats.devices[DEVICE_ID]).toMatchObject({ parse_errors: 1, inputs: 3 });
  });

  it('a wider per-device band reads -4 W as 0 W (stop debounce starts at the -4 W reading)', () => {
    const out = run(
      [
        { t: 0, w: 500 },
        { t: 20_000, w: -4 },
      ],
      55_000,
      { negative_noise_w: 5 },
    );
    const expected = [
      { type: 'session_started', t: 10_000, session: 'S1', started_at: 0, state: 'working' },
      { type: 'session_stopped', t: 50_000, session: 'S1', ended_at: 20_000, reason: 'power_off' },
    ];
    expect(project(out.events, expected)).toEqual(expected);
    expect(out.stats.devices[DEVICE_ID]?.parse_errors).toBe(0);
  });

  it('a rejected reading is not a sign of life: the poll comes message_timeout after the last valid one', () => {
    const out = run(
      [
        { t: 0, w: 0 },
        { t: 2000, w: -50 },
        { t: 4000, w: -50 },
      ],
      5_500,
      { session: { message_timeout_s: 5 } },
    );
    expect(out.polls).toEqual([5000]);
    expect(out.stats.devices[DEVICE_ID]).toMatchObject({ parse_errors: 2, inputs: 1 });
  });
});
