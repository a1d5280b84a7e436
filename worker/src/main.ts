#!/usr/bin/env -S npx tsx
/**
 * Entry point: `npm start [-- --config file]` (repository root or worker workspace) or
 * `tsx worker/src/main.ts [--config file]`.
 * SIGTERM/SIGINT stop the worker gracefully (exit 0); a repeat within SIGNAL_GRACE_MS is the same
 * request and ignored, a signal after it exits at once (exit 130; see shutdown-signals.ts).
 * A bad command line or bad settings exit 2 with the message naming the option or key; anything else
 * fatal exits 1 (the outbox is durable, so a supervisor restart resumes exactly).
 */
import { App } from './app.ts';
import { parseWorkerArgs, USAGE } from './cli.ts';
import { isWorkerError } from './errors.ts';
import { createLogger } from './log.ts';
import { ShutdownSignals, SIGNAL_GRACE_MS } from './shutdown-signals.ts';

async function main(): Promise<void> {
  try {
    if (parseWorkerArgs(process.argv.slice(2)).help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
  } catch (err) {
    process.stderr.write(`workshop-iot-worker: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  let app: App;
  try {
    app = await App.start();
  } catch (err) {
    if (isWorkerError(err) && err.code.startsWith('SETTINGS_')) {
      process.stderr.write(`workshop-iot-worker: ${err.message}\n`);
      process.exit(2);
    }
    createLogger().fatal({ err }, 'Worker failed to start');
    process.exit(1);
  }
  // The last line of every run says how it ended: under `npm start` the shell and npm report the
  // signal (130/143), not the worker's own exit code. It is flushed before exiting: stdout is
  // asynchronous and process.exit alone would drop it.
  const exit = (code: number): void => {
    process.exitCode = code;
    app.log.info({ exit_code: code }, 'Worker exiting');
    app.log.flush(() => process.exit(code));
  };
  const signals = new ShutdownSignals({
    onShutdown: (signal) => {
      app.log.info({ signal, grace_ms: SIGNAL_GRACE_MS }, 'Shutting down');
      app.stop().then(
        () => exit(0),
        (err) => {
          app.log.error({ err }, 'Shutdown failed');
          exit(1);
        },
      );
    },
    onIgnored: (signal) =>
      app.log.info({ signal }, 'Repeated signal during shutdown grace period: ignored'),
    onGraceOver: () => app.log.info('Shutdown grace period over: another signal exits at once'),
    onForce: (signal) => {
      app.log.warn({ signal }, 'Second signal: exiting now');
      exit(130);
    },
  });
  process.on('SIGTERM', () => signals.handle('SIGTERM'));
  process.on('SIGINT', () => signals.handle('SIGINT'));
  process.on('uncaughtException', (err) => {
    app.log.fatal({ err }, 'Uncaught exception: exiting (the outbox is durable)');
    exit(1);
  });
  process.on('unhandledRejection', (err) => {
    app.log.error({ err }, 'Unhandled promise rejection');
  });
}

void main();
