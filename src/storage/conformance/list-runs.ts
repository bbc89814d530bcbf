// Conformance of listRuns: every filter, newest-first order and 0-based paging.
import { describe, expect, it } from 'vitest';
import type { WeftStorage } from '../types.js';
import type { CurrentStorage } from './fixtures.js';
import { T0, claimRun, newRun } from './fixtures.js';

/** Creates runs `r0..r{n-1}`, run `ri` created at `T0 + i` (so `r{n-1}` is the newest). */
async function createRuns(storage: WeftStorage, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await storage.createRun(newRun(`r${i}`, { createdAt: T0 + i }));
}

/** The ids of a listing, in order. */
function ids(listing: { runs: { runId: string }[] }): string[] {
  return listing.runs.map((r) => r.runId);
}

/** Registers the tests of listing runs. */
export function describeListRuns(current: CurrentStorage): void {
  describe('listRuns', () => {
    it('returns nothing and total 0 when there are no runs', async () => {
      expect(await current().listRuns()).toEqual({ runs: [], total: 0 });
    });

    it('lists all runs newest first when no filter is given', async () => {
      await createRuns(current(), 3);
      const listing = await current().listRuns();
      expect(ids(listing)).toEqual(['r2', 'r1', 'r0']);
      expect(listing.total).toBe(3);
    });

    it('returns full rows', async () => {
      const claimed = await claimRun(current(), 'r1');
      expect((await current().listRuns()).runs).toEqual([claimed]);
    });

    it('filters by workflowId', async () => {
      await current().createRun(newRun('a', { workflowId: 'order' }));
      await current().createRun(newRun('b', { workflowId: 'refund' }));
      expect(ids(await current().listRuns({ workflowId: 'order' }))).toEqual(['a']);
    });

    it('filters by a single status', async () => {
      await current().createRun(newRun('pending-run', { createdAt: T0 }));
      await claimRun(current(), 'running-run');
      expect(ids(await current().listRuns({ status: 'running' }))).toEqual(['running-run']);
      expect(ids(await current().listRuns({ status: 'pending' }))).toEqual(['pending-run']);
    });

    it('filters by an array of statuses', async () => {
      await current().createRun(newRun('p', { createdAt: T0 + 1 }));
      await claimRun(current(), 'r');
      await claimRun(current(), 's', { status: 'suspended' });
      const listing = await current().listRuns({ status: ['pending', 'suspended'] });
      expect(ids(listing).sort()).toEqual(['p', 's']);
      expect(listing.total).toBe(2);
    });

    it('filters by resourceId', async () => {
      await current().createRun(newRun('a', { resourceId: 'user-1' }));
      await current().createRun(newRun('b', { resourceId: 'user-2' }));
      await current().createRun(newRun('c', { resourceId: null }));
      expect(ids(await current().listRuns({ resourceId: 'user-1' }))).toEqual(['a']);
    });

    it('filters by fromDate and toDate, both inclusive', async () => {
      await createRuns(current(), 5);
      expect(ids(await current().listRuns({ fromDate: T0 + 1, toDate: T0 + 3 }))).toEqual(['r3', 'r2', 'r1']);
      expect(ids(await current().listRuns({ fromDate: T0 + 3 }))).toEqual(['r4', 'r3']);
      expect(ids(await current().listRuns({ toDate: T0 + 1 }))).toEqual(['r1', 'r0']);
    });

    it('combines filters with AND', async () => {
      await current().createRun(newRun('a', { workflowId: 'order', resourceId: 'u1', createdAt: T0 + 1 }));
      await current().createRun(newRun('b', { workflowId: 'order', resourceId: 'u2', createdAt: T0 + 2 }));
      await current().createRun(newRun('c', { workflowId: 'refund', resourceId: 'u1', createdAt: T0 + 3 }));
      await current().createRun(newRun('d', { workflowId: 'order', resourceId: 'u1', createdAt: T0 + 9 }));
      const listing = await current().listRuns({ workflowId: 'order', resourceId: 'u1', toDate: T0 + 5 });
      expect(ids(listing)).toEqual(['a']);
      expect(listing.total).toBe(1);
    });

    it('pages with a 0-based page and perPage', async () => {
      await createRuns(current(), 5);
      expect(ids(await current().listRuns({ page: 0, perPage: 2 }))).toEqual(['r4', 'r3']);
      expect(ids(await current().listRuns({ page: 1, perPage: 2 }))).toEqual(['r2', 'r1']);
      expect(ids(await current().listRuns({ page: 2, perPage: 2 }))).toEqual(['r0']);
      expect(ids(await current().listRuns({ page: 3, perPage: 2 }))).toEqual([]);
    });

    it('reports the total of matching runs, ignoring paging', async () => {
      await createRuns(current(), 5);
      await current().createRun(newRun('other', { workflowId: 'other' }));
      const listing = await current().listRuns({ workflowId: 'wf', page: 1, perPage: 2 });
      expect(listing.runs).toHaveLength(2);
      expect(listing.total).toBe(5);
    });

    it('treats perPage without page as the first page', async () => {
      await createRuns(current(), 3);
      expect(ids(await current().listRuns({ perPage: 2 }))).toEqual(['r2', 'r1']);
    });

    it('pages through runs created at the same instant without repeating or losing any', async () => {
      for (const id of ['e', 'a', 'd', 'b', 'c']) await current().createRun(newRun(id, { createdAt: T0 }));
      const seen: string[] = [];
      for (let page = 0; page < 3; page++) seen.push(...ids(await current().listRuns({ page, perPage: 2 })));
      expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    });
  });
}
