// A worker running many jobs at once adds one listener to graphile-worker's shutdown signal, not one
// per job: no MaxListenersExceededWarning at a concurrency of 20 (it appeared at the default, 10).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { createWorkflowQueue, runWorker } from '../src/worker/index.js';
import { PG_URL, describeWithPostgres, dropSchemas } from './support/postgres.js';

const PREFIX = `weft_wl_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('weft worker listeners', 'the worker listener test', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  afterAll(async () => {
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  it('runs 20 jobs at once without a MaxListenersExceededWarning', async () => {
    let inFlight = 0;
    let most = 0;
    // Each step waits until more than 10 are in flight (Node's listener limit) or 10 s passed: on a loaded
    // machine jobs are enqueued and fetched slower than fixed-length steps would end.
    let crowded!: () => void;
    const crowd = new Promise<void>((resolve) => (crowded = resolve));
    const slow = createWorkflow({
      id: 'slow',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: z.object({ n: z.number() }),
    })
      .then(
        createStep({
          id: 'wait',
          inputSchema: z.object({ n: z.number() }),
          outputSchema: z.object({ n: z.number() }),
          execute: async ({ inputData }) => {
            most = Math.max(most, ++inFlight);
            if (most > 10) crowded();
            await Promise.race([crowd, new Promise((resolve) => setTimeout(resolve, 10_000))]);
            inFlight--;
            return inputData;
          },
        }),
      )
      .commit();
    const weft = new Weft({
      workflows: { slow },
      storage: new PostgresStorage({ connectionString: PG_URL, schema: `${PREFIX}_weft` }),
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    const worker = await runWorker({
      weft,
      connectionString: PG_URL,
      schema: `${PREFIX}_queue`,
      concurrency: 20,
      pollInterval: 100,
    });
    const queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: `${PREFIX}_queue` });
    try {
      for (let n = 0; n < 40; n++) await queue.enqueueStart('slow', { inputData: { n } });
      await expect
        .poll(async () => (await weft.storage.listRuns({ status: 'success' })).total, { timeout: 20_000 })
        .toBe(40);
      expect(most).toBeGreaterThan(10);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await worker.stop();
      await queue.close();
      await weft.close();
    }
  }, 60_000);
});
