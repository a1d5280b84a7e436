/**
 * `npm run simulate -- --help`: simulated power meters for development, demos and load tests.
 * The logic lives in scripts/sim/ (library entry: `Simulator` / `runSimulation` in sim/simulator.ts).
 */
import { parseCli, USAGE } from './sim/args.ts';
import { Simulator } from './sim/simulator.ts';

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.kind === 'error') {
    process.stderr.write(`simulate: ${cli.message}\n\n${USAGE}`);
    return 2;
  }
  const sim = new Simulator(cli.options);
  if (cli.printConfig) {
    const configs =
      sim.readers.length > 0
        ? { devices: sim.deviceConfigs(), badge_readers: sim.readerConfigs() }
        : sim.deviceConfigs();
    process.stdout.write(`${JSON.stringify(configs, null, 2)}\n`);
    return 0;
  }
  // Not `once`: under npm/tsx one Ctrl-C arrives twice (process group + relay), and the default
  // action of the second would kill the simulator before its meters reported 0 W. The clean end
  // is bounded (the final reports time out), so a repeated signal has nothing to cut short.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`[simulate] ${signal}: every meter reports 0 W, then exit`);
    void sim.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const report = setInterval(() => {
    const s = sim.stats();
    console.error(
      `[simulate] t=${Math.round(s.sim_time_s)}s published=${s.published} polls=${s.polls_answered}`,
    );
  }, 10_000);
  try {
    await sim.start();
    await sim.finished;
  } finally {
    clearInterval(report);
  }
  const s = sim.stats();
  console.error(`[simulate] done: ${JSON.stringify(s)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`simulate: ${err.message}\n`);
    process.exit(1);
  },
);
