/**
 * Bearer tokens of the control API.
 *
 * - `admin` token: every method. From settings (`http.token`) or generated on first start with
 *   crypto.randomBytes(32), printed ONCE to stderr and stored in `<data_dir>/http-token` (mode 0600);
 *   later starts read the file and print nothing.
 * - `read` token (optional, `http.read_token`): `health.get`, full `GET /health`, `GET /metrics`.
 *
 * Comparison hashes both sides with SHA-256 and compares the digests with crypto.timingSafeEqual:
 * equal-length inputs as timingSafeEqual requires, and no timing leak of the token's length.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../config/store.ts';

export type Scope = 'admin' | 'read';

export const TOKEN_FILE = 'http-token';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time string comparison (exported for its own test). */
export function safeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export class TokenAuth {
  private readonly admin: Buffer;
  private readonly read: Buffer | null;

  constructor(adminToken: string, readToken: string | null) {
    this.admin = digest(adminToken);
    this.read = readToken ? digest(readToken) : null;
  }

  /** The scope granted by an `Authorization` header value, or null. */
  check(header: string | undefined): Scope | null {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return null;
    const presented = digest(match[1] as string);
    // Both comparisons always run, so the answer time does not tell which token matched.
    const isAdmin = timingSafeEqual(presented, this.admin);
    const isRead = this.read ? timingSafeEqual(presented, this.read) : false;
    return isAdmin ? 'admin' : isRead ? 'read' : null;
  }
}

/**
 * The admin token: configured, or stored in the data dir, or generated now (then `generated: true`,
 * and the caller prints it once).
 */
export function resolveAdminToken(
  configured: string | null,
  dataDir: string,
): { token: string; generated: boolean; file: string | null } {
  if (configured) return { token: configured, generated: false, file: null };
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored.length >= 24) return { token: stored, generated: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileAtomic(file, `${token}\n`, 0o600);
  fs.chmodSync(file, 0o600);
  return { token, generated: true, file };
}
