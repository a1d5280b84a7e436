/**
 * The device simulator (scripts/sim) publishes traffic the worker's parsers accept, for every
 * scenario, and answers polls like the real firmware. Runs the simulator's library API against the
 * embedded aedes broker; the simulated clock is advanced by hand, so no test depends on real time
 * except the --rate load mode, which waits for a message count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, USAGE } from '../../../scripts/sim/args.ts';
import { SCENARIOS, type ScenarioName } from '../../../scripts/sim/scenarios.ts';
import { Simulator, type SimulatorOptions } from '../../../scripts/sim/simulator.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import type { Delivered } from './helpers/worker.ts';
import { isReading, workerSide } from './helpers/worker.ts';

describe('device simulator', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: Omit<SimulatorOptions, 'brokerUrl'>) {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const sim = new Simulator({ brokerUrl: url, autoTick: false, ...options });
    const w = workerSide({ url }, sim.deviceConfigs());
    cleanup.push(() => w.connection.stop());
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'worker SUBACK');
    cleanup.push(() => sim.stop());
    await sim.start();
    return { sim, w };
  }

  /** Advance the simulated clock, then wait until the worker saw the last message of each device. */
  async function run(sim: Simulator, w: ReturnType<typeof workerSide>, seconds: number) {
    await sim.advance(seconds);
    // A poll round-trip per device flushes everything published before it through the broker.
    for (const d of sim.devices) {
      const poll = w.ingest.pollRequest(d.id)!;
      const answered = w.inputs.next((x) => x.deviceId === d.id, `poll answer of ${d.id}`);
      await w.connection.publish(poll.topic, poll.payload);
      await answered;
    }
  }

  const readings = (items: Delivered[], id: string) =>
    items.flatMap((d) =>
      d.deviceId === id && d.input.kind === 'reading' ? [d.input.power_w] : [],
    );

  it.each(SCENARIOS.filter((s) => s !== 'many-devices'))(
    'scenario %s produces traffic every parser accepts',
    async (scenario: ScenarioName) => {
      const { sim, w } = await setup({ scenario, telePeriodS: 60 });
      const duration = {
        'full-session': 900,
        'standby-only': 600,
        working: 900,
        flapping: 120,
        'offline-gap': 1200,
      }[scenario as Exclude<ScenarioName, 'many-devices'>];
      await run(sim, w, duration);
      const stats = w.ingest.stats();
      expect(stats.parse_errors).toBe(0);
      expect(stats.unknown_topic).toBe(0);
      for (const d of sim.devices) {
        expect(stats.devices[d.id]?.inputs, d.id).toBeGreaterThan(0);
        expect(readings(w.inputs.items, d.id).length, d.id).toBeGreaterThan(0);
      }
      if (scenario === 'full-session') {
        for (const d of sim.devices) {
          const powers = readings(w.inputs.items, d.id);
          expect(Math.max(...powers), d.id).toBeGreaterThan(1000);
          expect(
            powers.some((p) => p > 10 && p < 100),
            `${d.id} standby`,
          ).toBe(true);
        }
      }
      if (scenario === 'offline-gap') {
        for (const d of sim.devices) {
          const availability = w.inputs.items.filter(
            (x) => x.deviceId === d.id && x.input.kind === 'availability',
          );
          expect(
            availability.map((x) => x.input),
            d.id,
          ).toEqual(
            expect.arrayContaining([
              { kind: 'availability', online: false },
              { kind: 'availability', online: true },
            ]),
          );
        }
      }
      if (scenario === 'flapping') {
        const gen2 = sim.devices.find((d) => d.family === 'shelly_gen2')!;
        const powers = new Set(readings(w.inputs.items, gen2.id).map(Math.round));
        expect([...powers].sort((a, b) => a - b)).toEqual([7, 13]);
      }
    },
  );

  it('answers every family poll with a reading carrying energy', async () => {
    const { sim, w } = await setup({ scenario: 'working' });
    await run(sim, w, 120);
    for (const d of sim.devices) {
      const last = w.inputs.items.filter((x) => x.deviceId === d.id).at(-1)!;
      expect(last.input, d.family).toMatchObject({ kind: 'reading', power_w: 2000 });
      expect(last.input.kind === 'reading' && last.input.energy_wh, d.family).toBeGreaterThan(0);
    }
    expect(sim.stats().polls_answered).toBe(3);
  });

  it('simulates many devices over a few connections', async () => {
    const { sim, w } = await setup({ scenario: 'many-devices', devices: 30, connections: 4 });
    await run(sim, w, 300);
    const stats = w.ingest.stats();
    expect(Object.keys(stats.devices)).toHaveLength(30);
    expect(stats.parse_errors).toBe(0);
    for (const d of sim.devices) expect(stats.devices[d.id]?.inputs, d.id).toBeGreaterThan(0);
  });

  it('publishes at the requested rate in load mode', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    cleanup.push(() => broker.stop());
    const { url } = await broker.start();
    const sim = new Simulator({
      brokerUrl: url,
      scenario: 'working',
      devices: 10,
      rate: 500,
      speed: 10,
    });
    const w = workerSide({ url }, sim.deviceConfigs());
    cleanup.push(() => w.connection.stop());
    w.connection.start();
    await w.events.waitFor((e) => e.type === 'subscribed', 'worker SUBACK');
    cleanup.push(() => sim.stop());
    await sim.start();
    await w.inputs.waitFor(() => w.inputs.items.length >= 300, '300 messages', 15_000);
    await sim.stop();
    expect(w.ingest.stats().parse_errors).toBe(0);
  });

  it('parses the command line and prints usage', () => {
    expect(parseCli(['--help'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('--rate <msgs/s>');
    const cli = parseCli(
      [
        '--scenario',
        'many-devices',
        '--devices',
        '20',
        '--speed',
        '60',
        '--rate',
        '100',
        '--broker',
        'mqtt://h:1883',
      ],
      { MQTT_PASSWORD: 'pw' },
    );
    expect(cli).toMatchObject({
      kind: 'run',
      options: {
        scenario: 'many-devices',
        devices: 20,
        speed: 60,
        rate: 100,
        brokerUrl: 'mqtt://h:1883',
        password: 'pw',
      },
    });
    expect(parseCli(['--scenario', 'nope'])).toMatchObject({ kind: 'error' });
    expect(parseCli(['--speed', '0'])).toMatchObject({ kind: 'error' });
    expect(parseCli(['--bogus'])).toMatchObject({ kind: 'error' });
  });

  it('parses --loop, which excludes --duration', () => {
    expect(USAGE).toContain('--loop');
    expect(parseCli(['--loop'])).toMatchObject({ kind: 'run', options: { loop: true } });
    expect(parseCli(['--loop', '--duration', '60'])).toEqual({
      kind: 'error',
      message: '--loop and --duration exclude each other',
    });
  });

  it('ends with a 0 W report from every meter (manual clock, embedded broker)', async () => {
    const { sim, w } = await setup({ scenario: 'working', telePeriodS: 60 });
    await run(sim, w, 120); // mid-job: 2000 W
    for (const d of sim.devices) expect(readings(w.inputs.items, d.id).at(-1)).toBe(2000);
    const zeros = sim.devices.map((d) =>
      w.inputs.next(isReading(d.id, 0), `the final 0 W reading of ${d.id}`),
    );
    await sim.stop();
    await Promise.all(zeros);
  });
});
