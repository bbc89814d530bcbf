// What an enqueue costs: `enqueueStart` stores the run and queues its job in two statements (the
// insert answers with the stored row: no read of the row just inserted), enqueues issued together
// share both, and a start already queued, or a run already past pending, is left as it is.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { createWorkflowQueue } from '../src/worker/index.js';
import { PG_URL, describeWithPostgres, dropSchemas, statementsOf } from './support/postgres.js';

const PREFIX = `weft_we_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('enqueueStart', 'the enqueue cost test', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  afterAll(async () => {
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  it('stores the run and queues its start in two statements, shared by enqueues issued together, and refuses a run id of another workflow', async () => {
    const num = z.object({ n: z.number() });
    const step = createStep({
      id: 'one',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => inputData,
    });
    const wf = createWorkflow({ id: 'one', inputSchema: num, outputSchema: num }).then(step).commit();
    const other = createWorkflow({ id: 'other', inputSchema: num, outputSchema: num }).then(step).commit();
    const weft = new Weft({
      workflows: { wf, other },
      storage: new PostgresStorage({ connectionString: PG_URL, schema: `${PREFIX}_weft` }),
      recovery: false,
    });
    const queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: `${PREFIX}_queue` });
    try {
      await queue.enqueueStart('one', { inputData: { n: 0 } }); // opens the store and the queue
      const { runId } = await queue.enqueueStart('one', { inputData: { n: 1 }, runId: 'counted' });
      expect(runId).toBe('counted');
      expect((await statementsOf(() => queue.enqueueStart('one', { inputData: { n: 2 } }))).count).toBe(2);
      expect((await weft.storage.getRun('counted'))?.status).toBe('pending');
      await expect(queue.enqueueStart('other', { inputData: { n: 3 }, runId: 'counted' })).rejects.toMatchObject({
        code: 'WORKFLOW_MISMATCH',
      });
      await expect(queue.enqueueStart('one', { runId: 'x'.repeat(300), inputData: { n: 4 } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });

      // 100 enqueues at once, one of them twice with another input: the inserts and the jobs go in together.
      const ids = Array.from({ length: 100 }, (_, n) => `many-${n}`);
      const many = await statementsOf(() =>
        Promise.all([
          ...ids.map((runId, n) => queue.enqueueStart('one', { runId, inputData: { n } })),
          queue.enqueueStart('one', { runId: 'many-7', inputData: { n: 700 } }),
        ]),
      );
      expect(many.count).toBeLessThanOrEqual(4);
      const { rows } = await admin.query<{ key: string; payload: { inputData: { n: number } } }>(
        `SELECT key, payload FROM "${PREFIX}_queue"._private_jobs WHERE key LIKE 'many-%' ORDER BY key`,
      );
      expect(rows).toHaveLength(100);
      // The start queued first stays as it is.
      expect(rows.find((row) => row.key === 'many-7:start')?.payload.inputData).toEqual({ n: 7 });
    } finally {
      await queue.close();
      await weft.close();
    }
  });

  it("shares the store's pool without graphile-worker's warning, and a lost connection of a client checked out from it is no crash", async () => {
    const num = z.object({ n: z.number() });
    const wf = createWorkflow({ id: 'one', inputSchema: num, outputSchema: num })
      .then(createStep({ id: 'one', inputSchema: num, outputSchema: num, execute: async ({ inputData }) => inputData }))
      .commit();
    // A pool of the caller's, with no listener of its own, as a user may hand it to the store.
    const pool = new pg.Pool({ connectionString: PG_URL, max: 3 });
    const weft = new Weft({
      workflows: { wf },
      storage: new PostgresStorage({ pool, schema: `${PREFIX}_shared` }),
      recovery: false,
    });
    const warn = vi.spyOn(console, 'warn');
    const queue = createWorkflowQueue({ weft, schema: `${PREFIX}_shared_queue` });
    try {
      await queue.enqueueStart('one', { inputData: { n: 1 } });
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/error handlers/);

      // A client checked out and idle between two statements (as in a transaction) loses its backend.
      const client = await pool.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      // The pool and the queue go on with new connections.
      const { runId } = await queue.enqueueStart('one', { inputData: { n: 2 } });
      expect((await weft.storage.getRun(runId))?.status).toBe('pending');
    } finally {
      warn.mockRestore();
      await queue.close();
      await weft.close();
      await pool.end();
    }
  });
});
