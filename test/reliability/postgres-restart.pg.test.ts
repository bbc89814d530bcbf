// A full Postgres restart (`pg_ctlcluster ... restart`) while an engine process and two `weft worker`
// processes execute runs: no process crashes, every run ends success. Restarting the shared server
// disturbs every other user of it, so this runs only with WEFT_RELIABILITY_SLOW=1 (and needs the
// right to run pg_ctlcluster; WEFT_PG_CLUSTER names the cluster, default "15 main").
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { createWorkflowQueue } from '../../src/worker/index.js';
import { printed, reap, spawnChild, type Child } from '../support/child-processes.js';
import { PG_URL, describeWithPostgres, dropSchemas } from '../support/postgres.js';
import { until } from '../support/wait.js';
import { reliabilityWorkflows } from './fixtures/reliability-workflows.js';

const SLOW = process.env.WEFT_RELIABILITY_SLOW === '1';
const PREFIX = `weft_rs_${randomBytes(4).toString('hex')}`;
const RUNS = 50;
const RESTARTS = Number(process.env.WEFT_RELIABILITY_RESTARTS ?? 3);

if (!SLOW) console.warn('Skipping the Postgres restart test: set WEFT_RELIABILITY_SLOW=1 to run it.');

await describeWithPostgres('postgres restart', 'the Postgres restart test', () => {
  const children: Child[] = [];

  afterEach(async () => {
    for (const c of children.splice(0)) await reap(c);
  });

  afterAll(async () => {
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  /** Counts of the runs of `schema` by status, on a connection of its own (the server restarts meanwhile). */
  async function statuses(schema: string): Promise<Record<string, number>> {
    const client = new pg.Client({ connectionString: PG_URL });
    try {
      await client.connect();
      const { rows } = await client.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM "${schema}".runs GROUP BY status`,
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    } catch {
      return {};
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  describe.skipIf(!SLOW)('processes on a Postgres that restarts', () => {
    it(`survive ${RESTARTS} restarts, and every run ends success`, async () => {
      const engineSchema = `${PREFIX}_engine`;
      const workerSchema = `${PREFIX}_wk`;
      const queueSchema = `${PREFIX}_wkq`;
      const engine = spawnChild('engine', 'test/reliability/fixtures/engine-process.ts', {
        WEFT_PG_URL: PG_URL,
        WEFT_SCHEMA: engineSchema,
        RUNS: String(RUNS),
        LEASE_MS: '2000',
        STEP_MS: '1000',
      });
      const workers = ['w1', 'w2'].map((name) =>
        spawnChild(name, 'src/cli/main.ts', { WEFT_PG_URL: PG_URL, STEP_MS: '1000' }, [
          'worker',
          '--workflows',
          'test/reliability/fixtures/workflows-file.ts',
          '--schema',
          workerSchema,
          '--queue-schema',
          queueSchema,
          '--concurrency',
          '25',
          '--lease-ms',
          '2000',
        ]),
      );
      const all = [engine, ...workers];
      children.push(...all);
      for (const w of workers) await printed(w, 'serving 2 workflows');
      const weft = new Weft({
        workflows: reliabilityWorkflows(0),
        storage: new PostgresStorage({ connectionString: PG_URL, schema: workerSchema }),
        recovery: false,
      });
      const queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: queueSchema });
      for (let n = 0; n < RUNS; n++) await queue.enqueueStart('steps', { inputData: { n } });
      await queue.close();
      await weft.close();
      await printed(engine, 'STARTED');
      const cluster = (process.env.WEFT_PG_CLUSTER ?? '15 main').split(' ');
      const began = Date.now();
      for (let i = 0; i < RESTARTS; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        execFileSync('pg_ctlcluster', [...cluster, 'restart', '-m', 'fast']);
      }
      const wait = async (schema: string): Promise<void> =>
        until(async () => (await statuses(schema)).success === RUNS, `the runs of ${schema} to succeed`, 120_000, 500);
      await Promise.all([wait(engineSchema), wait(workerSchema)]).catch(async (error: unknown) => {
        const state = JSON.stringify({
          engine: await statuses(engineSchema),
          workers: await statuses(workerSchema),
        });
        throw new Error(`${String(error)}: ${state}\n${all.map((c) => `--- ${c.name}\n${c.output()}`).join('\n')}`);
      });
      console.log(
        `Postgres restarted ${RESTARTS} times: all ${2 * RUNS} runs succeeded ${Date.now() - began} ms after the first restart; ` +
          `processes alive: ${all.filter((c) => c.alive()).length} of ${all.length}`,
      );
      for (const c of all) expect(c.alive(), c.output()).toBe(true);
    }, 180_000);
  });
});
