/**
 * Waiting on conditions instead of sleeping, for the worker's tests, the dev stack, the end-to-end
 * run and the benches (the one implementation; issue 19). `waitFor` polls a check until it returns
 * something truthy or the deadline passes, then fails naming what it waited for and the check's
 * last error, so a hung wait says what it waited for.
 */

/**
 * Polls `check` every `everyMs` until it returns a truthy value (resolved with it) or `timeoutMs`
 * passes. A check that throws counts as "not yet"; its last error is in the timeout's message.
 * Tests keep the 20 ms default; scripts that poll another process over HTTP or SQL pass 100 ms.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const reason = last ? ` (last error: ${(last as Error).message ?? String(last)})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await delay(everyMs);
  }
}

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A pause between polls (not a synchronisation: callers poll a condition around it). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
