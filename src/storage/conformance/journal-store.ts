// Conformance of appendJournal and readJournal: fencing by epoch, seq order, reading after a seq.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../types.js';
import type { CurrentStorage } from './fixtures.js';
import { awkwardEntries, claimRun, entries, entry, expectWeftError, seqs } from './fixtures.js';

/** Registers the tests of appending to and reading the journal. */
export function describeJournalStore(current: CurrentStorage): void {
  describe('appendJournal', () => {
    it('appends entries that readJournal returns as given', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const batch = [entry(1, 'run-start', '{"input":1}'), entry(2, 'step-start'), entry(3, 'step-end')];
      await current().appendJournal('r1', epoch, batch);
      expect(await current().readJournal('r1')).toEqual(batch);
    });

    it('stores appends of 1 to 10 entries and of 40, with their text exactly', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 40];
      let next = 1;
      for (const size of sizes) {
        await current().appendJournal('r1', epoch, awkwardEntries(next, next + size - 1));
        next += size;
      }
      expect(await current().readJournal('r1')).toEqual(awkwardEntries(1, next - 1));
    });

    it('appends successive batches after each other', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 2));
      await current().appendJournal('r1', epoch, entries(3, 5));
      expect(await current().readJournal('r1')).toEqual(entries(1, 5));
    });

    it('accepts seqs with gaps as long as they increase', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, [entry(1), entry(4)]);
      await current().appendJournal('r1', epoch, [entry(10)]);
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 4, 10]);
    });

    it('accepts an empty batch from the owner', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, []);
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('rejects a stale epoch with RUN_OWNERSHIP_LOST and appends nothing', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 1));
      const error = await expectWeftError(
        current().appendJournal('r1', epoch - 1, entries(2, 3)),
        'RUN_OWNERSHIP_LOST',
      );
      expect(error.runId).toBe('r1');
      expect(error.message).toContain('"r1"');
      expect(seqs(await current().readJournal('r1'))).toEqual([1]);
    });

    it('rejects an epoch from the future with RUN_OWNERSHIP_LOST', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await expectWeftError(current().appendJournal('r1', epoch + 1, [entry(1)]), 'RUN_OWNERSHIP_LOST');
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('rejects an append to an unknown run with RUN_OWNERSHIP_LOST', async () => {
      await expectWeftError(current().appendJournal('missing', 0, [entry(1)]), 'RUN_OWNERSHIP_LOST');
      expect(await current().readJournal('missing')).toEqual([]);
    });

    it('rejects a duplicate seq and appends nothing of the batch', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 2));
      await expectWeftError(current().appendJournal('r1', epoch, [entry(2), entry(3)]), 'STORAGE_ERROR');
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 2]);
    });

    it('rejects a seq below the last one even when it is not a duplicate', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, [entry(1), entry(5)]);
      await expectWeftError(current().appendJournal('r1', epoch, [entry(3)]), 'STORAGE_ERROR');
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 5]);
    });

    it('rejects a batch whose own seqs do not increase and appends none of it', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await expectWeftError(current().appendJournal('r1', epoch, [entry(1), entry(3), entry(2)]), 'STORAGE_ERROR');
      await expectWeftError(current().appendJournal('r1', epoch, [entry(1), entry(1)]), 'STORAGE_ERROR');
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('rejects seq 0, since seqs start above 0', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await expectWeftError(current().appendJournal('r1', epoch, [entry(0)]), 'STORAGE_ERROR');
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('rejects an entry whose data is not JSON text with INVALID_ARGUMENT and appends none of the batch', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const bad = { ...entry(2), data: { not: 'text' } } as unknown as JournalEntry;
      const error = await expectWeftError(current().appendJournal('r1', epoch, [entry(1), bad]), 'INVALID_ARGUMENT');
      expect(error.message).toContain('"r1"');
      expect(await current().readJournal('r1')).toEqual([]);
    });

    it('keeps the journals of different runs apart', async () => {
      const a = await claimRun(current(), 'a');
      const b = await claimRun(current(), 'b');
      await current().appendJournal('a', a.epoch, entries(1, 3));
      await current().appendJournal('b', b.epoch, entries(1, 2));
      expect(await current().readJournal('a')).toEqual(entries(1, 3));
      expect(await current().readJournal('b')).toEqual(entries(1, 2));
    });

    it('applies appends of one run issued without awaiting in the order they were issued', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await Promise.all([1, 2, 3, 4, 5].map((seq) => current().appendJournal('r1', epoch, [entry(seq)])));
      expect(seqs(await current().readJournal('r1'))).toEqual([1, 2, 3, 4, 5]);
    });

    it('stores a copy: changing an entry object after the append changes nothing stored', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const mutable = entry(1);
      await current().appendJournal('r1', epoch, [mutable]);
      mutable.data = '"changed"';
      const [read] = await current().readJournal('r1');
      read!.data = '"changed too"';
      expect(await current().readJournal('r1')).toEqual([entry(1)]);
    });
  });

  describe('readJournal', () => {
    it('returns an empty list for a run without entries or an unknown run', async () => {
      await claimRun(current(), 'r1');
      expect(await current().readJournal('r1')).toEqual([]);
      expect(await current().readJournal('missing')).toEqual([]);
    });

    it('returns only entries after afterSeq, in order', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 6));
      expect(seqs(await current().readJournal('r1', { afterSeq: 3 }))).toEqual([4, 5, 6]);
      expect(seqs(await current().readJournal('r1', { afterSeq: 0 }))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await current().readJournal('r1', { afterSeq: 6 })).toEqual([]);
    });

    it('skips gaps correctly when reading after a seq that is not stored', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, [entry(2), entry(4), entry(6)]);
      expect(seqs(await current().readJournal('r1', { afterSeq: 3 }))).toEqual([4, 6]);
    });

    it('returns at most limit entries, the first ones', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, entries(1, 6));
      expect(seqs(await current().readJournal('r1', { limit: 2 }))).toEqual([1, 2]);
      expect(seqs(await current().readJournal('r1', { afterSeq: 2, limit: 3 }))).toEqual([3, 4, 5]);
      expect(seqs(await current().readJournal('r1', { afterSeq: 5, limit: 10 }))).toEqual([6]);
    });

    it('returns entries in seq order after many single-entry appends', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      for (let seq = 1; seq <= 12; seq++) await current().appendJournal('r1', epoch, [entry(seq)]);
      expect(seqs(await current().readJournal('r1'))).toEqual(seqs(entries(1, 12)));
    });
  });
}
