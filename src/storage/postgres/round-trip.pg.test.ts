// What a suspend → resume round trip sends to Postgres: the start's claim and suspension, then the
// resume's one read of the run with its journal, its claim and the run's end.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { Weft } from '../../run/weft.js';
import { createStep } from '../../workflow/create-step.js';
import { createWorkflow } from '../../workflow/create-workflow.js';
import { PostgresStorage } from './postgres-storage.js';
import { PG_URL, describeWithPostgres, statementsOf, suiteStorages } from '../../../test/support/postgres.js';

await describeWithPostgres('Suspend and resume on Postgres', 'the Postgres round trip tests', () => {
  const storages = suiteStorages(`weft_rt_${randomBytes(4).toString('hex')}`);

  it('suspends a new run in two statements and resumes it to its end in three', async () => {
    const num = z.object({ n: z.number() });
    const waits = createWorkflow({ id: 'waits', inputSchema: num, outputSchema: num })
      .then(
        createStep({
          id: 'wait',
          inputSchema: num,
          outputSchema: num,
          resumeSchema: z.object({ m: z.number() }),
          execute: async ({ inputData, resumeData, suspend }) =>
            resumeData ? { n: inputData.n + resumeData.m } : ((await suspend({})) as never),
        }),
      )
      .commit();
    const storage = new PostgresStorage({ connectionString: PG_URL, schema: storages.schema() });
    const weft = new Weft({ workflows: { waits }, storage, recovery: false });
    storages.closeAfter(weft);
    await weft.init();
    const run = await waits.createRun();
    const started = await statementsOf(() => run.start({ inputData: { n: 1 } }));
    expect(started.value.status).toBe('suspended');
    expect(started.count).toBe(2);
    const resumed = await statementsOf(() => run.resume({ resumeData: { m: 2 } }));
    expect(resumed.value).toMatchObject({ status: 'success', result: { n: 3 } });
    expect(resumed.count).toBe(3);
    expect(await storage.getRun(run.runId)).toMatchObject({ status: 'success', epoch: 2 });
  });
});
