// The storage conformance suite: one set of vitest tests that every WeftStorage adapter must pass.
import { afterEach, beforeEach, describe } from 'vitest';
import type { WeftStorage } from '../types.js';
import { describeConcurrency } from './concurrency.js';
import type { StorageFactory, StorageHarness } from './fixtures.js';
import { describeJournalStore } from './journal-store.js';
import { describeLeaseStore } from './lease-store.js';
import { describeListRuns } from './list-runs.js';
import { describePruneRuns } from './prune-runs.js';
import { describeRunStore } from './run-store.js';
import { describeScheduleStore } from './schedule-store.js';
import { describeUpdateRun } from './update-run.js';
import { describeValuesAndLifecycle } from './values-and-lifecycle.js';

export type { StorageFactory, StorageHarness } from './fixtures.js';

/**
 * Registers the conformance tests of the storage contract (`storage/types.ts`) for one
 * adapter. `factory` is called before each test and must return a fresh, empty storage that
 * is not yet initialised (the suite calls `init()`); `cleanup` is called after the test and
 * should close the storage and remove what it created.
 *
 * @example
 * describeStorageConformance('sqlite', async () => {
 *   const path = join(tmpdir(), `weft-${randomUUID()}.db`);
 *   const storage = new SqliteStorage({ path });
 *   return { storage, cleanup: async () => { await storage.close(); rmSync(path, { force: true }); } };
 * });
 */
export function describeStorageConformance(name: string, factory: StorageFactory): void {
  describe(`${name} storage conformance`, () => {
    let harness: StorageHarness | undefined;

    beforeEach(async () => {
      harness = await factory();
      await harness.storage.init();
    });

    afterEach(async () => {
      const done = harness;
      harness = undefined;
      await done?.cleanup();
    });

    const current = (): WeftStorage => {
      if (!harness)
        throw new Error('describeStorageConformance: no storage; the factory failed or the test outlived it');
      return harness.storage;
    };

    describeRunStore(current);
    describeListRuns(current);
    describeUpdateRun(current);
    describeJournalStore(current);
    describeLeaseStore(current);
    describePruneRuns(current);
    describeValuesAndLifecycle(current);
    describeConcurrency(current);
    describeScheduleStore(current);
  });
}
