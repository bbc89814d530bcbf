// The ownership check renews leases, then stops the executions whose lease it lost. Its answer can
// arrive after the run it asked about suspended and was resumed here: the resume's new execution
// must not be stopped for the lease that the earlier one lost.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, createStep, createWorkflow } from '../../src/index.js';
import { until } from '../support/wait.js';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A memory store whose first lease renewal waits for `evaluate` before it reads the runs, and for
 * `answer` before it returns: a renewal query that reaches the database late and whose answer
 * comes back later still, as on a busy Postgres.
 */
class SlowRenewals extends MemoryStorage {
  readonly called = gate();
  readonly evaluate = gate();
  readonly evaluated = gate();
  readonly answer = gate();
  private first = true;

  override async renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]> {
    if (!this.first) return super.renewLeases(owner, runIds, expiresAt);
    this.first = false;
    this.called.open();
    await this.evaluate.promise;
    const kept = await super.renewLeases(owner, runIds, expiresAt);
    this.evaluated.open();
    await this.answer.promise;
    return kept;
  }
}

describe('the ownership check', () => {
  it('does not cancel the execution of a resume when the lease it lost was the suspended execution’s', async () => {
    const storage = new SlowRenewals();
    const beforeSuspend = gate();
    const beforeFinish = gate();
    const ask = createStep({
      id: 'ask',
      inputSchema: z.object({}),
      outputSchema: z.object({ approved: z.boolean() }),
      resumeSchema: z.object({ approved: z.boolean() }),
      execute: async ({ resumeData, suspend }) => {
        if (!resumeData) {
          await beforeSuspend.promise;
          return suspend({}) as never;
        }
        await beforeFinish.promise;
        return { approved: resumeData.approved };
      },
    });
    const wf = createWorkflow({
      id: 'approve',
      inputSchema: z.object({}),
      outputSchema: z.object({ approved: z.boolean() }),
    })
      .then(ask)
      .commit();
    const weft = new Weft({ workflows: { wf }, storage, ownershipCheckMs: 20, recovery: false });
    const run = await wf.createRun();
    const started = run.start({ inputData: {} });
    // The check asks about the run while its first execution is inside the step ...
    await storage.called.promise;
    // ... the run suspends before the question reaches the store, which then finds it suspended ...
    beforeSuspend.open();
    expect((await started).status).toBe('suspended');
    storage.evaluate.open();
    await storage.evaluated.promise;
    // ... and the run is resumed here before the answer arrives.
    const resumed = run.resume({ resumeData: { approved: true } });
    await until(async () => (await storage.getRun(run.runId))?.status === 'running', 'the resume to claim the run');
    storage.answer.open();
    await new Promise((resolve) => setTimeout(resolve, 50));
    beforeFinish.open();
    const result = await resumed;
    expect(result.status).toBe('success');
    expect((await storage.getRun(run.runId))?.status).toBe('success');
    await weft.close();
  });
});
