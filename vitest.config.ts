import { defineConfig } from 'vitest/config';

// One vitest run for every workspace. Browser tests (playwright-core + Debian chromium) live in
// web/test/browser and are run by their own step of scripts/test.mjs, not here.
export default defineConfig({
  test: {
    include: ['shared/test/**/*.test.ts', 'worker/test/**/*.test.ts', 'web/test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
