// Conformance of schedules: declared rows kept in step with the code, and fires claimed exactly once.
import { describe, expect, it } from 'vitest';
import type { ScheduleDefinition, WeftStorage } from '../types.js';
import type { CurrentStorage } from './fixtures.js';
import { T0 } from './fixtures.js';

const SECOND = 1000;

function definition(scheduleId: string, fields: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  return {
    scheduleId,
    workflowId: 'wf',
    cron: '* * * * * *',
    timezone: null,
    spec: JSON.stringify({ inputData: { n: 1 } }),
    nextFireAt: T0 + SECOND,
    ...fields,
  };
}

/** Claims the fire at `fireAt` of a schedule whose next fire is `fireAt`, moving it a second on. */
function claimCronFire(storage: WeftStorage, scheduleId: string, fireAt: number): Promise<boolean> {
  return storage.claimScheduleFire({
    scheduleId,
    advance: { from: fireAt, to: fireAt + SECOND },
    fire: { fireAt, runId: `sched_${scheduleId}_${fireAt}`, manual: false },
    at: fireAt + 5,
  });
}

/** Registers the tests of the schedule operations. */
export function describeScheduleStore(current: CurrentStorage): void {
  describe('syncSchedules', () => {
    it('stores declared schedules, listed by id and by workflow', async () => {
      await current().syncSchedules(['wf', 'other'], [definition('b'), definition('a', { workflowId: 'other' })], T0);
      const all = await current().listSchedules();
      expect(all.map((s) => s.scheduleId)).toEqual(['a', 'b']);
      expect(all[1]).toEqual({
        scheduleId: 'b',
        workflowId: 'wf',
        cron: '* * * * * *',
        timezone: null,
        spec: JSON.stringify({ inputData: { n: 1 } }),
        paused: false,
        nextFireAt: T0 + SECOND,
        lastFireAt: null,
        lastRunId: null,
        createdAt: T0,
        updatedAt: T0,
      });
      expect((await current().listSchedules({ workflowId: 'other' })).map((s) => s.scheduleId)).toEqual(['a']);
      expect(await current().getSchedule('b')).toEqual(all[1]);
      expect(await current().getSchedule('missing')).toBeNull();
    });

    it('keeps the next fire, paused flag and last fire when the cron is unchanged, and updates the spec', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      expect(await claimCronFire(current(), 's', T0 + SECOND)).toBe(true);
      await current().setSchedulePaused('s', true, null, T0 + 10);
      await current().syncSchedules(
        ['wf'],
        [definition('s', { spec: '{"v":2}', nextFireAt: T0 + 99 * SECOND })],
        T0 + 20,
      );
      const row = await current().getSchedule('s');
      expect(row).toMatchObject({
        spec: '{"v":2}',
        paused: true,
        nextFireAt: T0 + 2 * SECOND,
        lastFireAt: T0 + SECOND,
      });
      expect(row?.createdAt).toBe(T0);
      expect(row?.updatedAt).toBe(T0 + 20);
    });

    it('takes the new next fire when the cron or the timezone changed, keeping the history', async () => {
      await current().syncSchedules(['wf'], [definition('s'), definition('t')], T0);
      await claimCronFire(current(), 's', T0 + SECOND);
      await current().syncSchedules(
        ['wf'],
        [
          definition('s', { cron: '*/5 * * * * *', nextFireAt: T0 + 5 * SECOND }),
          definition('t', { timezone: 'Europe/Paris', nextFireAt: T0 + 7 * SECOND }),
        ],
        T0 + 2,
      );
      expect(await current().getSchedule('s')).toMatchObject({
        cron: '*/5 * * * * *',
        nextFireAt: T0 + 5 * SECOND,
        lastFireAt: T0 + SECOND,
      });
      expect(await current().getSchedule('t')).toMatchObject({ timezone: 'Europe/Paris', nextFireAt: T0 + 7 * SECOND });
      expect((await current().listScheduleFires('s', 10)).map((f) => f.fireAt)).toEqual([T0 + SECOND]);
    });

    it('deletes the schedules of the given workflows that are no longer declared, and only those', async () => {
      await current().syncSchedules(
        ['wf', 'other'],
        [definition('kept'), definition('gone'), definition('elsewhere', { workflowId: 'other' })],
        T0,
      );
      await claimCronFire(current(), 'gone', T0 + SECOND);
      await current().syncSchedules(['wf'], [definition('kept')], T0 + 1);
      expect((await current().listSchedules()).map((s) => s.scheduleId)).toEqual(['elsewhere', 'kept']);
      // Its runs stay listed by its id.
      const listed = await current().listRuns({ scheduleId: 'gone' });
      expect(listed.runs.map((r) => r.runId)).toEqual([`sched_gone_${T0 + SECOND}`]);
    });

    it('with no schedules declared, deletes every schedule of the given workflows', async () => {
      await current().syncSchedules(['wf'], [definition('a'), definition('b')], T0);
      await current().syncSchedules(['wf'], [], T0 + 1);
      expect(await current().listSchedules()).toEqual([]);
    });
  });

  describe('claimScheduleFire', () => {
    it('moves the next fire, records the fire and creates its run, pending, in one claim', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      expect(await claimCronFire(current(), 's', T0 + SECOND)).toBe(true);
      expect(await current().getSchedule('s')).toMatchObject({
        nextFireAt: T0 + 2 * SECOND,
        lastFireAt: T0 + SECOND,
        lastRunId: `sched_s_${T0 + SECOND}`,
      });
      const run = await current().getRun(`sched_s_${T0 + SECOND}`);
      expect(run).toMatchObject({ workflowId: 'wf', status: 'pending', epoch: 0, createdAt: T0 + SECOND + 5 });
      expect(await current().listScheduleFires('s', 10)).toEqual([
        {
          scheduleId: 's',
          fireAt: T0 + SECOND,
          runId: `sched_s_${T0 + SECOND}`,
          manual: false,
          claimedAt: T0 + SECOND + 5,
          runStatus: 'pending',
        },
      ]);
    });

    it('refuses a second claim of the same fire, changing nothing', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      expect(await claimCronFire(current(), 's', T0 + SECOND)).toBe(true);
      const before = await current().getSchedule('s');
      expect(await claimCronFire(current(), 's', T0 + SECOND)).toBe(false);
      expect(await current().getSchedule('s')).toEqual(before);
      expect(await current().listScheduleFires('s', 10)).toHaveLength(1);
    });

    it('gives one fire to exactly one of many concurrent claims', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => claimCronFire(current(), 's', T0 + SECOND)));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await current().listScheduleFires('s', 10)).toHaveLength(1);
    });

    it('advances without a fire when the fires passed are skipped', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      expect(
        await current().claimScheduleFire({
          scheduleId: 's',
          advance: { from: T0 + SECOND, to: T0 + 9 * SECOND },
          at: T0 + 2,
        }),
      ).toBe(true);
      expect(await current().getSchedule('s')).toMatchObject({ nextFireAt: T0 + 9 * SECOND, lastFireAt: null });
      expect(await current().listScheduleFires('s', 10)).toEqual([]);
    });

    it('refuses an advance of a paused schedule, but records a manual fire', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      await current().setSchedulePaused('s', true, null, T0 + 1);
      expect(await claimCronFire(current(), 's', T0 + SECOND)).toBe(false);
      const manual = { fireAt: T0 + 500, runId: `sched_s_${T0 + 500}`, manual: true };
      expect(await current().claimScheduleFire({ scheduleId: 's', fire: manual, at: T0 + 500 })).toBe(true);
      expect(await current().claimScheduleFire({ scheduleId: 's', fire: manual, at: T0 + 501 })).toBe(false);
      expect(await current().getSchedule('s')).toMatchObject({ nextFireAt: T0 + SECOND, lastRunId: manual.runId });
      expect((await current().listScheduleFires('s', 10))[0]).toMatchObject({ manual: true, runStatus: 'pending' });
    });

    it('refuses a claim on a schedule that does not exist', async () => {
      expect(await claimCronFire(current(), 'missing', T0 + SECOND)).toBe(false);
      expect(await current().getRun(`sched_missing_${T0 + SECOND}`)).toBeNull();
    });
  });

  describe('pause, resume, delete and fires', () => {
    it('pauses keeping the next fire, and resumes with the next fire given', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      expect(await current().setSchedulePaused('s', true, T0 + 77, T0 + 1)).toMatchObject({
        paused: true,
        nextFireAt: T0 + SECOND,
      });
      expect(await current().setSchedulePaused('s', false, T0 + 60 * SECOND, T0 + 2)).toMatchObject({
        paused: false,
        nextFireAt: T0 + 60 * SECOND,
        updatedAt: T0 + 2,
      });
      expect(await current().setSchedulePaused('missing', true, null, T0)).toBeNull();
    });

    it('deletes a schedule, keeping its fires and runs', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      await claimCronFire(current(), 's', T0 + SECOND);
      expect(await current().deleteSchedule('s')).toBe(true);
      expect(await current().deleteSchedule('s')).toBe(false);
      expect(await current().getSchedule('s')).toBeNull();
      expect(await current().listScheduleFires('s', 10)).toHaveLength(1);
    });

    it('lists fires newest first, at most the limit, with the status of their runs', async () => {
      await current().syncSchedules(['wf'], [definition('s')], T0);
      for (let i = 1; i <= 3; i++) await claimCronFire(current(), 's', T0 + i * SECOND);
      await current().deleteRun(`sched_s_${T0 + 3 * SECOND}`);
      await current().updateRun(`sched_s_${T0 + 2 * SECOND}`, {}, { status: 'success', updatedAt: T0 + 9 });
      const fires = await current().listScheduleFires('s', 2);
      expect(fires.map((f) => [f.fireAt, f.runStatus])).toEqual([
        [T0 + 3 * SECOND, null],
        [T0 + 2 * SECOND, 'success'],
      ]);
    });

    it('lists runs by schedule id', async () => {
      await current().syncSchedules(['wf'], [definition('s'), definition('s2')], T0);
      await claimCronFire(current(), 's', T0 + SECOND);
      await claimCronFire(current(), 's', T0 + 2 * SECOND);
      await claimCronFire(current(), 's2', T0 + SECOND);
      await current().createRun({ runId: 'plain', workflowId: 'wf', resourceId: null, createdAt: T0 });
      const { runs, total } = await current().listRuns({ scheduleId: 's' });
      expect(total).toBe(2);
      expect(runs.map((r) => r.runId).sort()).toEqual([`sched_s_${T0 + SECOND}`, `sched_s_${T0 + 2 * SECOND}`]);
      expect((await current().listRuns({ scheduleId: 's', workflowId: 'other' })).total).toBe(0);
    });
  });
}
