/** Types of worker/build.mjs for the TypeScript benches that bundle with it (worker-rss.ts). */
export function bundleWorkerEntry(
  entry: string,
  outfile: string,
  options?: { logLevel?: 'verbose' | 'debug' | 'info' | 'warning' | 'error' | 'silent' },
): Promise<void>;
