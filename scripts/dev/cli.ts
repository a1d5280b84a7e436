/**
 * `scripts/dev-stack.sh [up] [options] | stop | status`: the development stack's command line.
 * `up` stays in the foreground as the supervisor of every process it started; Ctrl-C (or
 * `dev-stack.sh stop` from another terminal) stops them all in reverse order. The supervisor's and
 * the children's pids are kept in `<state-dir>/stack.json`, so `stop` also cleans up after a
 * supervisor that was killed: it signals exactly those pids, after checking each one still runs the
 * command it started (a recycled pid is left alone).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { delay, waitFor } from '../lib/wait.ts';
import { SCENARIOS, type ScenarioName } from '../sim/scenarios.ts';
import { Simulator } from '../sim/simulator.ts';
import { Stack, type StackInfo } from './stack.ts';

const USAGE = `Usage: scripts/dev-stack.sh [up] [options]
       scripts/dev-stack.sh stop   [--state-dir DIR]
       scripts/dev-stack.sh status [--state-dir DIR]

Brings up PostgreSQL database + Odoo 18 (ODOO_SRC, default /opt/odoo18) with workshop_iot, an
integration user with an API key, Debian mosquitto (auth on) and the worker, all on free ports.

Options of up:
  --db NAME             database (default wiot_dev); dropped and created again unless --reuse
  --reuse               keep the database (workshop_iot is updated with -u) and the worker's data
  --http-port N         Odoo HTTP port (default: a free port)
  --embedded-broker     the worker's embedded MQTT broker instead of mosquitto
  --simulate SCENARIO   also run the device simulator: ${SCENARIOS.join(', ')}
  --devices N           simulated devices (default 3, one per meter family)
  --speed F             simulator clock speed (default 1; machine debounces stay real seconds)
  --state-dir DIR       where logs, settings, worker data live (default ${defaultStateDir()})
  -h, --help            this text
`;

interface StateFile {
  supervisor: number;
  db: string;
  started_at: string;
  children: { name: string; pid: number | null; marker: string }[];
}

function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return process.env.WIOT_STATE_DIR || path.join(base, 'workshop-iot', 'dev-stack');
}

const log = (line: string) => process.stderr.write(`[dev-stack] ${line}\n`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` still runs a command containing `marker` (guards against recycled pids). */
function runs(pid: number, marker: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return false;
  }
}

function readState(dir: string): StateFile | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'stack.json'), 'utf8')) as StateFile;
  } catch {
    return null;
  }
}

async function stop(dir: string): Promise<number> {
  const state = readState(dir);
  if (!state) {
    log(`nothing to stop (no ${path.join(dir, 'stack.json')})`);
    return 0;
  }
  if (alive(state.supervisor) && runs(state.supervisor, 'scripts/dev/cli.ts')) {
    log(`stopping the stack (supervisor pid ${state.supervisor})`);
    process.kill(state.supervisor, 'SIGTERM');
    await waitFor(() => !alive(state.supervisor), 'the supervisor to stop', 90_000, 200);
    return 0;
  }
  // The supervisor died without cleaning up: stop its children ourselves, newest first.
  for (const child of [...state.children].reverse()) {
    if (child.pid === null || !runs(child.pid, child.marker)) continue;
    log(`stopping ${child.name} (pid ${child.pid})`);
    process.kill(child.pid, 'SIGTERM');
    try {
      await waitFor(() => !alive(child.pid!), `${child.name} to exit`, 20_000, 200);
    } catch {
      if (runs(child.pid, child.marker)) process.kill(child.pid, 'SIGKILL');
    }
  }
  fs.rmSync(path.join(dir, 'stack.json'), { force: true });
  return 0;
}

function status(dir: string): number {
  const state = readState(dir);
  if (!state) {
    console.log('dev stack: not running');
    return 1;
  }
  const up = alive(state.supervisor) && runs(state.supervisor, 'scripts/dev/cli.ts');
  console.log(
    `dev stack (db ${state.db}, since ${state.started_at}): supervisor ${up ? 'running' : 'GONE'}`,
  );
  for (const c of state.children.filter((x) => x.pid !== null)) {
    const ok = c.pid !== null && runs(c.pid, c.marker);
    console.log(
      `  ${c.name.padEnd(10)} pid ${String(c.pid).padEnd(8)} ${ok ? 'running' : 'not running'}`,
    );
  }
  return up ? 0 : 1;
}

function printInfo(info: StackInfo, sim: Simulator | null, speed: number): void {
  const lines = [
    '',
    `Workshop IoT dev stack is up (database ${info.db})`,
    `  Odoo        ${info.odooUrl}/odoo`,
    `              login ${info.adminLogin}, password ${info.adminPassword}   (random, shown only now)`,
    `  Dashboard   ${info.odooUrl}/odoo/action-workshop_iot.dashboard_action`,
    `  Worker      ${info.workerUrl}/health   (uid ${info.workerUid}; control token and Odoo API key in ${info.settingsFile})`,
    info.embeddedBroker
      ? `  Broker      ${info.brokerUrl}   (the worker's embedded broker, no auth)`
      : `  Broker      ${info.brokerUrl}   meters: user ${info.brokerUsername}, password ${info.brokerPassword}\n` +
        `              worker (reads every topic): user ${info.brokerWorkerUsername}, password ${info.brokerWorkerPassword}`,
    sim
      ? `  Simulator   ${sim.devices.length} device(s): ${sim.devices.map((d) => d.id).join(', ')} (speed x${speed})`
      : '  Simulator   off (--simulate full-session to add meters)',
    `  Logs        ${info.logs.odoo}`,
    `              ${info.logs.worker}${info.logs.broker ? `\n              ${info.logs.broker}` : ''}`,
    '  Stop        Ctrl-C here, or scripts/dev-stack.sh stop',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Over 50 lines on purpose: option handling, start, supervision and teardown of one command.
async function up(
  values: Record<string, string | boolean | undefined>,
  dir: string,
): Promise<number> {
  const previous = readState(dir);
  if (previous && alive(previous.supervisor) && runs(previous.supervisor, 'scripts/dev/cli.ts')) {
    log(`a stack already runs from ${dir} (pid ${previous.supervisor}): scripts/dev-stack.sh stop`);
    return 1;
  }
  if (previous) await stop(dir); // leftovers of a killed supervisor
  const scenario = values.simulate as string | undefined;
  if (scenario && !(SCENARIOS as readonly string[]).includes(scenario)) {
    log(`unknown scenario '${scenario}' (${SCENARIOS.join(', ')})`);
    return 2;
  }
  const speed = Number(values.speed ?? 1);
  const simulator = (brokerUrl: string, username?: string | null, password?: string | null) =>
    new Simulator({
      brokerUrl,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      scenario: scenario as ScenarioName,
      speed,
      durationS: 0, // loop the scenario until the stack stops
      ...(values.devices ? { devices: Number(values.devices) } : {}),
      log: (line) => log(`simulator: ${line}`),
    });
  // Device ids are deterministic: an unstarted simulator tells which machines Odoo needs.
  const devices = scenario ? simulator('mqtt://127.0.0.1:1').deviceConfigs() : [];
  let sim: Simulator | null = null;
  const stack = new Stack({
    stateDir: dir,
    db: (values.db as string | undefined) ?? 'wiot_dev',
    reuse: values.reuse === true,
    ...(values['http-port'] ? { httpPort: Number(values['http-port']) } : {}),
    embeddedBroker: values['embedded-broker'] === true,
    devices,
    log,
  });
  let stopping: Promise<void> | null = null;
  let code = 0;
  const shutdown = (why: string) => {
    if (stopping) return stopping;
    log(`${why}: stopping everything`);
    stopping = (async () => {
      await sim?.stop();
      await stack.down();
      fs.rmSync(path.join(dir, 'stack.json'), { force: true });
      log('stopped');
    })();
    return stopping;
  };
  process.on('SIGINT', () => void shutdown('SIGINT').then(() => process.exit(code)));
  process.on('SIGTERM', () => void shutdown('SIGTERM').then(() => process.exit(code)));

  const writeState = () => {
    const info = stack.info;
    const state: StateFile = {
      supervisor: process.pid,
      db: stack.options.db,
      started_at: new Date().toISOString(),
      children: [
        { name: 'mosquitto', pid: stack.broker?.pid ?? null, marker: path.join(dir, 'mosquitto') },
        { name: 'odoo', pid: stack.odoo?.pid ?? null, marker: `--db-filter=^${stack.options.db}$` },
        { name: 'worker', pid: stack.worker?.pid ?? null, marker: info?.settingsFile ?? dir },
      ],
    };
    fs.writeFileSync(path.join(dir, 'stack.json'), `${JSON.stringify(state, null, 2)}\n`);
  };
  let info: StackInfo;
  try {
    info = await stack.up();
    writeState();
  } catch (err) {
    log(`start failed: ${(err as Error).message}`);
    code = 1;
    await shutdown('start failed');
    return 1;
  }
  for (const [name, child] of [
    ['Odoo', stack.odoo?.child],
    ['worker', stack.worker?.child],
    ['mosquitto', stack.broker?.child],
  ] as const) {
    child?.once('exit', (c, signal) => {
      if (stopping) return;
      code = 1;
      void shutdown(`${name} exited unexpectedly (${c ?? signal})`).then(() => process.exit(1));
    });
  }
  if (scenario) {
    // The simulator connects where the worker listens: mosquitto, or the embedded broker.
    sim = simulator(info.brokerUrl, info.brokerUsername, info.brokerPassword);
    await sim.start();
  }
  printInfo(info, sim, speed);
  // Stay in the foreground until a signal or a child's exit ends the stack.
  for (;;) await delay(60_000);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const command = argv[0] && !argv[0].startsWith('-') ? argv.shift()! : 'up';
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        db: { type: 'string' },
        reuse: { type: 'boolean' },
        'http-port': { type: 'string' },
        'embedded-broker': { type: 'boolean' },
        simulate: { type: 'string' },
        devices: { type: 'string' },
        speed: { type: 'string' },
        'state-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dir = path.resolve((values['state-dir'] as string | undefined) ?? defaultStateDir());
  switch (command) {
    case 'up':
      return up(values, dir);
    case 'stop':
      return stop(dir);
    case 'status':
      return status(dir);
    default:
      process.stderr.write(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(`failed: ${err.message}`);
    process.exit(1);
  },
);
