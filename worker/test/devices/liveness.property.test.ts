/**
 * Liveness property (issue 13, finding 1): a device that keeps sending messages with gaps shorter
 * than `message_timeout_s` is never polled, never goes offline and never has a session end with
 * reason `timeout`, whatever it reports, for every parser type (pollable or not).
 *
 * The streams are built to hit the old bug: timers run late (as on a busy event loop), and some
 * stretches report with a period that divides `message_timeout_s` plus 0-55 ms of jitter, so a
 * message regularly lands a few ms after a silence deadline armed from an older message, before the
 * timer ran. Seeded (mulberry32), so a failure names its seed and replays exactly.
 */
import {
  ParserType,
  type ParserType as ParserTypeName,
  type SessionConfig,
} from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { createParserRegistry } from '../../src/mqtt/parsers/index.ts';
import { deviceConfig, flatten, prng, runScenario, type Scenario, type Step } from './harness.ts';

const SEEDS = 300;
/** Every parser type of the worker config contract, read from the schema itself. */
const PARSER_TYPES = ParserType.anyOf.map((literal) => literal.const) as ParserTypeName[];
const parsers = createParserRegistry();
const pollable = (type: ParserTypeName) => parsers[type].poll(deviceConfig({}, type)) !== null;

function randomConfig(rnd: () => number): SessionConfig {
  const standby = Math.round(1 + rnd() * 50);
  return {
    standby_threshold_w: standby,
    working_threshold_w: standby + Math.round(1 + rnd() * 400),
    start_debounce_s: Math.floor(rnd() * 20),
    stop_debounce_s: Math.floor(rnd() * 60),
    message_timeout_s: 2 + Math.floor(rnd() * 60),
    heartbeat_interval_s: 10 + Math.floor(rnd() * 110),
  };
}

/** A stream of fresh messages, every gap shorter than the timeout; ends just before it would lapse. */
function reportingStream(seed: number, type: ParserTypeName): Scenario {
  const rnd = prng(seed);
  const config = randomConfig(rnd);
  const timeoutMs = config.message_timeout_s * 1000;
  const levels = [0, 0.5, 0.99, 1, 1.5, 2, 3];
  const steps: Step[] = [];
  let t = Math.floor(rnd() * (timeoutMs - 1));
  let counter = rnd() * 1000;
  const n = 16 + Math.floor(rnd() * 32);
  let period = 0;
  for (let i = 0; i < n; i++) {
    // Stretches of periodic reports (period = timeout / k, plus jitter) and of random gaps.
    if (i % 20 === 0)
      period = rnd() < 0.7 ? Math.floor(timeoutMs / (2 + Math.floor(rnd() * 8))) : 0;
    const gap = period > 0 ? period + Math.floor(rnd() * 56) : Math.floor(rnd() * timeoutMs);
    // The first message comes within the timeout of the device being configured (t = 0).
    if (i > 0) t += Math.min(gap, timeoutMs - 1);
    const r = rnd();
    const band = rnd() < 0.5 ? config.standby_threshold_w : config.working_threshold_w;
    const w = Math.round(band * levels[Math.floor(rnd() * levels.length)]! * 100) / 100;
    counter += (w * rnd() * 30) / 3600;
    if (r < 0.85) steps.push({ t, w, wh: rnd() < 0.2 ? null : Math.round(counter * 1000) / 1000 });
    else if (r < 0.95) steps.push({ t, alive: true });
    else steps.push({ t, online: true });
  }
  return {
    parser_type: type,
    session_config: config,
    poll: pollable(type) ? { answer_after_ms: Math.floor(rnd() * 15_000) } : 'unavailable',
    timer_lag_ms: 1 + Math.floor(rnd() * 60),
    steps,
    end: t + timeoutMs - 1,
  };
}

describe('liveness of a device that keeps reporting', () => {
  it('covers pollable and non-pollable parser types', () => {
    expect(PARSER_TYPES.length).toBeGreaterThanOrEqual(4);
    expect(PARSER_TYPES.some(pollable)).toBe(true);
    expect(PARSER_TYPES.some((type) => !pollable(type))).toBe(true);
  });

  PARSER_TYPES.forEach((type, index) => {
    it(`${type}: gaps shorter than message_timeout_s never give a poll, an offline event or a timeout stop (${SEEDS} seeds)`, () => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        // Each parser type gets streams of its own (the same stream would only test pollability).
        const scenario = reportingStream(seed + index * 10_000, type);
        const run = runScenario(scenario, { fastLane: seed % 2 === 0 });
        const bad = flatten(run.events).filter(
          (e) =>
            e.type === 'device_offline' || (e.type === 'session_stopped' && e.reason === 'timeout'),
        );
        expect({ seed, polls: run.polls, bad }).toEqual({ seed, polls: [], bad: [] });
      }
    });
  });
});
