/**
 * `npm run simulate` as a developer runs it, against the real mosquitto (127.0.0.1:1883): however it
 * ends (its --duration, or Ctrl-C to the process group during --loop), the last power report of every
 * simulated meter, in its own payload format, is 0 W, so the worker closes the sessions at once
 * instead of at their timeout. --loop repeats the scenario.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { NpmStart } from '../helpers/npm-start.ts';
import { REPO_ROOT } from '../helpers/worker-process.ts';

const BROKER = 'mqtt://127.0.0.1:1883';

/** The power a message reports, per family format, or null for messages without one. */
function powerOf(topic: string, payload: string): number | null {
  if (topic.startsWith('shellies/'))
    return topic.endsWith('/relay/0/power') ? Number(payload) : null;
  if (topic.startsWith('tele/') && topic.endsWith('/SENSOR'))
    return (JSON.parse(payload) as { ENERGY: { Power: number } }).ENERGY.Power;
  if (topic.startsWith('stat/') && topic.endsWith('/STATUS8'))
    return (JSON.parse(payload) as { StatusSNS: { ENERGY: { Power: number } } }).StatusSNS.ENERGY
      .Power;
  if (/\/status\/(switch|pm1):0$/.test(topic))
    return (JSON.parse(payload) as { apower: number }).apower;
  if (topic.endsWith('/events/rpc')) {
    const params = (JSON.parse(payload) as { params?: Record<string, { apower?: number }> }).params;
    const component = params?.['switch:0'] ?? params?.['pm1:0'];
    return component?.apower ?? null;
  }
  return null;
}

/** Power reports per simulated device (keyed by the topic segment holding the prefix), in order. */
class PowerLog {
  readonly byDevice = new Map<string, number[]>();
  constructor(readonly prefix: string) {}
  record(topic: string, payload: Buffer): void {
    const device = topic.split('/').find((segment) => segment.startsWith(`${this.prefix}-`));
    if (!device) return;
    const power = powerOf(topic, payload.toString('utf8'));
    if (power === null) return;
    const list = this.byDevice.get(device) ?? [];
    list.push(power);
    this.byDevice.set(device, list);
  }
  /** How often a device went from below 100 W to 1000 W or more (its working phases). */
  workingPhases(device: string): number {
    let phases = 0;
    let working = false;
    for (const w of this.byDevice.get(device) ?? []) {
      if (!working && w >= 1000) phases++;
      working = w >= 1000 ? true : w < 100 ? false : working;
    }
    return phases;
  }
}

let subscriber: MqttClient | null = null;
let run: NpmStart | null = null;
afterEach(async () => {
  run?.kill();
  run = null;
  await subscriber?.endAsync();
  subscriber = null;
});

async function watch(prefix: string): Promise<PowerLog> {
  const log = new PowerLog(prefix);
  subscriber = await mqtt.connectAsync(BROKER, { reconnectPeriod: 0 });
  subscriber.on('message', (topic, payload) => log.record(topic, payload));
  await subscriber.subscribeAsync('#');
  return log;
}

function simulate(args: string[]): NpmStart {
  run = new NpmStart(
    REPO_ROOT,
    ['--broker', BROKER, '--tele-period', '5', ...args],
    {},
    'simulate',
  );
  return run.start();
}

/** After exit: each of the 3 meters' last report is 0 W, and it had been drawing power before. */
async function expectEveryMeterEndsAtZero(log: PowerLog): Promise<void> {
  await waitFor(
    () =>
      log.byDevice.size === 3 &&
      [...log.byDevice.values()].every((reports) => reports.at(-1) === 0),
    `a last report of 0 W from every meter (${JSON.stringify([...log.byDevice].map(([d, r]) => [d, r.slice(-3)]))})`,
    10_000,
  );
  for (const reports of log.byDevice.values()) expect(Math.max(...reports)).toBeGreaterThan(100);
}

describe('npm run simulate: clean end and --loop', () => {
  it('reports 0 W from every meter when --duration ends mid-job', async () => {
    const prefix = `simend${process.pid}`;
    const log = await watch(prefix);
    // working: 2000 W from 30 s to 870 s; the run stops at 120 s, in the middle of the job.
    const r = simulate([
      '--prefix',
      prefix,
      '--scenario',
      'working',
      '--speed',
      '100',
      '--duration',
      '120',
    ]);
    expect(await r.waitExit()).toBe(0);
    await expectEveryMeterEndsAtZero(log);
  });

  it('repeats the scenario with --loop and reports 0 W on Ctrl-C', async () => {
    const prefix = `simloop${process.pid}`;
    const log = await watch(prefix);
    // full-session (900 s) at x300: one run every 3 s; working 1200 W from 180 s to 600 s.
    const r = simulate([
      '--prefix',
      prefix,
      '--scenario',
      'full-session',
      '--speed',
      '300',
      '--loop',
    ]);
    const gen2 = `${prefix}-shellypmminig3-0001`;
    await waitFor(() => log.workingPhases(gen2) >= 2, 'a working phase in the second run', 30_000);
    expect(r.stderr).toContain('scenario full-session: run 2');
    r.signalGroup('SIGINT'); // what Ctrl-C in the terminal does
    await waitFor(() => r.closed, 'the simulator to exit', 20_000);
    expect(r.stderr).toContain('[simulate] done:');
    await expectEveryMeterEndsAtZero(log);
  });
});
