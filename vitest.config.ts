import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

/** A file in bench/, whose node_modules holds the engines Weft is compared with. */
const COMPARED = fileURLToPath(new URL('./bench/package.json', import.meta.url));

/** Tests import @mastra/* and @dbos-inc/* as usual; they resolve from bench/node_modules (scripts/install-compared.mjs). */
const comparedEngines: Plugin = {
  name: 'compared-engines',
  enforce: 'pre',
  resolveId(source, _importer, options) {
    if (!source.startsWith('@mastra/') && !source.startsWith('@dbos-inc/')) return null;
    return this.resolve(source, COMPARED, { ...options, skipSelf: true });
  },
};

export default defineConfig({
  plugins: [comparedEngines],
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
