// Killed Postgres connections: the backends of an engine process (and of worker processes) are
// terminated again and again while runs execute. No process may crash; every run ends `success`.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { createWorkflowQueue } from '../../src/worker/index.js';
import { PG_URL, describeWithPostgres, dropSchemas } from '../support/postgres.js';
import { until } from '../support/wait.js';
import { STEP_COUNT, reliabilityWorkflows } from './fixtures/reliability-workflows.js';
import {
  printed,
  reap,
  spawnChild,
  terminateRepeatedly,
  withApplicationName,
  type Child,
} from '../support/child-processes.js';

/** Every schema and application_name of this file starts with this prefix. */
const PREFIX = `weft_rl_${randomBytes(4).toString('hex')}`;
const RUNS = 50;
/** With WEFT_RELIABILITY_SLOW=1: three trials of each test, with 100 terminations instead of 25. */
const SLOW = process.env.WEFT_RELIABILITY_SLOW === '1';
const TRIALS = SLOW ? [1, 2, 3] : [1];
const KILLS = SLOW ? 100 : 25;
/** Long enough steps that the runs still execute while the terminations go on. */
const STEP_MS = SLOW ? '1000' : '150';
const TIMEOUT_MS = SLOW ? 120_000 : 30_000;

await describeWithPostgres('connection loss', 'the connection-loss tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const children: Child[] = [];

  afterEach(async () => {
    for (const c of children.splice(0)) await reap(c);
  });

  afterAll(async () => {
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  async function statuses(schema: string): Promise<Record<string, number>> {
    const { rows } = await admin.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM "${schema}".runs GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Every run of `schema` ended with the expected result (n + STEP_COUNT for the n-th input). */
  async function expectAllSucceeded(schema: string): Promise<void> {
    const { rows } = await admin.query<{ result: { n: number } }>(
      `SELECT outcome::jsonb -> 'result' AS result FROM "${schema}".runs`,
    );
    expect(rows.map((r) => r.result.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: RUNS }, (_, n) => n + STEP_COUNT),
    );
  }

  /** Waits until the RUNS runs of `schema` succeeded; on timeout, says where they are and what `processes` printed. */
  async function untilAllSucceeded(schema: string, processes: Child[]): Promise<void> {
    await until(
      async () => (await statuses(schema)).success === RUNS,
      `the ${RUNS} runs to succeed`,
      TIMEOUT_MS - 5_000,
      100,
    ).catch(async (error: unknown) => {
      const outputs = processes.map((p) => `--- ${p.name}\n${p.output()}`).join('\n');
      throw new Error(`${String(error)}: ${JSON.stringify(await statuses(schema))}\n${outputs}`);
    });
    await expectAllSucceeded(schema);
  }

  describe('worker processes whose Postgres backends are terminated', () => {
    it.each(TRIALS)(
      'keep running (`weft worker`), and every enqueued run ends success (trial %i)',
      async (trial) => {
        const schema = `${PREFIX}_wk${trial}`;
        const queueSchema = `${PREFIX}_wkq${trial}`;
        const app = `${PREFIX}_wk${trial}_`;
        const workers = ['w1', 'w2'].map((name) =>
          spawnChild(name, 'src/cli/main.ts', { WEFT_PG_URL: withApplicationName(PG_URL, `${app}${name}`), STEP_MS }, [
            'worker',
            '--workflows',
            'test/reliability/fixtures/workflows-file.ts',
            '--schema',
            schema,
            '--queue-schema',
            queueSchema,
            '--concurrency',
            '25',
            '--lease-ms',
            '1000',
          ]),
        );
        children.push(...workers);
        for (const w of workers) await printed(w, 'serving 2 workflows');
        const weft = new Weft({
          workflows: reliabilityWorkflows(0),
          storage: new PostgresStorage({ connectionString: PG_URL, schema }),
          recovery: false,
        });
        const queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: queueSchema });
        try {
          for (let n = 0; n < RUNS; n++) await queue.enqueueStart('steps', { inputData: { n } });
          const killed = await terminateRepeatedly(admin, app, KILLS, 100);
          for (const w of workers) expect(w.alive(), w.output()).toBe(true);
          expect(killed).toBeGreaterThan(KILLS);
          console.log(`trial ${trial}: ${killed} backends terminated in ${KILLS} rounds`);
          await untilAllSucceeded(schema, workers);
          for (const w of workers) expect(w.alive(), w.output()).toBe(true);
          // Jobs whose completion was lost with a connection are freed and completed, not left locked for hours.
          await until(
            async () => Number((await admin.query(`SELECT count(*) AS n FROM "${queueSchema}".jobs`)).rows[0].n) === 0,
            'the queue to be empty',
            // A lease or two after the last kill on a quiet machine; more while other suites load it.
            30_000,
            200,
          );
          for (const w of workers) w.child.kill('SIGTERM');
          for (const w of workers) expect(await w.exited, w.output()).toEqual({ code: 0, signal: null });
        } finally {
          await queue.close();
          await weft.close();
        }
      },
      TIMEOUT_MS,
    );
  });

  describe('the LISTEN connection of PostgresStorage', () => {
    it('is opened again after its backend is terminated, and live notifications keep coming', async () => {
      const schema = `${PREFIX}_listen`;
      const app = `${PREFIX}_listen`;
      const follower = new PostgresStorage({ connectionString: withApplicationName(PG_URL, app), schema });
      const writer = new PostgresStorage({ connectionString: PG_URL, schema });
      try {
        await follower.init();
        await writer.init();
        await writer.createRun({ runId: 'followed', workflowId: 'steps', resourceId: null, createdAt: Date.now() });
        const claimed = await writer.updateRun(
          'followed',
          { status: ['pending'] },
          { status: 'running', bumpEpoch: true, updatedAt: Date.now() },
        );
        let calls = 0;
        follower.notifier.subscribe('followed', () => calls++);
        await follower.notifier.ready();
        const append = async (seq: number): Promise<void> =>
          writer.appendJournal('followed', claimed!.epoch, [{ seq, type: 'custom', data: '{}', at: Date.now() }]);
        await append(1);
        await until(() => calls >= 1, 'a notification before the termination');
        for (let round = 0; round < 3; round++) {
          expect(await terminateRepeatedly(admin, app, 1, 0)).toBeGreaterThan(0);
          // Back-off from 250 ms: appended until one is delivered on the new connection.
          const before = calls;
          let seq = 2 + round * 100;
          await until(
            async () => {
              await append(seq++);
              return calls > before;
            },
            'a notification on the new connection',
            10_000,
            100,
          );
        }
      } finally {
        await follower.close();
        await writer.close();
      }
    });
  });

  describe('an engine process whose Postgres backends are terminated', () => {
    it.each(TRIALS)(
      'keeps running, and every run ends success (trial %i)',
      async (trial) => {
        const schema = `${PREFIX}_engine${trial}`;
        const app = `${PREFIX}_engine${trial}`;
        const engine = spawnChild('engine', 'test/reliability/fixtures/engine-process.ts', {
          WEFT_PG_URL: withApplicationName(PG_URL, app),
          WEFT_SCHEMA: schema,
          RUNS: String(RUNS),
          LEASE_MS: '1000',
          STEP_MS,
        });
        children.push(engine);
        await printed(engine, 'STARTED');
        const killed = await terminateRepeatedly(admin, app, KILLS, 100);
        expect(engine.alive(), engine.output()).toBe(true);
        expect(killed).toBeGreaterThan(KILLS);
        console.log(`trial ${trial}: ${killed} backends terminated in ${KILLS} rounds`);
        await untilAllSucceeded(schema, [engine]);
        expect(engine.alive(), engine.output()).toBe(true);
        // Each start call returned the run's outcome, or said plainly that it is unknown (the run was continued).
        const answers = engine
          .output()
          .split('\n')
          .filter((line) => line.startsWith('RESULT '))
          .map((line) => line.split(' ')[2]);
        expect(answers).toHaveLength(RUNS);
        for (const answer of answers) expect(['success', 'OUTCOME_UNKNOWN']).toContain(answer);
        engine.child.kill('SIGTERM');
        expect(await engine.exited, engine.output()).toEqual({ code: 0, signal: null });
      },
      TIMEOUT_MS,
    );
  });
});
