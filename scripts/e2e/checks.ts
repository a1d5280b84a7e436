/**
 * A tiny sequential test runner for the end-to-end scenario. Each `step` is one test with a name;
 * the scenario is a chain, so a failed step marks the rest of its phase as failed ("blocked by …")
 * instead of running them against a broken stack. `check` is a non-blocking assertion step.
 * The last line printed is always `N passed, N failed` (scripts/test.mjs parses it).
 */

export class AssertionError extends Error {}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** |actual - expected| <= tolerance, with both numbers in the message. */
export function assertNear(
  actual: number,
  expected: number,
  tolerance: number,
  what: string,
): void {
  assert(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual.toFixed(3)} not within ${expected} ± ${tolerance}`,
  );
}

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export class Checks {
  readonly results: Result[] = [];
  #blockedBy: string | null = null;
  readonly #started = Date.now();

  /** Runs `fn` as a blocking step: when it fails, the following steps are reported as blocked. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#run(name, fn, true);
  }

  /** Runs `fn` as an assertion whose failure does not block the following steps. */
  async check<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#run(name, fn, false);
  }

  /** Starts a new phase: steps after this run even if the previous phase was blocked. */
  unblock(): void {
    this.#blockedBy = null;
  }

  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }

  async #run<T>(name: string, fn: () => Promise<T>, blocking: boolean): Promise<T | undefined> {
    if (this.#blockedBy) {
      this.#record({
        name,
        ok: false,
        ms: 0,
        error: `blocked by failed step "${this.#blockedBy}"`,
      });
      return undefined;
    }
    const t0 = Date.now();
    try {
      const value = await fn();
      this.#record({ name, ok: true, ms: Date.now() - t0 });
      return value;
    } catch (err) {
      const e = err as Error;
      const error = e instanceof AssertionError ? e.message : (e.stack ?? String(e));
      this.#record({ name, ok: false, ms: Date.now() - t0, error });
      if (blocking) this.#blockedBy = name;
      return undefined;
    }
  }

  #record(r: Result): void {
    this.results.push(r);
    const at = ((Date.now() - this.#started) / 1000).toFixed(1).padStart(6);
    const mark = r.ok ? '\x1b[32mPASS\x1b[0m' : '\x1b[31mFAIL\x1b[0m';
    console.log(`[${at} s] ${mark} ${r.name} (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.error) console.log(`         ${r.error.split('\n').join('\n         ')}`);
  }

  /** Prints the summary; the very last line is `N passed, N failed`. */
  summary(): void {
    const passed = this.results.filter((r) => r.ok).length;
    const seconds = ((Date.now() - this.#started) / 1000).toFixed(1);
    console.log(`\nend-to-end: ${this.results.length} steps in ${seconds} s`);
    for (const r of this.results.filter((x) => !x.ok)) console.log(`  FAILED: ${r.name}`);
    console.log(`${passed} passed, ${this.failed} failed`);
  }
}

/**
 * Runs a scenario's body: a crash counts as a failed step, `cleanup` always runs (servers, the
 * database), then the summary is printed. Returns the exit code (1 when anything failed).
 */
export async function runScenario(
  checks: Checks,
  body: () => Promise<void>,
  cleanup: () => Promise<void>,
): Promise<number> {
  try {
    await body();
  } catch (err) {
    await checks.check('scenario ran to the end', async () => {
      throw err;
    });
  } finally {
    await cleanup();
  }
  checks.summary();
  return checks.failed > 0 ? 1 : 0;
}

/** The entry point of a scenario script: its exit code, or a crash reported as one failure. */
export function exitWith(main: () => Promise<number>, name: string): void {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.log(`${name} crashed: ${err.stack ?? err.message}\n0 passed, 1 failed`);
      process.exit(1);
    },
  );
}
