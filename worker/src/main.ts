#!/usr/bin/env -S npx tsx
/**
 * Entry point: `npm start` (worker workspace) or `tsx worker/src/main.ts [--config file]`.
 * SIGTERM/SIGINT stop the worker gracefully (exit 0); a second signal exits at once (exit 130).
 * Bad settings exit 2 with the message naming the key; anything else fatal exits 1 (the outbox is
 * durable, so a supervisor restart resumes exactly).
 */
import { App } from './app.ts';
import { isWorkerError } from './errors.ts';
import { createLogger } from './log.ts';

async function main(): Promise<void> {
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
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      app.log.warn({ signal }, 'Second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    app.log.info({ signal }, 'Shutting down');
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    app.log.fatal({ err }, 'Uncaught exception: exiting (the outbox is durable)');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    app.log.error({ err }, 'Unhandled promise rejection');
  });
}

void main();
