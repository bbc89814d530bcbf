// What a suspend → resume round trip sends to Postgres: the start's claim and suspension, then the
// resume's claim and the run's end; a resume in another process first reads the run with its journal.
// And each of those statements runs on the plan prepared for it, not planned again at every execution.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { Weft } from '../../run/weft.js';
import { createStep } from '../../workflow/create-step.js';
import { createWorkflow } from '../../workflow/create-workflow.js';
import { changeBatchText, changeBatchValues } from './change-queries.js';
import { appendBatchText, appendBatchValues } from './journal-queries.js';
import { PostgresStorage } from './postgres-storage.js';
import { PG_URL, describeWithPostgres, statementsOf, suiteStorages } from '../../../test/support/postgres.js';

await describeWithPostgres('Suspend and resume on Postgres', 'the Postgres round trip tests', () => {
  const storages = suiteStorages(`weft_rt_${randomBytes(4).toString('hex')}`);

  /** A workflow whose one step suspends, then adds the resume data's `m` to its input's `n`. */
  function waitsWorkflow() {
    const num = z.object({ n: z.number() });
    return createWorkflow({ id: 'waits', inputSchema: num, outputSchema: num })
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
  }

  it('suspends a new run in two statements and resumes it here to its end in two', async () => {
    const waits = waitsWorkflow();
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
    expect(resumed.count).toBe(2);
    expect(await storage.getRun(run.runId)).toMatchObject({ status: 'success', epoch: 2 });
  });

  it('resumes in another process in three statements: the run and its journal read in one', async () => {
    const schema = storages.schema();
    const open = async () => {
      const waits = waitsWorkflow();
      const weft = new Weft({
        workflows: { waits },
        storage: new PostgresStorage({ connectionString: PG_URL, schema }),
        recovery: false,
      });
      storages.closeAfter(weft);
      await weft.init();
      // In an object: a workflow has a `then` of its own, which an async function's result must not.
      return { waits };
    };
    const [{ waits: here }, { waits: there }] = [await open(), await open()];
    const run = await here.createRun();
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
    const elsewhere = await there.createRun({ runId: run.runId });
    const resumed = await statementsOf(() => elsewhere.resume({ resumeData: { m: 2 } }));
    expect(resumed.value).toMatchObject({ status: 'success', result: { n: 3 } });
    expect(resumed.count).toBe(3);
  });

  it('runs every statement of runs, steps, suspensions and resumes on the plan it prepared, not planned again each time', async () => {
    // One connection, so that its prepared statements are all of them.
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    storages.closeAfter({ close: () => pool.end() });
    const num = z.object({ n: z.number() });
    const add = (id: string) =>
      createStep({
        id,
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
      });
    const steps = createWorkflow({ id: 'steps', inputSchema: num, outputSchema: num })
      .then(add('a'))
      .then(add('b'))
      .then(add('c'))
      .commit();
    const waits = waitsWorkflow();
    const storage = new PostgresStorage({ pool, schema: storages.schema() });
    const weft = new Weft({ workflows: { steps, waits }, storage, recovery: false });
    storages.closeAfter(weft);
    await weft.init();
    for (let i = 0; i < 20; i++) {
      expect((await (await steps.createRun()).start({ inputData: { n: i } })).status).toBe('success');
      const run = await waits.createRun();
      await run.start({ inputData: { n: i } });
      expect((await run.resume({ resumeData: { m: 1 } })).status).toBe('success');
    }
    const { rows } = await pool.query<{ statement: string; generic_plans: string; custom_plans: string }>(
      `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'weft\\_%'`,
    );
    const executed = rows.filter((row) => Number(row.generic_plans) + Number(row.custom_plans) >= 20);
    // The inserts with their claims, the appends of step boundaries, the suspensions, the resumes' claims, the ends.
    expect(executed.length).toBeGreaterThanOrEqual(4);
    // Postgres plans a prepared statement for its values its first 5 times, then keeps the generic plan if it is no worse.
    for (const row of executed)
      expect({ statement: row.statement, custom: Number(row.custom_plans) }).toMatchObject({ custom: 5 });
  });

  it('looks the runs of a batch up by key, in id order, in its generic plan, on a runs table of 1,000 rows', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    storages.closeAfter({ close: () => pool.end() });
    const schema = storages.schema();
    const storage = new PostgresStorage({ pool, schema });
    storages.closeAfter({ close: () => storage.close() });
    await storage.init();
    const s = `"${schema}"`;
    // A thousand runs: a table small enough that a scan of it all looks cheap to the planner.
    await pool.query(
      `INSERT INTO ${s}.runs (run_id, workflow_id, status, epoch, created_at, updated_at)
       SELECT 'run-' || i, 'wf', 'running', 1, i, i FROM generate_series(1, 1000) AS i`,
    );
    await pool.query(`ANALYZE ${s}.runs`);
    const runIds = ['run-7', 'run-250', 'run-31'];
    const entry = { seq: 1, type: 'step-end', data: '{}', at: 1 };
    const appends = runIds.map((runId) => ({ runId, epoch: 1, entries: [entry] }));
    const changes = runIds.map((runId) => ({
      runId,
      condition: { epoch: 1 },
      change: { status: 'success' as const, updatedAt: 2 },
      entries: [entry],
    }));
    // The plan kept after the first executions: the generic one, made without the values (values bound
    // to an EXPLAIN itself are planned as constants, hence PREPARE, and EXECUTE with literals).
    await pool.query('SET plan_cache_mode = force_generic_plan');
    const element = (value: unknown) => (value === null ? 'NULL' : `"${String(value).replace(/[\\"]/g, '\\$&')}"`);
    const literal = (value: unknown) =>
      value === null || value === undefined
        ? 'NULL'
        : pg.escapeLiteral(Array.isArray(value) ? `{${value.map(element).join(',')}}` : String(value));
    const planOf = async (name: string, text: string, values: unknown[]) => {
      await pool.query(`PREPARE ${name} AS ${text}`);
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE ${name}(${values.map(literal).join(', ')})`,
      );
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      // A generic plan refers to the statement's parameters.
      expect(plan).toMatch(/\$\d/);
      return plan;
    };
    const append = await planOf('append_plan', appendBatchText(s), appendBatchValues('c', appends));
    expect(append).not.toContain('Seq Scan on runs');
    // Sorted by id first (as every statement that locks runs takes them), then locked one by one.
    expect(append).toMatch(/Sort Key: \S+ COLLATE "C"[\s\S]*LockRows[\s\S]*Index Scan using runs_pkey on runs/);
    const change = await planOf('change_plan', changeBatchText(s), changeBatchValues('c', changes));
    // The rows are locked as found by key; the update that follows may join them as the planner likes.
    const locked = change.slice(change.indexOf('CTE locked'), change.indexOf('CTE updated'));
    expect(locked).toMatch(/Sort Key: \S+ COLLATE "C"[\s\S]*LockRows[\s\S]*Index Scan using runs_pkey on runs/);
    expect(locked).not.toContain('Seq Scan on runs');
  });
});
