/**
 * One long-lived `psql` session on the local socket, for polling a table every few milliseconds
 * without paying a process start per query (the latency bench). Each query's output ends at an
 * `\echo` marker line; rows come back as arrays of strings (unaligned, tab separated).
 */
import { type ChildProcess, spawn } from 'node:child_process';

const MARK = '__wiot_psql_end__';

export class PsqlSession {
  readonly #child: ChildProcess;
  #buffer = '';
  #waiting: ((rows: string[][]) => void) | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: string) {
    this.#child = spawn('psql', ['-X', '-q', '-A', '-t', '-F', '\t', '-d', db], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const end = this.#buffer.indexOf(`${MARK}\n`);
      if (end < 0 || !this.#waiting) return;
      const text = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + MARK.length + 1);
      const resolve = this.#waiting;
      this.#waiting = null;
      resolve(
        text
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => l.split('\t')),
      );
    });
  }

  /** Runs one statement (no trailing semicolon needed); queries are serialised. */
  query(sql: string): Promise<string[][]> {
    const run = this.#queue.then(
      () =>
        new Promise<string[][]>((resolve) => {
          this.#waiting = resolve;
          this.#child.stdin!.write(`${sql};\n\\echo ${MARK}\n`);
        }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#child.stdin!.end('\\q\n');
  }
}
