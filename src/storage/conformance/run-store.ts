// Conformance of createRun, getRun and deleteRun: the life of a run row.
import { describe, expect, it } from 'vitest';
import type { CurrentStorage } from './fixtures.js';
import { readRunAndJournal } from '../read-run.js';
import { T0, claimRun, entries, entry, newRun } from './fixtures.js';

/** Registers the tests of creating, reading and deleting runs. */
export function describeRunStore(current: CurrentStorage): void {
  describe('createRun', () => {
    it('stores a pending run with epoch 0 and returns it', async () => {
      const run = await current().createRun(newRun('r1', { workflowId: 'order', resourceId: 'user-1' }));
      expect(run).toEqual({
        runId: 'r1',
        workflowId: 'order',
        resourceId: 'user-1',
        status: 'pending',
        epoch: 0,
        createdAt: T0,
        updatedAt: T0,
        leaseOwner: null,
        leaseExpiresAt: null,
        wakeAt: null,
        input: null,
        outcome: null,
      });
      expect(await current().getRun('r1')).toEqual(run);
    });

    it('keeps a null resourceId as null', async () => {
      const run = await current().createRun(newRun('r1', { resourceId: null }));
      expect(run.resourceId).toBeNull();
      expect((await current().getRun('r1'))?.resourceId).toBeNull();
    });

    it('returns the existing row unchanged when the id exists', async () => {
      const claimed = await claimRun(current(), 'r1');
      const again = await current().createRun(
        newRun('r1', { workflowId: 'other', resourceId: 'x', createdAt: T0 + 5 }),
      );
      expect(again).toEqual(claimed);
      expect(await current().getRun('r1')).toEqual(claimed);
    });

    it('lets the operations issued after it see the run when the store keeps its writes in order', async () => {
      const storage = current();
      if (!storage.writesInOrder) return;
      const claim = { status: 'running' as const, bumpEpoch: true, leaseOwner: 'me', leaseExpiresAt: T0 + 60_000 };
      const created = [
        storage.createRun(newRun('seen', { claimFollows: true })),
        storage.createRun(newRun('claimed', { claimFollows: true })),
        storage.createRun(newRun('listed')),
      ];
      const [seen, claimed, listed] = await Promise.all([
        storage.getRun('seen'),
        storage.updateRun('claimed', { status: ['pending'] }, { ...claim, updatedAt: T0 + 1 }, entries(1, 2)),
        storage.listRuns(),
      ]);
      expect(seen).toMatchObject({ runId: 'seen', status: 'pending', epoch: 0 });
      expect(claimed).toMatchObject({ runId: 'claimed', status: 'running', epoch: 1, createdAt: T0 });
      expect(listed.runs.map((run) => run.runId).sort()).toEqual(['claimed', 'listed', 'seen']);
      for (const run of await Promise.all(created)) expect(run).toMatchObject({ status: 'pending', epoch: 0 });
      expect((await storage.readJournal('claimed')).map((entry) => entry.seq)).toEqual([1, 2]);
    });

    it('returns a row that later changes do not alter', async () => {
      const run = await current().createRun(newRun('r1'));
      await claimRun(current(), 'r1');
      expect(run.status).toBe('pending');
      expect(run.epoch).toBe(0);
    });
  });

  describe('getRun', () => {
    it('returns null for an unknown run', async () => {
      expect(await current().getRun('missing')).toBeNull();
    });
  });

  describe('readRunAndJournal (readRunWithJournal where the store has it)', () => {
    it('gives the run and its whole journal in order', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 3));
      await current().appendJournal('r1', epoch, [entry(4, 'run-suspended', '{"x":"a\\nb"}')]);
      const other = await claimRun(current(), 'r2');
      await current().appendJournal('r2', other.epoch, entries(1, 5));
      const read = await readRunAndJournal(current(), 'r1');
      expect(read).toEqual({
        run: await current().getRun('r1'),
        journal: [...entries(1, 3), entry(4, 'run-suspended', '{"x":"a\\nb"}')],
      });
    });

    it('gives a run with no entries yet, and null for a run that does not exist', async () => {
      const run = await current().createRun(newRun('r1'));
      expect(await readRunAndJournal(current(), 'r1')).toEqual({ run, journal: [] });
      expect(await readRunAndJournal(current(), 'missing')).toBeNull();
    });
  });

  describe('deleteRun', () => {
    it('deletes the run and returns true', async () => {
      await current().createRun(newRun('r1'));
      expect(await current().deleteRun('r1')).toBe(true);
      expect(await current().getRun('r1')).toBeNull();
    });

    it('returns false for an unknown run', async () => {
      expect(await current().deleteRun('missing')).toBe(false);
    });

    it('deletes the journal of the run too', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 3));
      await current().deleteRun('r1');
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('lets a run be created again under the same id with an empty journal', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 2));
      await current().deleteRun('r1');
      const again = await current().createRun(newRun('r1', { createdAt: T0 + 9 }));
      expect(again.status).toBe('pending');
      expect(again.createdAt).toBe(T0 + 9);
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('leaves other runs and their journals alone', async () => {
      const a = await claimRun(current(), 'a');
      const b = await claimRun(current(), 'b');
      await current().appendJournal('a', a.epoch, entries(1, 2));
      await current().appendJournal('b', b.epoch, entries(1, 2));
      await current().deleteRun('a');
      expect(await current().getRun('b')).toEqual(b);
      expect(await current().readJournal('b')).toEqual(entries(1, 2));
    });
  });
}
