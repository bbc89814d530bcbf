// Scheduled workflows in real time, on crons firing every second: results, failures, overlap and
// catchup policies, and the operations (pause, resume, trigger, delete, code changes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, createStep, createWorkflow, type WorkflowScheduleConfig } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { pause, until } from './support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-schedules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const sqlite = (): SqliteStorage => new SqliteStorage({ path: join(dir, `s${++files}.db`) });

const EVERY_SECOND = '* * * * * *';
const TICK = { tickIntervalMs: 100 };

/**
 * A workflow `id` on `schedule` whose one step waits `ms`, then returns `{ n: n + 1 }` or throws when `fail`;
 * with `onStart`, that is the workflow's `onStart`.
 */
function scheduled(
  id: string,
  schedule: Partial<WorkflowScheduleConfig<{ n: number }>> | undefined,
  options: { ms?: number; fail?: boolean; onStart?: (info: { runId: string }) => Promise<void> } = {},
) {
  const step = createStep({
    id: 'work',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    execute: async ({ inputData }) => {
      if (options.ms) await pause(options.ms);
      if (options.fail) throw new Error(`boom ${inputData.n}`);
      return { n: inputData.n + 1 };
    },
  });
  return createWorkflow({
    id,
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    ...(schedule ? { schedule: { cron: EVERY_SECOND, inputData: { n: 1 }, ...schedule } } : {}),
    ...(options.onStart ? { options: { onStart: options.onStart } } : {}),
  })
    .then(step)
    .commit();
}

/** The workflow `slow-start` on `cron` whose onStart records the run in `started`, then takes `onStartMs`. */
function slowStartWorkflow(overlap: 'allow' | 'queue', onStartMs: number, started: string[], cron = EVERY_SECOND) {
  return scheduled(
    'slow-start',
    { cron, overlap },
    {
      onStart: async ({ runId }) => {
        started.push(runId);
        await pause(onStartMs);
      },
    },
  );
}

/** The runs of a schedule, oldest fire first, with their fire times and stored views. */
async function runsOf(weft: Weft, scheduleId: string) {
  const { runs } = await weft.listRuns({ scheduleId });
  const views = await Promise.all(runs.map((r) => weft.getRun(r.runId)));
  return views
    .map((view) => ({ view: view!, fireAt: Number(view!.runId.split('_').pop()) }))
    .sort((a, b) => a.fireAt - b.fireAt);
}

async function untilRuns(weft: Weft, scheduleId: string, status: string, count: number, timeoutMs = 15_000) {
  await until(
    async () => (await weft.listRuns({ scheduleId, status: status as 'success' })).total >= count,
    `${count} ${status} runs of ${scheduleId}`,
    timeoutMs,
    50,
  );
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

describe.concurrent('scheduled runs', () => {
  it('are ordinary stored runs whose result is the workflow output, listed with their schedule id', async () => {
    const wf = scheduled('plain', {});
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage(), scheduler: TICK });
    try {
      await untilRuns(weft, 'wf_plain', 'success', 2);
      const runs = await runsOf(weft, 'wf_plain');
      expect(runs[0]!.view.runId).toBe(`sched_wf_plain_${runs[0]!.fireAt}`);
      expect(runs[0]!.fireAt % 1000).toBe(0);
      expect(runs[0]!.view.result).toEqual({ n: 2 });
      expect(runs[0]!.view.steps.work!.payload).toEqual({ n: 1 });
      const listed = await weft.listRuns({ workflowId: 'plain' });
      expect(listed.runs.every((r) => r.scheduleId === 'wf_plain')).toBe(true);
      // The workflow stays directly callable (Mastra's start() hangs until its workers start).
      const run = await wf.createRun();
      expect(await run.start({ inputData: { n: 10 } })).toMatchObject({ status: 'success', result: { n: 11 } });
      const all = await weft.listRuns({ workflowId: 'plain' });
      expect(all.runs.find((r) => r.runId === run.runId)?.scheduleId).toBeUndefined();
      expect((await weft.listRuns({ scheduleId: 'wf_plain' })).runs.map((r) => r.runId)).not.toContain(run.runId);
    } finally {
      await weft.close();
    }
  });

  it('go on firing after a scheduled run fails', async () => {
    const wf = scheduled('failing', {}, { fail: true });
    const weft = new Weft({ workflows: { wf }, storage: sqlite(), scheduler: TICK });
    try {
      await untilRuns(weft, 'wf_failing', 'failed', 3);
      const runs = await runsOf(weft, 'wf_failing');
      expect(gaps(runs.map((r) => r.fireAt)).every((gap) => gap === 1000)).toBe(true);
      expect(runs[0]!.view.status).toBe('failed');
      expect(runs[0]!.view.error).toMatchObject({ message: 'boom 1' });
    } finally {
      await weft.close();
    }
  });

  it("with overlap 'skip', record no run for fires that come while the previous run is active", async () => {
    const wf = scheduled('skipping', { overlap: 'skip' }, { ms: 2200 });
    const weft = new Weft({ workflows: { wf }, storage: sqlite(), scheduler: TICK });
    try {
      await untilRuns(weft, 'wf_skipping', 'success', 2);
      const runs = await runsOf(weft, 'wf_skipping');
      // Runs 2.2 s long on a 1 s cron: at least the two fires during each run are skipped.
      expect(gaps(runs.map((r) => r.fireAt)).every((gap) => gap >= 3000 && gap % 1000 === 0)).toBe(true);
      const [first, second] = runs.map((r) => r.view);
      expect(second!.createdAt.getTime()).toBeGreaterThanOrEqual(first!.updatedAt.getTime());
    } finally {
      await weft.close();
    }
  });

  it("with overlap 'queue', start every fire, one run at a time, in order", async () => {
    const wf = scheduled('queueing', { overlap: 'queue' }, { ms: 1400 });
    const weft = new Weft({ workflows: { wf }, storage: sqlite(), scheduler: TICK });
    try {
      await untilRuns(weft, 'wf_queueing', 'success', 3);
      const runs = await runsOf(weft, 'wf_queueing');
      expect(gaps(runs.map((r) => r.fireAt)).every((gap) => gap === 1000)).toBe(true);
      const done = runs.filter((r) => r.view.status === 'success').map((r) => r.view.steps.work!);
      for (let i = 1; i < done.length; i++) expect(done[i]!.startedAt).toBeGreaterThanOrEqual(done[i - 1]!.endedAt!);
      expect(runs.some((r) => r.view.status === 'pending')).toBe(true);
    } finally {
      await weft.close();
    }
  });

  it.each([
    { overlap: 'allow' as const, onStartMs: 2500, when: 'when it outlasts the claimer grace (1 s)' },
    {
      overlap: 'queue' as const,
      onStartMs: 400,
      when: "with overlap 'queue', where any instance may start the next fire",
    },
  ])(
    'call onStart once per fire $when: another instance leaves a start in progress alone',
    async ({ overlap, onStartMs }) => {
      const path = join(dir, `s${++files}.db`);
      const started: string[] = [];
      const slowStart = () => slowStartWorkflow(overlap, onStartMs, started);
      const instances = [0, 1].map(
        () => new Weft({ workflows: { wf: slowStart() }, storage: new SqliteStorage({ path }), scheduler: TICK }),
      );
      try {
        await untilRuns(instances[0]!, 'wf_slow-start', 'success', overlap === 'queue' ? 4 : 2);
        // No more fires; the starts in progress end before the instances close.
        await instances[0]!.schedules.pause('wf_slow-start');
        await until(
          async () =>
            (await instances[0]!.listRuns({ scheduleId: 'wf_slow-start' })).runs.every((r) => r.status === 'success'),
          'the starts in progress to end',
          15_000,
          50,
        );
      } finally {
        await Promise.all(instances.map((weft) => weft.close()));
      }
      expect(started.length).toBeGreaterThanOrEqual(2);
      expect(started.filter((runId, i) => started.indexOf(runId) !== i)).toEqual([]);
    },
  );

  it('call onStart once for a fire triggered by an instance without a scheduler while another one fires the schedule', async () => {
    const path = join(dir, `s${++files}.db`);
    const started: string[] = [];
    const wf = () => slowStartWorkflow('queue', 2500, started, '0 0 0 1 1 *');
    const firing = new Weft({ workflows: { wf: wf() }, storage: new SqliteStorage({ path }), scheduler: TICK });
    const triggering = new Weft({ workflows: { wf: wf() }, storage: new SqliteStorage({ path }), scheduler: false });
    try {
      await triggering.schedules.sync();
      firing.schedules.start();
      // The fire is started where it was triggered; the other instance sees the start in progress.
      const { runId, startedHere } = await triggering.schedules.trigger('wf_slow-start');
      expect(startedHere).toBe(true);
      await until(async () => (await firing.getRun(runId))?.status === 'success', 'the triggered run', 15_000, 50);
      expect(started).toEqual([runId]);
    } finally {
      await Promise.all([firing.close(), triggering.close()]);
    }
  });

  it('take a changed inputData, stored by another process, from their next fire on: the running scheduler is not restarted', async () => {
    const path = join(dir, `s${++files}.db`);
    const running = new Weft({
      workflows: { wf: scheduled('changing', { inputData: { n: 1 } }) },
      storage: new SqliteStorage({ path }),
      scheduler: TICK,
    });
    try {
      await untilRuns(running, 'wf_changing', 'success', 1);
      // A new version of the code stores its declaration (as `weft schedules` does) and exits.
      const deployed = new Weft({
        workflows: { wf: scheduled('changing', { inputData: { n: 10 } }) },
        storage: new SqliteStorage({ path }),
        scheduler: false,
      });
      await deployed.schedules.sync();
      await deployed.close();
      const syncedAt = Date.now();
      await until(
        async () => (await runsOf(running, 'wf_changing')).some((r) => r.fireAt > syncedAt + 1000 && r.view.result),
        'a fire after the change',
        10_000,
        50,
      );
      const later = (await runsOf(running, 'wf_changing')).filter((r) => r.fireAt > syncedAt + 1000 && r.view.result);
      expect(later.map((r) => r.view.result)).toEqual(later.map(() => ({ n: 11 })));
    } finally {
      await running.close();
    }
  });

  it("with overlap 'allow', start a fire while the previous run is active", async () => {
    const wf = scheduled('allowing', { overlap: 'allow' }, { ms: 2200 });
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage(), scheduler: TICK });
    try {
      await until(
        async () => (await weft.listRuns({ scheduleId: 'wf_allowing', status: 'running' })).total >= 2,
        'two runs at once',
        8000,
        50,
      );
    } finally {
      await weft.close();
    }
  });
});

/**
 * Fires `schedule` until one run succeeded, closes the instance, waits `downMs`, opens another on the
 * same file and waits for the fires after that; returns the fire times of the runs, and the downtime.
 */
async function downtime(id: string, schedule: Partial<WorkflowScheduleConfig<{ n: number }>>, downMs: number) {
  const path = join(dir, `${id}.db`);
  const wf = scheduled(id, schedule);
  const before = new Weft({ workflows: { wf }, storage: new SqliteStorage({ path }), scheduler: TICK });
  await untilRuns(before, `wf_${id}`, 'success', 1);
  await before.close();
  const downFrom = Date.now();
  await pause(downMs);
  const downTo = Date.now();
  const after = new Weft({
    workflows: { wf: scheduled(id, schedule) },
    storage: new SqliteStorage({ path }),
    scheduler: TICK,
  });
  try {
    await until(
      async () =>
        (await runsOf(after, `wf_${id}`)).some((r) => r.fireAt > downTo + 1000 && r.view.status === 'success'),
      `a fire after the downtime of ${id}`,
      10_000,
      50,
    );
    const times = (await runsOf(after, `wf_${id}`)).map((r) => r.fireAt);
    return { times, missed: (t: number) => t > downFrom && t < downTo - 1000 };
  } finally {
    await after.close();
  }
}

describe.concurrent('fires missed while no scheduler ran', () => {
  it("with catchup 'all', are each made up once after 5 s down", async () => {
    const { times, missed } = await downtime('catchup-all', { catchup: 'all', overlap: 'allow' }, 5000);
    expect(times.filter(missed).length).toBeGreaterThanOrEqual(3);
    expect(gaps(times).every((gap) => gap === 1000)).toBe(true);
  });

  it("with catchup 'none', are dropped", async () => {
    const { times, missed } = await downtime('catchup-none', { catchup: 'none' }, 3500);
    expect(times.filter(missed)).toHaveLength(0);
    expect(Math.max(...gaps(times))).toBeGreaterThanOrEqual(3000);
  });
});

describe('a long outage', () => {
  it("with catchup 'latest' (the default), makes one fire, the newest, however many fires were missed", async () => {
    // A clock moved 250 s on: more fires are due than one tick reads (100).
    let offset = 0;
    const clock = {
      now: () => Date.now() + offset,
      sleep: (ms: number) => pause(ms),
    };
    const storage = new MemoryStorage();
    const before = new Weft({ workflows: { wf: scheduled('outage', {}) }, storage, scheduler: false, clock });
    await before.schedules.sync();
    await before.close();
    offset = 250_000;
    const after = new Weft({ workflows: { wf: scheduled('outage', {}) }, storage, scheduler: TICK, clock });
    try {
      await untilRuns(after, 'wf_outage', 'success', 1);
      await pause(500);
      const runs = await runsOf(after, 'wf_outage');
      const now = clock.now();
      // The newest missed fire, and perhaps the next on time: none from the first batches of the outage.
      expect(runs.length).toBeGreaterThanOrEqual(1);
      expect(runs.every((r) => now - r.fireAt < 5_000)).toBe(true);
    } finally {
      await after.close();
    }
  });
});

describe.concurrent('schedule operations', () => {
  it('pause stops the fires, trigger fires now even when paused, resume fires again without making up', async () => {
    const wf = scheduled('operated', {});
    const weft = new Weft({ workflows: { wf }, storage: sqlite(), scheduler: TICK });
    try {
      await untilRuns(weft, 'wf_operated', 'success', 1);
      const paused = await weft.schedules.pause('wf_operated');
      expect(paused.paused).toBe(true);
      await pause(300);
      const count = (await weft.listRuns({ scheduleId: 'wf_operated' })).total;
      await pause(1600);
      expect((await weft.listRuns({ scheduleId: 'wf_operated' })).total).toBe(count);
      const { runId } = await weft.schedules.trigger('wf_operated');
      expect(runId).toMatch(/^sched_wf_operated_\d+$/);
      await until(async () => (await weft.getRun(runId))?.status === 'success', 'the triggered run');
      const [listed] = await weft.schedules.list();
      expect(listed).toMatchObject({ scheduleId: 'wf_operated', paused: true, lastRunId: runId });
      expect(listed!.recentRuns[0]).toMatchObject({ runId, manual: true, status: 'success' });
      const resumed = await weft.schedules.resume('wf_operated');
      expect(resumed.paused).toBe(false);
      expect(resumed.nextFireAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
      await until(
        async () => (await weft.listRuns({ scheduleId: 'wf_operated' })).total >= count + 2,
        'a fire after resume',
      );
      // Nothing made up for the paused time: the fire after resume is its first since.
      expect((await weft.listRuns({ scheduleId: 'wf_operated' })).total).toBeLessThanOrEqual(count + 3);
      await expect(weft.schedules.pause('wf_nope')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    } finally {
      await weft.close();
    }
  });

  it('a schedule removed from the code stops firing; a changed cron takes effect and keeps the history', async () => {
    const path = join(dir, 'evolving.db');
    const first = new Weft({
      workflows: { wf: scheduled('evolving', {}) },
      storage: new SqliteStorage({ path }),
      scheduler: TICK,
    });
    await untilRuns(first, 'wf_evolving', 'success', 1);
    await first.close();
    const reopened = (schedule: Partial<WorkflowScheduleConfig<{ n: number }>> | undefined): Weft =>
      new Weft({
        workflows: { wf: scheduled('evolving', schedule) },
        storage: new SqliteStorage({ path }),
        scheduler: TICK,
      });
    const changed = reopened({ cron: '*/2 * * * * *' });
    try {
      await until(async () => (await changed.schedules.list())[0]?.cron === '*/2 * * * * *', 'the new cron stored');
      const before = (await changed.listRuns({ scheduleId: 'wf_evolving' })).total;
      await until(
        async () => (await changed.listRuns({ scheduleId: 'wf_evolving' })).total >= before + 2,
        'two fires of the new cron',
        8000,
        50,
      );
      const times = (await runsOf(changed, 'wf_evolving')).map((r) => r.fireAt);
      expect(times.slice(before).every((t) => (t / 1000) % 2 === 0)).toBe(true);
      expect(times.length).toBeGreaterThan(before);
    } finally {
      await changed.close();
    }
    const removed = new Weft({
      workflows: { wf: scheduled('evolving', undefined), other: scheduled('other', {}) },
      storage: new SqliteStorage({ path }),
      scheduler: TICK,
    });
    try {
      await until(
        async () => (await removed.schedules.list()).every((s) => s.workflowId !== 'evolving'),
        'the row deleted',
      );
      const count = (await removed.listRuns({ scheduleId: 'wf_evolving' })).total;
      expect(count).toBeGreaterThan(0);
      await pause(1500);
      expect((await removed.listRuns({ scheduleId: 'wf_evolving' })).total).toBe(count);
    } finally {
      await removed.close();
    }
  });

  it('fire nothing with scheduler: false, and delete a stored schedule', async () => {
    const storage = new MemoryStorage();
    const wf = scheduled('quiet', {});
    const weft = new Weft({ workflows: { wf }, storage, scheduler: false });
    try {
      await pause(1500);
      expect((await weft.listRuns()).total).toBe(0);
      expect(await weft.schedules.list()).toEqual([]);
      const firing = new Weft({ workflows: { wf: scheduled('quiet', {}) }, storage, scheduler: TICK });
      await untilRuns(firing, 'wf_quiet', 'success', 1);
      await firing.close();
      await weft.schedules.delete('wf_quiet');
      expect(await weft.schedules.list()).toEqual([]);
      await expect(weft.schedules.delete('wf_quiet')).rejects.toThrow('Schedule "wf_quiet" not found');
    } finally {
      await weft.close();
    }
  });
});
