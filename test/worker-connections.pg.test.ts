// The connection budget of scale-out on Postgres: two `weft worker --concurrency 10` processes and a producer,
// counted in pg_stat_activity by application_name while 200 queued runs execute. A worker holds at most its
// shared pool (`--max-connections`, default concurrency + 2) plus the store's LISTEN connection; a producer
// whose queue shares its store's pool holds that pool plus the LISTEN connection.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { Weft } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { createWorkflowQueue } from '../src/worker/index.js';
import { workerWorkflows } from './fixtures/worker-workflows.js';
import { spawnChild, type Child } from './support/child-processes.js';
import { PG_URL, describeWithPostgres, dropSchemas } from './support/postgres.js';
import { until } from './support/wait.js';

const PREFIX = `weft_wc_${randomBytes(4).toString('hex')}`;
const WEFT_SCHEMA = `${PREFIX}_weft`;
const QUEUE_SCHEMA = `${PREFIX}_queue`;
const RUNS = 200;

/** PG_URL with an application_name, so that a process's connections can be counted. */
function urlOf(app: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', app);
  return url.href;
}

await describeWithPostgres('worker connections', 'the worker connection budget test', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const children: Child[] = [];

  afterEach(async () => {
    for (const { child, exited } of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
  afterAll(async () => {
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  async function connectionsByApp(): Promise<Map<string, number>> {
    const { rows } = await admin.query<{ app: string; n: string }>(
      `SELECT application_name AS app, count(*) AS n FROM pg_stat_activity
       WHERE application_name LIKE $1 || '%' GROUP BY application_name`,
      [PREFIX],
    );
    return new Map(rows.map((row) => [row.app, Number(row.n)]));
  }

  it('holds at most concurrency + 3 connections per worker and its pool + 1 for a producer sharing its store', async () => {
    const workers = ['a', 'b'].map((name) => {
      const child = spawnChild(
        `worker ${name}`,
        'src/cli/main.ts',
        { WEFT_PG_URL: urlOf(`${PREFIX}_worker_${name}`) },
        [
          'worker',
          '--workflows',
          'test/fixtures/worker-cli-workflows.ts',
          '--schema',
          WEFT_SCHEMA,
          '--queue-schema',
          QUEUE_SCHEMA,
          '--concurrency',
          '10',
        ],
      );
      children.push(child);
      return child;
    });
    for (const worker of workers) {
      await until(async () => worker.output().includes('serving'), `${worker.name} to start`, 60_000, 50);
    }
    expect(workers[0]!.output()).toContain('connections  12 pooled + 1 LISTEN');

    const weft = new Weft({
      workflows: workerWorkflows(() => Promise.reject(new Error('steps run on the workers only'))),
      storage: new PostgresStorage({
        connectionString: urlOf(`${PREFIX}_producer`),
        schema: WEFT_SCHEMA,
        maxConnections: 4,
      }),
      recovery: false,
    });
    const queue = createWorkflowQueue({ weft, schema: QUEUE_SCHEMA });
    const most = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [app, n] of await connectionsByApp()) most.set(app, Math.max(most.get(app) ?? 0, n));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      const runIds = await Promise.all(
        Array.from({ length: RUNS }, async (_, n) => (await queue.enqueueStart('count', { inputData: { n } })).runId),
      );
      await until(
        async () => (await weft.listRuns({ workflowId: 'count', status: 'success' })).total === runIds.length,
        'the runs to succeed',
        60_000,
        50,
      );
    } finally {
      sampling = false;
      await sampler;
      await queue.close();
      await weft.close();
    }
    for (const name of ['a', 'b']) {
      const held = most.get(`${PREFIX}_worker_${name}`) ?? 0;
      expect(held).toBeGreaterThan(2);
      expect(held).toBeLessThanOrEqual(13);
    }
    expect(most.get(`${PREFIX}_producer`)).toBeLessThanOrEqual(5);
    console.log(`peak connections: ${JSON.stringify(Object.fromEntries(most))}`);
  }, 120_000);
});
