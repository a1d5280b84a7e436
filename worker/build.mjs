#!/usr/bin/env node
/**
 * Production bundle of the worker for the Docker image: one ESM file, worker/dist/worker.mjs, run with
 * plain `node` (no tsx at run time). better-sqlite3 stays external because it is a native addon; the
 * image installs it next to the bundle. Layout the bundle expects at run time:
 *   <root>/worker/dist/worker.mjs, <root>/worker/dist/writer-thread.mjs (the outbox's writer thread,
 *   plain JS loaded by URL next to the bundle), <root>/worker/package.json,
 *   <root>/web/generated/worker-page/
 *
 * `bundleWorkerEntry` is also what scripts/bench/worker-rss.ts uses to measure its probe the way the
 * worker ships (same options, another entry), so the bench's "bundle" column is this build.
 */
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles `entry` into `outfile` with the worker's production options and puts the outbox's writer
 * thread next to it. `outfile` must sit where `better-sqlite3` resolves (inside the repository).
 */
export async function bundleWorkerEntry(entry, outfile, { logLevel = 'info' } = {}) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Whitespace and comments only (names stay, stack traces map through the source map): V8 keeps
    // the whole script source in the heap, and a few non-ASCII characters in dependencies' comments
    // made it a two-byte string, 4 MB for a 2 MB file. Measured with worker-rss.ts: -2.6 MB of heap,
    // -3 MB RSS at start.
    minifyWhitespace: true,
    external: ['better-sqlite3'],
    define: { __WIOT_STATIC_DIR__: JSON.stringify('../../web/generated/worker-page/') },
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __wiotCreateRequire } from 'node:module'; const require = __wiotCreateRequire(import.meta.url);",
    },
    logLevel,
  });
  // The outbox starts its writer thread from `new URL('./writer-thread.mjs', import.meta.url)`: next
  // to the source file in development, next to the bundle here.
  copyFileSync(
    join(here, 'src/outbox/writer-thread.mjs'),
    join(dirname(outfile), 'writer-thread.mjs'),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bundleWorkerEntry(join(here, 'src/main.ts'), join(here, 'dist/worker.mjs'));
}
