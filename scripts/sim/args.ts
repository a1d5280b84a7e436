/** Command line of `npm run simulate`: parsing and usage text, kept apart from the simulator. */
import { parseArgs } from 'node:util';
import { SIM_FAMILIES, type SimFamily } from './devices.ts';
import { SIM_KINDS, type SimKind } from './meters.ts';
import { SIM_READER_KINDS, type SimReaderKind } from './readers.ts';
import { SCENARIOS, type ScenarioName } from './scenarios.ts';
import type { SimPresentation, SimulatorOptions } from './simulator.ts';

export const USAGE = `Usage: npm run simulate -- [options]

Publishes realistic Shelly Gen2/Gen3, Shelly Gen1 and Tasmota traffic to an MQTT broker and answers
the worker's polls (Shelly.GetStatus, Gen1 update, Tasmota STATUS 8) like the real devices.

Options:
  --broker <url>        broker URL (default mqtt://127.0.0.1:1884, the worker's embedded broker)
  --username <name>     broker user name (password from MQTT_PASSWORD, never on the command line)
  --scenario <name>     ${SCENARIOS.join(' | ')} (default full-session)
  --devices <n>         number of devices (default 3 = one per family; many-devices: 100)
  --families <list>     comma-separated subset of ${SIM_FAMILIES.join(',')}
  --kinds <list>        add one meter of each kind: ${SIM_KINDS.join(',')}
                        (Shelly Pro 4PM, Plus 2PM, Pro 3EM, EM Gen3, Gen1 3EM, Tasmota Sonoff
                        Dual R3, Zigbee2MQTT plug, ESPHome sensor); alone, only these run. Each
                        announces itself (Shelly online/NotifyFullStatus/shellies/announce, Tasmota
                        and Zigbee2MQTT discovery) so the worker's discovery lists it
  --readers <list>      add badge readers: ${SIM_READER_KINDS.join(',')} (a PN532 on a
                        Tasmota plug's topic, an ESPHome text sensor), each paired with a machine
  --present <r>:<uid>@<s>  reader r (0-based) reads card <uid> at simulated second s; repeatable
                        (e.g. --present 0:E9F35959@30 --present 0:E9F35959@31)
  --prefix <text>       device id/topic prefix (default sim)
  --speed <factor>      simulated seconds per real second (default 1; 60 = one hour per minute)
  --rate <msgs/s>       load mode: readings per real second in total, round-robin over devices
  --duration <s>        simulated seconds to run (default one scenario run; 0 = forever)
  --loop                repeat the scenario until Ctrl-C / SIGTERM (each new run is logged)
  --tele-period <s>     Tasmota TelePeriod (default 300)
  --connections <n>     MQTT connections to spread devices over (default min(devices, 50));
                        with one per device the broker publishes each device's last will
  --seed <n>            noise seed (default 1)
  --print-config        print the worker device configs for these devices as JSON and exit
                        (with --readers: {"devices": [...], "badge_readers": [...]})
  -h, --help            this text

However the simulation ends (scenario over, --duration reached, Ctrl-C or SIGTERM), every simulated
meter first publishes a 0 W reading in its own format, so the worker closes open sessions at once.

Scenarios:
  full-session   idle -> standby 25 W -> working 1200 W -> standby -> idle (15 min)
  standby-only   idle -> standby 30 W for 7 min -> idle
  working        2000 W steady for 14 min (change-only meters go silent: polls keep them alive)
  flapping       7 W / 13 W around the 10 W standby threshold, switching every 3-15 s
  offline-gap    working, then 5 min offline (last will), back working, idle
  many-devices   N devices mixing the above, shifted in time
`;

export type CliResult =
  | { kind: 'help' }
  | { kind: 'error'; message: string }
  | { kind: 'run'; options: SimulatorOptions; printConfig: boolean };

// Over 50 lines on purpose: the option table and its checks belong together, next to USAGE.
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        broker: { type: 'string' },
        username: { type: 'string' },
        scenario: { type: 'string' },
        devices: { type: 'string' },
        families: { type: 'string' },
        kinds: { type: 'string' },
        readers: { type: 'string' },
        present: { type: 'string', multiple: true },
        prefix: { type: 'string' },
        speed: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        'tele-period': { type: 'string' },
        connections: { type: 'string' },
        seed: { type: 'string' },
        loop: { type: 'boolean' },
        'print-config': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const scenario = (values.scenario ?? 'full-session') as string;
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    return { kind: 'error', message: `unknown scenario '${scenario}'` };
  }
  const families = values.families ? String(values.families).split(',') : [...SIM_FAMILIES];
  const unknown = families.filter((f) => !(SIM_FAMILIES as readonly string[]).includes(f));
  if (unknown.length > 0) return { kind: 'error', message: `unknown family '${unknown[0]}'` };
  const kinds = values.kinds ? String(values.kinds).split(',') : [];
  const unknownKind = kinds.filter((k) => !(SIM_KINDS as readonly string[]).includes(k));
  if (unknownKind.length > 0) return { kind: 'error', message: `unknown kind '${unknownKind[0]}'` };
  const readers = values.readers ? String(values.readers).split(',') : [];
  const unknownReader = readers.filter((k) => !(SIM_READER_KINDS as readonly string[]).includes(k));
  if (unknownReader.length > 0)
    return { kind: 'error', message: `unknown reader kind '${unknownReader[0]}'` };
  const presentations: SimPresentation[] = [];
  for (const raw of (values.present as string[] | undefined) ?? []) {
    const m = /^(\d+):([^@\s]+)@(\d+(?:\.\d+)?)$/.exec(raw);
    if (!m)
      return { kind: 'error', message: `--present '${raw}': expected <reader>:<uid>@<second>` };
    const reader = Number(m[1]);
    if (reader >= readers.length)
      return { kind: 'error', message: `--present '${raw}': no reader ${reader} (--readers)` };
    presentations.push({ reader, uid: m[2] as string, at_s: Number(m[3]) });
  }
  const prefix = (values.prefix ?? 'sim') as string;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,30}$/.test(prefix)) {
    return { kind: 'error', message: 'prefix: letters, digits, _ . : - (max 31)' };
  }
  if (values.loop && values.duration !== undefined) {
    return { kind: 'error', message: '--loop and --duration exclude each other' };
  }
  const numbers: Record<string, number | undefined> = {};
  for (const [key, min] of [
    ['devices', 1],
    ['speed', 0.001],
    ['rate', 0.001],
    ['duration', 0],
    ['tele-period', 1],
    ['connections', 1],
    ['seed', 0],
  ] as const) {
    const raw = values[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      return { kind: 'error', message: `--${key} must be >= ${min}` };
    numbers[key] = n;
  }
  const options: SimulatorOptions = {
    brokerUrl: (values.broker as string | undefined) ?? 'mqtt://127.0.0.1:1884',
    scenario: scenario as ScenarioName,
    ...(values.families || kinds.length === 0 ? { families: families as SimFamily[] } : {}),
    ...(kinds.length > 0 ? { kinds: kinds as SimKind[] } : {}),
    ...(readers.length > 0 ? { readers: readers as SimReaderKind[], presentations } : {}),
    prefix,
    speed: numbers.speed ?? 1,
    rate: numbers.rate ?? null,
    log: (line) => console.error(`[simulate] ${line}`),
  };
  if (values.username) options.username = values.username as string;
  if (env.MQTT_PASSWORD) options.password = env.MQTT_PASSWORD;
  if (numbers.devices !== undefined) options.devices = Math.floor(numbers.devices);
  if (numbers.duration !== undefined) options.durationS = numbers.duration;
  if (values.loop) options.loop = true;
  if (numbers['tele-period'] !== undefined) options.telePeriodS = numbers['tele-period'];
  if (numbers.connections !== undefined) options.connections = Math.floor(numbers.connections);
  if (numbers.seed !== undefined) options.seed = numbers.seed;
  return { kind: 'run', options, printConfig: values['print-config'] === true };
}
