// Conformance of updateRun: compare-and-set on status and epoch, epoch bumps, entries in the same transaction.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../types.js';
import type { CurrentStorage } from './fixtures.js';
import { T0, awkwardEntries, claimRun, entries, entry, expectWeftError, newRun, seqs } from './fixtures.js';

/** Registers the tests of changing a run by compare-and-set. */
export function describeUpdateRun(current: CurrentStorage): void {
  describe('updateRun', () => {
    it('applies every field of the change and returns the new row', async () => {
      await current().createRun(newRun('r1'));
      const row = await current().updateRun(
        'r1',
        {},
        {
          status: 'waiting',
          leaseOwner: 'owner-a',
          leaseExpiresAt: T0 + 100,
          wakeAt: T0 + 50,
          input: '{"n":1}',
          outcome: '{"suspended":[]}',
          updatedAt: T0 + 7,
        },
      );
      expect(row).toMatchObject({
        status: 'waiting',
        leaseOwner: 'owner-a',
        leaseExpiresAt: T0 + 100,
        wakeAt: T0 + 50,
        input: '{"n":1}',
        outcome: '{"suspended":[]}',
        updatedAt: T0 + 7,
        createdAt: T0,
        epoch: 0,
      });
      expect(await current().getRun('r1')).toEqual(row);
    });

    it('leaves the fields that the change omits as they were', async () => {
      const claimed = await claimRun(current(), 'r1');
      const row = await current().updateRun('r1', {}, { outcome: '{}', updatedAt: T0 + 9 });
      expect(row).toEqual({ ...claimed, outcome: '{}', updatedAt: T0 + 9 });
    });

    it('returns the row as getRun reads it, whichever fields the change sets, with or without entries', async () => {
      await current().createRun(newRun('r1', { resourceId: 'res-1' }));
      const changes = [
        { status: 'running', bumpEpoch: true, leaseOwner: 'me', leaseExpiresAt: T0 + 60_000, input: '{"in":"put"}' },
        {},
        { wakeAt: T0 + 500 },
        { status: 'suspended', leaseOwner: null, leaseExpiresAt: null, wakeAt: null, outcome: '{"suspended":[]}' },
        { outcome: '{"result":1}' },
      ] as const;
      let at = T0;
      let seq = 0;
      for (const change of changes) {
        for (const withEntries of [false, true]) {
          const added = withEntries ? entries(seq + 1, seq + 2) : undefined;
          const row = await current().updateRun('r1', {}, { ...change, updatedAt: ++at }, added);
          expect(row).toEqual(await current().getRun('r1'));
          if (added) seq += added.length;
        }
      }
      // A claim issued at once after the run's creation (a store may make both in one write).
      const created = current().createRun(newRun('r2', { resourceId: 'res-2', claimFollows: true }));
      const claimed = await current().updateRun(
        'r2',
        { status: ['pending'], epoch: 0 },
        {
          status: 'running',
          bumpEpoch: true,
          leaseOwner: 'me',
          leaseExpiresAt: T0 + 1,
          input: '{}',
          updatedAt: T0 + 1,
        },
        entries(1, 2),
      );
      await created;
      expect(claimed).toEqual(await current().getRun('r2'));
      // The same without entries, and without a new epoch.
      const bare = current().createRun(newRun('r3', { claimFollows: true }));
      const held = await current().updateRun('r3', { status: ['pending'] }, { leaseOwner: 'me', updatedAt: T0 + 2 });
      await bare;
      expect(held).toEqual(await current().getRun('r3'));
      expect(held).toMatchObject({ status: 'pending', epoch: 0, leaseOwner: 'me' });
    });

    it('ignores change fields whose value is undefined', async () => {
      const claimed = await claimRun(current(), 'r1');
      const row = await current().updateRun('r1', {}, { status: undefined, leaseOwner: undefined, updatedAt: T0 + 9 });
      expect(row).toEqual({ ...claimed, updatedAt: T0 + 9 });
    });

    it('sets fields to null when the change says null', async () => {
      await claimRun(current(), 'r1');
      const row = await current().updateRun(
        'r1',
        {},
        { status: 'suspended', leaseOwner: null, leaseExpiresAt: null, wakeAt: null, updatedAt: T0 + 2 },
      );
      expect(row).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, wakeAt: null });
    });

    it('returns null for an unknown run', async () => {
      expect(await current().updateRun('missing', {}, { status: 'running', updatedAt: T0 })).toBeNull();
      expect(await current().getRun('missing')).toBeNull();
    });

    it('applies the change when the status is one of the expected ones', async () => {
      await current().createRun(newRun('r1'));
      const row = await current().updateRun(
        'r1',
        { status: ['suspended', 'pending'] },
        { status: 'running', updatedAt: T0 + 1 },
      );
      expect(row?.status).toBe('running');
    });

    it('returns null and changes nothing when the status condition fails', async () => {
      const created = await current().createRun(newRun('r1'));
      const row = await current().updateRun('r1', { status: ['suspended'] }, { status: 'running', updatedAt: T0 + 1 });
      expect(row).toBeNull();
      expect(await current().getRun('r1')).toEqual(created);
    });

    it('returns null and changes nothing when the epoch condition fails', async () => {
      const claimed = await claimRun(current(), 'r1');
      const row = await current().updateRun(
        'r1',
        { epoch: claimed.epoch - 1 },
        { status: 'success', updatedAt: T0 + 5 },
      );
      expect(row).toBeNull();
      expect(await current().getRun('r1')).toEqual(claimed);
    });

    it('requires both conditions when both are given', async () => {
      const claimed = await claimRun(current(), 'r1');
      const change = { status: 'success' as const, updatedAt: T0 + 5 };
      expect(await current().updateRun('r1', { status: ['running'], epoch: claimed.epoch + 1 }, change)).toBeNull();
      expect(await current().updateRun('r1', { status: ['pending'], epoch: claimed.epoch }, change)).toBeNull();
      expect(await current().updateRun('r1', { status: ['running'], epoch: claimed.epoch }, change)).not.toBeNull();
    });

    it('applies the change only while updatedAt is the one seen', async () => {
      const claimed = await claimRun(current(), 'r1');
      const change = { status: 'suspended' as const, updatedAt: T0 + 5 };
      expect(await current().updateRun('r1', { updatedAt: claimed.updatedAt + 1 }, change)).toBeNull();
      expect(await current().getRun('r1')).toEqual(claimed);
      const row = await current().updateRun('r1', { epoch: claimed.epoch, updatedAt: claimed.updatedAt }, change);
      expect(row).toMatchObject({ status: 'suspended', updatedAt: T0 + 5 });
      // The row changed since: the value seen before no longer holds.
      expect(await current().updateRun('r1', { updatedAt: claimed.updatedAt }, { updatedAt: T0 + 6 })).toBeNull();
    });

    it('checks updatedAt on a run just created and on runs changed together', async () => {
      const created = current().createRun(newRun('fresh'));
      const seenWrong = current().updateRun('fresh', { updatedAt: T0 + 1 }, { status: 'running', updatedAt: T0 + 2 });
      const seenRight = current().updateRun('fresh', { updatedAt: T0 }, { status: 'running', updatedAt: T0 + 3 });
      await created;
      expect(await seenWrong).toBeNull();
      expect(await seenRight).toMatchObject({ status: 'running', updatedAt: T0 + 3 });
      await Promise.all(['a', 'b', 'c'].map((id) => current().createRun(newRun(id))));
      const changed = await Promise.all(
        ['a', 'b', 'c'].map((id, i) =>
          current().updateRun(id, { status: ['pending'], updatedAt: i === 1 ? T0 + 1 : T0 }, { updatedAt: T0 + 9 }),
        ),
      );
      expect(changed.map((row) => row?.updatedAt ?? null)).toEqual([T0 + 9, null, T0 + 9]);
    });

    it('bumps the epoch by one when asked', async () => {
      await current().createRun(newRun('r1'));
      const first = await current().updateRun('r1', {}, { status: 'running', updatedAt: T0 + 1, bumpEpoch: true });
      const second = await current().updateRun('r1', { epoch: 1 }, { updatedAt: T0 + 2, bumpEpoch: true });
      expect(first?.epoch).toBe(1);
      expect(second?.epoch).toBe(2);
    });

    it('keeps the epoch when bumpEpoch is not set', async () => {
      const claimed = await claimRun(current(), 'r1');
      const row = await current().updateRun('r1', {}, { status: 'waiting', updatedAt: T0 + 3 });
      expect(row?.epoch).toBe(claimed.epoch);
    });

    it('fences appends of the previous epoch after a bump', async () => {
      const claimed = await claimRun(current(), 'r1');
      await current().updateRun('r1', {}, { updatedAt: T0 + 2, bumpEpoch: true });
      await expectWeftError(current().appendJournal('r1', claimed.epoch, [entry(1)]), 'RUN_OWNERSHIP_LOST');
    });

    it('appends the given entries together with the change', async () => {
      await current().createRun(newRun('r1'));
      const row = await current().updateRun(
        'r1',
        { status: ['pending'] },
        { status: 'running', updatedAt: T0 + 1 },
        entries(1, 2),
      );
      expect(row?.status).toBe('running');
      expect(await current().readJournal('r1')).toEqual(entries(1, 2));
    });

    it('appends any number of entries with the change, with their text exactly', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      let next = 1;
      for (const size of [1, 2, 4, 5, 9, 25]) {
        const batch = awkwardEntries(next, next + size - 1);
        const row = await current().updateRun('r1', { epoch }, { updatedAt: T0 + next }, batch);
        expect(row?.updatedAt).toBe(T0 + next);
        next += size;
      }
      expect(await current().readJournal('r1')).toEqual(awkwardEntries(1, next - 1));
    });

    it('appends after entries already in the journal', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 2));
      await current().updateRun('r1', { epoch }, { status: 'success', updatedAt: T0 + 3 }, [entry(3, 'run-end')]);
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 2, 3]);
    });

    it('inserts no entries when a condition fails', async () => {
      await current().createRun(newRun('r1'));
      const row = await current().updateRun(
        'r1',
        { status: ['running'] },
        { status: 'success', updatedAt: T0 + 1 },
        entries(1, 2),
      );
      expect(row).toBeNull();
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('rejects entries whose seq does not follow the journal and changes nothing', async () => {
      const claimed = await claimRun(current(), 'r1');
      await current().appendJournal('r1', claimed.epoch, entries(1, 2));
      await expectWeftError(
        current().updateRun('r1', {}, { status: 'success', updatedAt: T0 + 9, bumpEpoch: true }, [entry(2), entry(3)]),
        'STORAGE_ERROR',
      );
      expect(await current().getRun('r1')).toEqual(claimed);
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 2]);
    });

    it('rejects malformed entries with INVALID_ARGUMENT and changes nothing', async () => {
      const claimed = await claimRun(current(), 'r1');
      const bad = { ...entry(1), data: 42 } as unknown as JournalEntry;
      await expectWeftError(
        current().updateRun('r1', {}, { status: 'success', updatedAt: T0 + 9 }, [bad]),
        'INVALID_ARGUMENT',
      );
      expect(await current().getRun('r1')).toEqual(claimed);
      expect(await current().readJournal('r1')).toEqual([]);
    });
  });
}
