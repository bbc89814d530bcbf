// The retention scenario the SQLite and Postgres suites share: what is pruned, when, and what is kept.
import { z } from 'zod';
import { expect } from 'vitest';
import { createStep, createWorkflow, Weft, type ExecuteContext, type WeftStorage } from '../../src/index.js';
import { createManualClock } from '../../src/testing.js';
import { until } from '../support/wait.js';

const empty = z.object({});

/** Three small workflows: one that succeeds, one that fails, one that suspends. */
export function retentionWorkflows() {
  const step = (id: string, execute: (ctx: ExecuteContext) => Promise<unknown>) =>
    createStep({ id, inputSchema: empty, outputSchema: empty, execute });
  const flow = (id: string, s: ReturnType<typeof step>) =>
    createWorkflow({ id, inputSchema: empty, outputSchema: empty }).then(s).commit();
  return {
    ok: flow(
      'ok',
      step('fine', async () => ({})),
    ),
    broken: flow(
      'broken',
      step('throws', async () => {
        throw new Error('no');
      }),
    ),
    waiting: flow(
      'waiting',
      step('ask', async ({ suspend, resumeData }) => (resumeData ? {} : suspend({}))),
    ),
  };
}

const DAY = 86_400_000;

/**
 * Runs the retention scenario on `storage`: set once (`successAfter: '7d', failedAfter: '30d'`),
 * success runs go after 7 days, failed and canceled ones after 30, suspended ones never; their
 * journals go with them. Closes the instance.
 */
export async function checkRetentionSetOnce(storage: WeftStorage): Promise<void> {
  const clock = createManualClock();
  const wfs = retentionWorkflows();
  const weft = new Weft({
    workflows: wfs,
    storage,
    clock,
    recovery: false,
    retention: { successAfter: '7d', failedAfter: '30d', intervalMs: 20 },
  });
  try {
    await weft.init();
    const ids: Record<string, string[]> = { success: [], failed: [], suspended: [], canceled: [] };
    for (let i = 0; i < 3; i++) {
      const ok = await wfs.ok.createRun();
      expect((await ok.start({ inputData: {} })).status).toBe('success');
      ids.success!.push(ok.runId);
    }
    const broken = await wfs.broken.createRun();
    expect((await broken.start({ inputData: {} })).status).toBe('failed');
    ids.failed!.push(broken.runId);
    const waiting = await wfs.waiting.createRun();
    expect((await waiting.start({ inputData: {} })).status).toBe('suspended');
    ids.suspended!.push(waiting.runId);
    const canceled = await wfs.waiting.createRun();
    await canceled.start({ inputData: {} });
    await canceled.cancel();
    ids.canceled!.push(canceled.runId);

    const statuses = async (): Promise<string[]> => (await weft.listRuns()).runs.map((r) => r.status as string).sort();
    clock.advance(8 * DAY);
    const fresh = await wfs.ok.createRun();
    await fresh.start({ inputData: {} });
    await until(async () => (await weft.listRuns({ status: 'success' })).total === 1, 'the old success runs to go');
    expect(await statuses()).toEqual(['canceled', 'failed', 'success', 'suspended']);
    for (const runId of ids.success!) expect(await storage.readJournal(runId)).toEqual([]);

    clock.advance(23 * DAY);
    await until(
      async () => (await weft.listRuns()).total === 1,
      'the failed, canceled and 31-day-old success runs to go',
    );
    expect(await statuses()).toEqual(['suspended']);
    expect((await weft.getRun(waiting.runId))?.status).toBe('suspended');
    expect(await storage.readJournal(broken.runId)).toEqual([]);
    // The run kept is whole: it resumes and finishes.
    const resumed = await wfs.waiting.createRun({ runId: waiting.runId });
    expect((await resumed.resume({ resumeData: { go: true } })).status).toBe('success');
  } finally {
    await weft.close();
  }
}
