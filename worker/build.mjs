#!/usr/bin/env node
/**
 * Production bundle of the worker for the Docker image: one ESM file, worker/dist/worker.mjs, run with
 * plain `node` (no tsx at run time). better-sqlite3 stays external because it is a native addon; the
 * image installs it next to the bundle. Layout the bundle expects at run time:
 *   <root>/worker/dist/worker.mjs, <root>/worker/dist/writer-thread.mjs (the outbox's writer thread,
 *   plain JS loaded by URL next to the bundle), <root>/worker/package.json,
 *   <root>/web/generated/worker-page/
 */
import { copyFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/worker.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3'],
  define: { __WIOT_STATIC_DIR__: JSON.stringify('../../web/generated/worker-page/') },
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __wiotCreateRequire } from 'node:module'; const require = __wiotCreateRequire(import.meta.url);",
  },
  logLevel: 'info',
});

// The outbox starts its writer thread from `new URL('./writer-thread.mjs', import.meta.url)`: next to
// the source file in development, next to the bundle here.
copyFileSync(
  new URL('./src/outbox/writer-thread.mjs', import.meta.url),
  new URL('./dist/writer-thread.mjs', import.meta.url),
);
