/** A pino logger whose JSON lines are collected in memory, so tests assert on fields, not strings. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLog(): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  // sync: lines are visible as soon as the log call returns.
  return {
    logger: pino({ level: 'debug' }, pino.multistream([{ stream, level: 'debug' }])),
    lines,
  };
}
