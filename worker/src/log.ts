/**
 * The pino root logger (STYLE rule 10): JSON lines by default, pino-pretty when stdout is a TTY,
 * structured fields first and the message second, errors under `err`, secrets redacted. Modules take
 * `log.child({ module: 'outbox' })`, device code `log.child({ device_id })`; nothing imports a global.
 */
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths whose values never reach a log line, whatever object they sit in (two levels deep). */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'read_token',
  'password',
  'api_key',
  'apiKey',
  '*.authorization',
  '*.token',
  '*.read_token',
  '*.password',
  '*.api_key',
  '*.apiKey',
  '*.*.authorization',
  '*.*.token',
  '*.*.password',
  '*.*.api_key',
  'headers.authorization',
  'req.headers.authorization',
  '*.tls.key',
  '*.*.tls.key',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where lines go; default stdout (pretty when a TTY). Tests pass a stream and parse JSON lines. */
  destination?: DestinationStream;
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'workshop-iot-worker' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  if (usePretty) return pino(base, pretty({ colorize: true, destination: 1, sync: true }));
  return pino(base, pino.destination(1));
}

/** A logger that drops everything (unit tests that do not assert on logs). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
