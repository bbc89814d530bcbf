import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The default store points to a file no test may open (tests that exercise it set their own).
    globalSetup: ['test/support/default-store-guard.ts'],
    // Polled assertions (browser and cross-process suites) get room on a loaded machine.
    expect: { poll: { timeout: 5_000 } },
  },
});
