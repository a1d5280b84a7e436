/**
 * The signal-grace rule of worker/src/shutdown-signals.ts on fake timers: one Ctrl-C delivered
 * twice (process group + tsx relay ~30 ms later) stops gracefully once; a signal after the grace
 * period forces the exit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShutdownSignals, SIGNAL_GRACE_MS } from '../../src/shutdown-signals.ts';

describe('ShutdownSignals', () => {
  let calls: string[];
  let signals: ShutdownSignals;

  beforeEach(() => {
    vi.useFakeTimers();
    calls = [];
    signals = new ShutdownSignals({
      onShutdown: (s) => calls.push(`shutdown ${s}`),
      onIgnored: (s) => calls.push(`ignored ${s}`),
      onForce: (s) => calls.push(`force ${s}`),
      onGraceOver: () => calls.push('grace over'),
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ignores the relayed copy of the first signal (30 ms later)', () => {
    expect(signals.handle('SIGINT')).toBe('shutdown');
    vi.advanceTimersByTime(30);
    expect(signals.handle('SIGINT')).toBe('ignored');
    expect(calls).toEqual(['shutdown SIGINT', 'ignored SIGINT']);
  });

  it('ignores any repeat (SIGINT or SIGTERM) until the grace period ends', () => {
    signals.handle('SIGTERM');
    vi.advanceTimersByTime(SIGNAL_GRACE_MS - 1);
    expect(signals.handle('SIGINT')).toBe('ignored');
    expect(signals.handle('SIGTERM')).toBe('ignored');
    expect(calls).not.toContain('grace over');
  });

  it('forces the exit on a signal after the grace period', () => {
    signals.handle('SIGINT');
    signals.handle('SIGINT');
    vi.advanceTimersByTime(SIGNAL_GRACE_MS);
    expect(calls.at(-1)).toBe('grace over');
    expect(signals.handle('SIGINT')).toBe('force');
    expect(calls).toEqual(['shutdown SIGINT', 'ignored SIGINT', 'grace over', 'force SIGINT']);
  });

  it('uses the configured grace period', () => {
    const short = new ShutdownSignals({
      graceMs: 100,
      onShutdown: () => {},
      onIgnored: () => {},
      onForce: () => {},
    });
    short.handle('SIGINT');
    vi.advanceTimersByTime(99);
    expect(short.handle('SIGINT')).toBe('ignored');
    vi.advanceTimersByTime(1);
    expect(short.handle('SIGINT')).toBe('force');
  });

  it('is documented in worker/README.md with its value', async () => {
    const fs = await import('node:fs');
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`within ${SIGNAL_GRACE_MS / 1000} s of the first`);
  });
});
