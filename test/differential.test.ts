// Random workflows run on Weft and on @mastra/core side by side, through start+resume and
// stream+resumeStream: results, per-step records, state and event sequences must be the same.
// WEFT_DIFF_COUNT (memory, default 60), WEFT_DIFF_SQLITE_COUNT (default 20) and WEFT_DIFF_SEED (first
// seed, default 1) widen the run: `WEFT_DIFF_COUNT=400 WEFT_DIFF_SQLITE_COUNT=150 npx vitest run test/differential.test.ts`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import type { WeftStorage } from '../src/storage/types.js';
import { observe, openMastra, openWeft, type Engine, type Mode } from './support/differential.js';
import { randomWorkflowSpec } from './support/random-workflows.js';

const count = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number, got ${process.env[name]}`);
  return value;
};

const FIRST_SEED = count('WEFT_DIFF_SEED', 1);
const seeds = (n: number, offset: number): number[] => Array.from({ length: n }, (_, i) => FIRST_SEED + offset + i);

const dir = mkdtempSync(join(tmpdir(), 'weft-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function observeOn(open: () => Promise<Engine>, seed: number, mode: Mode): Promise<unknown> {
  const spec = randomWorkflowSpec(seed);
  const engine = await open();
  try {
    return await observe(engine, spec, seed, mode);
  } finally {
    await engine.close();
  }
}

const stores: [string, number, number, (seed: number) => WeftStorage][] = [
  ['memory', count('WEFT_DIFF_COUNT', 60), 0, () => new MemoryStorage()],
  // Other seeds than on memory: more shapes for the same time.
  [
    'sqlite',
    count('WEFT_DIFF_SQLITE_COUNT', 20),
    100_000,
    (seed) => new SqliteStorage({ path: join(dir, `${seed}.db`) }),
  ],
];

for (const [store, n, offset, storage] of stores) {
  describe(`random workflows on ${store} behave as on @mastra/core`, () => {
    it.each(seeds(n, offset))('seed %i', async (seed) => {
      const spec = randomWorkflowSpec(seed);
      for (const mode of ['start', 'stream'] as const) {
        const expected = await observeOn(() => openMastra(spec), seed, mode);
        const actual = await observeOn(() => openWeft(spec, storage(seed)), seed, mode);
        expect(actual, `seed ${seed}, ${mode}: ${JSON.stringify(spec)}`).toEqual(expected);
      }
    });
  });
}
