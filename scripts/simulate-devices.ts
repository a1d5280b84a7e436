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
    process.stdout.write(`${JSON.stringify(sim.deviceConfigs(), null, 2)}\n`);
    return 0;
  }
  const stop = () => void sim.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
