// Conformance under concurrency: grouped appends of many runs, racing compare-and-sets, fencing inside a group.
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../errors.js';
import type { CurrentStorage } from './fixtures.js';
import { T0, claimRun, entries, entry, newRun, seqs } from './fixtures.js';

/** Registers the tests of concurrent calls. */
export function describeConcurrency(current: CurrentStorage): void {
  describe('concurrency', () => {
    it('lands every append of many runs issued at once', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `r${i}`);
      const epochs = await Promise.all(ids.map(async (id) => (await claimRun(current(), id)).epoch));
      await Promise.all(ids.map((id, i) => current().appendJournal(id, epochs[i]!, entries(1, 3))));
      await Promise.all(ids.map((id, i) => current().appendJournal(id, epochs[i]!, entries(4, 5))));
      for (const id of ids) expect(seqs(await current().readJournal(id))).toEqual([1, 2, 3, 4, 5]);
    });

    it('rejects only the fenced append among appends issued at once', async () => {
      const a = await claimRun(current(), 'a');
      const stale = await claimRun(current(), 'stale');
      const c = await claimRun(current(), 'c');
      await current().updateRun('stale', {}, { updatedAt: T0 + 2, bumpEpoch: true });
      const results = await Promise.allSettled([
        current().appendJournal('a', a.epoch, entries(1, 2)),
        current().appendJournal('stale', stale.epoch, entries(1, 2)),
        current().appendJournal('c', c.epoch, entries(1, 2)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const reason = (results[1] as PromiseRejectedResult).reason;
      expect(WeftError.is(reason, 'RUN_OWNERSHIP_LOST')).toBe(true);
      expect(seqs(await current().readJournal('a'))).toEqual([1, 2]);
      expect(await current().readJournal('stale')).toEqual([]);
      expect(seqs(await current().readJournal('c'))).toEqual([1, 2]);
    });

    it('rejects only the append with a bad seq among appends issued at once', async () => {
      const a = await claimRun(current(), 'a');
      const b = await claimRun(current(), 'b');
      await current().appendJournal('b', b.epoch, entries(1, 2));
      const results = await Promise.allSettled([
        current().appendJournal('a', a.epoch, entries(1, 2)),
        current().appendJournal('b', b.epoch, [entry(2)]),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect(seqs(await current().readJournal('a'))).toEqual([1, 2]);
      expect(seqs(await current().readJournal('b'))).toEqual([1, 2]);
    });

    it('lets exactly one of two concurrent compare-and-sets on a run win', async () => {
      await current().createRun(newRun('r1'));
      const [first, second] = await Promise.all([
        current().updateRun(
          'r1',
          { status: ['pending'] },
          { status: 'running', leaseOwner: 'a', updatedAt: T0 + 1, bumpEpoch: true },
          [entry(1, 'run-start', '"a"')],
        ),
        current().updateRun(
          'r1',
          { status: ['pending'] },
          { status: 'running', leaseOwner: 'b', updatedAt: T0 + 1, bumpEpoch: true },
          [entry(1, 'run-start', '"b"')],
        ),
      ]);
      const winners = [first, second].filter((row) => row !== null);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      expect(winner.epoch).toBe(1);
      expect(await current().getRun('r1')).toEqual(winner);
      const journal = await current().readJournal('r1');
      expect(journal).toHaveLength(1);
      expect(journal[0]?.data).toBe(JSON.stringify(winner.leaseOwner));
    });

    it('lets exactly one of many concurrent claims by epoch win', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const claims = Array.from({ length: 10 }, (_, i) =>
        current().updateRun('r1', { epoch }, { leaseOwner: `owner-${i}`, updatedAt: T0 + 2, bumpEpoch: true }),
      );
      const rows = await Promise.all(claims);
      expect(rows.filter((row) => row !== null)).toHaveLength(1);
      expect((await current().getRun('r1'))?.epoch).toBe(epoch + 1);
    });

    it('keeps an append and a takeover of the same run consistent: the append lands before or not at all', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const [append, takeover] = await Promise.allSettled([
        current().appendJournal('r1', epoch, entries(1, 2)),
        current().updateRun('r1', { epoch }, { leaseOwner: 'new-owner', updatedAt: T0 + 3, bumpEpoch: true }),
      ]);
      expect(takeover.status).toBe('fulfilled');
      const journal = await current().readJournal('r1');
      if (append.status === 'fulfilled') expect(seqs(journal)).toEqual([1, 2]);
      else expect(journal).toEqual([]);
      await expect(current().appendJournal('r1', epoch, [entry(3)])).rejects.toSatisfy((e) =>
        WeftError.is(e, 'RUN_OWNERSHIP_LOST'),
      );
    });
  });
}
