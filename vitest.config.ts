import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Polled assertions (browser and cross-process suites) get room on a loaded machine.
    expect: { poll: { timeout: 5_000 } },
  },
});
