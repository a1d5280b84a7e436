import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, default: original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const crypto = await import('node:crypto');
const { resolveAdminToken, TokenAuth } = await import('../../src/http/auth.ts');

describe('TokenAuth', () => {
  it('compares tokens in constant time on equal-length digests', () => {
    const auth = new TokenAuth('a'.repeat(32), 'r'.repeat(32));
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(auth.check('Bearer short')).toBeNull();
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
    expect(auth.check(`Bearer ${'a'.repeat(32)}`)).toBe('admin');
    expect(auth.check(`Bearer ${'r'.repeat(32)}`)).toBe('read');
    expect(auth.check(`Basic ${'a'.repeat(32)}`)).toBeNull();
    expect(auth.check(undefined)).toBeNull();
  });

  it('generates a token once, stores it with mode 0600 and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-'));
    const first = resolveAdminToken(null, dir);
    expect(first.generated).toBe(true);
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    const second = resolveAdminToken(null, dir);
    expect(second).toMatchObject({ token: first.token, generated: false });
    expect(resolveAdminToken('configured-token-123456789', dir)).toMatchObject({
      generated: false,
      file: null,
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
