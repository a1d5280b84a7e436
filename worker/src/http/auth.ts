/**
 * Bearer tokens of the control API.
 *
 * - `admin` token: every method. From settings (`http.token`) or generated on first start with
 *   crypto.randomBytes(32), printed ONCE to stderr and stored in `<data_dir>/http-token` (mode 0600);
 *   later starts read the file and print nothing.
 * - `read` token (optional, `http.read_token`): `health.get`, full `GET /health`, `GET /metrics`.
 *
 * Comparison: `safeEqual` below, the only constant-time comparison in the worker.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';

export type Scope = 'admin' | 'read';

export const TOKEN_FILE = 'http-token';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The worker's one constant-time comparison (control API tokens, dashboard tokens, the embedded
 * broker's login): both sides hashed first, so timingSafeEqual gets equal lengths and the answer
 * time tells nothing about the expected value's length.
 */
export function safeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The control API's and the dashboard's tokens; every route checks through one instance. */
export class TokenAuth {
  readonly #admin: string;
  readonly #read: string | null;

  constructor(adminToken: string, readToken: string | null) {
    this.#admin = adminToken;
    this.#read = readToken;
  }

  /** The scope granted by an `Authorization` header value, or null. */
  check(header: string | undefined): Scope | null {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match ? this.scopeOf(match[1] as string) : null;
  }

  /** The scope a bare token grants (e.g. the dashboard's `?token=`), or null. */
  scopeOf(token: string | null): Scope | null {
    if (token === null) return null;
    // Both comparisons always run, so the answer time does not tell which token matched.
    const isAdmin = safeEqual(token, this.#admin);
    const isRead = this.#read !== null && safeEqual(token, this.#read);
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
