// Conformance of pruneRuns: batches of old finished runs go with their journals; nothing else is touched.
import { describe, expect, it } from 'vitest';
import type { RunStatus, WeftStorage } from '../types.js';
import type { CurrentStorage } from './fixtures.js';
import { T0, claimRun, entries, expectWeftError, newRun } from './fixtures.js';

/** A run with a journal of three entries, moved to `status` at `updatedAt` (a `pending` one is only created). */
async function runIn(storage: WeftStorage, runId: string, status: RunStatus, updatedAt: number): Promise<void> {
  if (status === 'pending') {
    await storage.createRun(newRun(runId));
    return;
  }
  const claimed = await claimRun(storage, runId, { updatedAt: T0 });
  await storage.appendJournal(runId, claimed.epoch, entries(1, 3));
  await storage.updateRun(runId, {}, { status, updatedAt });
}

/** Registers the tests of pruning runs. */
export function describePruneRuns(current: CurrentStorage): void {
  describe('pruneRuns', () => {
    it('deletes finished runs of the given statuses changed before the time, with their journals', async () => {
      const s = current();
      await runIn(s, 'old-success', 'success', T0 + 10);
      await runIn(s, 'old-failed', 'failed', T0 + 10);
      await runIn(s, 'old-canceled', 'canceled', T0 + 10);
      await runIn(s, 'new-success', 'success', T0 + 1000);
      const deleted = await s.pruneRuns({ statuses: ['success', 'canceled'], updatedBefore: T0 + 500, limit: 100 });
      expect(deleted).toBe(2);
      expect(await s.getRun('old-success')).toBeNull();
      expect(await s.getRun('old-canceled')).toBeNull();
      expect(await s.readJournal('old-success')).toEqual([]);
      expect((await s.getRun('old-failed'))?.status).toBe('failed');
      expect(await s.readJournal('old-failed')).toHaveLength(3);
      expect((await s.getRun('new-success'))?.status).toBe('success');
      expect(await s.readJournal('new-success')).toHaveLength(3);
    });

    it('never touches pending, running, waiting, suspended or paused runs, however old', async () => {
      const s = current();
      const kept: RunStatus[] = ['pending', 'running', 'waiting', 'suspended', 'paused'];
      for (const status of kept) await runIn(s, `r-${status}`, status, T0 + 1);
      expect(
        await s.pruneRuns({ statuses: ['success', 'failed', 'canceled'], updatedBefore: T0 + 1e9, limit: 100 }),
      ).toBe(0);
      for (const status of kept) expect((await s.getRun(`r-${status}`))?.status).toBe(status);
      expect((await s.listRuns()).total).toBe(kept.length);
    });

    it('deletes the schedule fires of the runs it deletes, and keeps the fires of the runs it keeps', async () => {
      const s = current();
      const fireAt = (n: number): number => T0 + n * 1000;
      const runOf = (n: number): string => `sched_wf_a__b_7_${fireAt(n)}`;
      await s.syncSchedules(
        ['wf'],
        [
          {
            scheduleId: 'wf_a__b_7',
            workflowId: 'wf',
            cron: '* * * * * *',
            timezone: null,
            spec: '{}',
            nextFireAt: null,
          },
        ],
        T0,
      );
      for (const n of [1, 2, 3]) {
        expect(
          await s.claimScheduleFire({
            scheduleId: 'wf_a__b_7',
            fire: { fireAt: fireAt(n), runId: runOf(n), manual: true },
            at: T0,
          }),
        ).toBe(true);
      }
      for (const n of [1, 2]) await s.updateRun(runOf(n), {}, { status: 'success', updatedAt: T0 + 10 });
      await s.updateRun(runOf(3), {}, { status: 'success', updatedAt: T0 + 1000 });
      expect(await s.pruneRuns({ statuses: ['success'], updatedBefore: T0 + 500, limit: 100 })).toBe(2);
      const fires = await s.listScheduleFires('wf_a__b_7', 10);
      expect(fires.map((f) => [f.runId, f.runStatus])).toEqual([[runOf(3), 'success']]);
      expect((await s.listRuns({ scheduleId: 'wf_a__b_7' })).runs.map((r) => r.runId)).toEqual([runOf(3)]);
    });

    it('deletes at most `limit` runs per call, and the rest on the next calls', async () => {
      const s = current();
      for (let i = 0; i < 7; i++) await runIn(s, `r${i}`, 'success', T0 + 1);
      const filter = { statuses: ['success'] as RunStatus[], updatedBefore: T0 + 2, limit: 3 };
      expect(await s.pruneRuns(filter)).toBe(3);
      expect(await s.pruneRuns(filter)).toBe(3);
      expect(await s.pruneRuns(filter)).toBe(1);
      expect(await s.pruneRuns(filter)).toBe(0);
      expect((await s.listRuns()).total).toBe(0);
    });

    it('refuses statuses of runs that are not finished, and a limit below 1, deleting nothing', async () => {
      const s = current();
      await runIn(s, 'r1', 'suspended', T0 + 1);
      await runIn(s, 'r2', 'success', T0 + 1);
      const error = await expectWeftError(
        s.pruneRuns({ statuses: ['success', 'suspended'], updatedBefore: T0 + 5, limit: 10 }),
        'INVALID_ARGUMENT',
      );
      expect(error.message).toContain('"suspended"');
      await expectWeftError(
        s.pruneRuns({ statuses: ['success'], updatedBefore: T0 + 5, limit: 0 }),
        'INVALID_ARGUMENT',
      );
      expect((await s.listRuns()).total).toBe(2);
    });

    it('lets the id of a pruned run be used again, with a journal of its own', async () => {
      const s = current();
      await runIn(s, 'r1', 'success', T0 + 1);
      expect(await s.pruneRuns({ statuses: ['success'], updatedBefore: T0 + 5, limit: 10 })).toBe(1);
      const again = await claimRun(s, 'r1');
      await s.appendJournal('r1', again.epoch, entries(1, 1));
      expect((await s.readJournal('r1')).map((e) => e.seq)).toEqual([1]);
    });
  });
}
