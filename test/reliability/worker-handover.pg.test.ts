// Workers that die or stop: a start fetched by a worker that died before claiming its run starts on
// another worker about a lease later (not after graphile-worker's four hours), while a live worker slow
// to claim keeps its job; a worker stopped with SIGTERM hands its runs over at once (another worker
// finishes them before the lease would expire).
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Weft, type Logger } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import type { StoredRun } from '../../src/storage/types.js';
import { createWorkflowQueue, runWorker, type WorkerRunReport, type WorkflowQueue } from '../../src/worker/index.js';
import { printed, reap, spawnChild, type Child } from '../support/child-processes.js';
import { PG_URL, describeWithPostgres } from '../support/postgres.js';
import { pause, until } from '../support/wait.js';
import { workerWorkflows } from '../fixtures/worker-workflows.js';
import { reliabilityWorkflows } from './fixtures/reliability-workflows.js';

const PREFIX = `weft_wh_${randomBytes(4).toString('hex')}`;
const WEFT_SCHEMA = `${PREFIX}_weft`;
const QUEUE_SCHEMA = `${PREFIX}_queue`;
/** Side effects of the worker suite's workflows (test/fixtures/worker-process.ts records them). */
const EFFECTS = `"${WEFT_SCHEMA}".effects`;

await describeWithPostgres('worker hand-over', 'the worker hand-over tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const children: Child[] = [];
  let weft: Weft;
  let queue: WorkflowQueue;

  beforeAll(async () => {
    weft = new Weft({
      workflows: { ...reliabilityWorkflows(0), ...workerWorkflows(() => Promise.resolve()) },
      storage: new PostgresStorage({ connectionString: PG_URL, schema: WEFT_SCHEMA }),
      recovery: false,
    });
    await weft.init();
    await admin.query(`CREATE TABLE ${EFFECTS} (run_id text, step text, worker text, restart boolean)`);
    queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: QUEUE_SCHEMA });
  });

  afterEach(async () => {
    for (const c of children.splice(0)) await reap(c);
  });

  afterAll(async () => {
    await queue?.close();
    await weft?.close();
    for (const schema of [WEFT_SCHEMA, QUEUE_SCHEMA]) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  /** A worker process of the worker suite (its workflows: `count`, ...), with a lease of 1 s. */
  function worker(name: string, env: Record<string, string> = {}): Child {
    const child = spawnChild(name, 'test/fixtures/worker-process.ts', {
      WEFT_PG_URL: PG_URL,
      WEFT_SCHEMA,
      QUEUE_SCHEMA,
      EFFECTS,
      WORKER_NAME: name,
      LEASE_MS: '1000',
      ...env,
    });
    children.push(child);
    return child;
  }

  async function lockedJobs(runId: string): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${QUEUE_SCHEMA}".jobs WHERE key = $1 AND locked_by IS NOT NULL`,
      [`${runId}:start`],
    );
    return Number(rows[0]!.n);
  }

  /** When the run's first execution began (its `run-start` entry), epoch ms. */
  async function startedAt(runId: string): Promise<number> {
    const { rows } = await admin.query<{ at: string }>(
      `SELECT at FROM "${WEFT_SCHEMA}".journal WHERE run_id = $1 AND type = 'run-start'`,
      [runId],
    );
    return Number(rows[0]!.at);
  }

  it('starts a run whose worker died between fetching its start and claiming it on another worker, about a lease later', async () => {
    const doomed = worker('doomed', { DIE_BEFORE_CLAIM: '1' });
    await printed(doomed, 'READY');
    const { runId } = await queue.enqueueStart('count', { inputData: { n: 0 } });
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const diedAt = Date.now();
    expect((await weft.storage.getRun(runId))?.status).toBe('pending');
    expect(await lockedJobs(runId)).toBe(1);
    const survivor = worker('survivor');
    await printed(survivor, 'READY');
    await until(
      async () => (await weft.storage.getRun(runId))?.status === 'success',
      'the run to succeed on the other worker',
      10_000,
      50,
    );
    expect((await weft.getRun(runId))?.result).toEqual({ n: 2 });
    const delay = (await startedAt(runId)) - diedAt;
    console.log(`start fetched by a dead worker: run started ${delay} ms after the death (lease 1000 ms)`);
    // A lease (1 s), the survivor's start-up (a second or two under tsx), a scan (lease / 4) and a poll (200 ms).
    expect(delay).toBeLessThan(6_000);
    expect(survivor.output()).toContain('freed the jobs of 1 worker');
    await until(async () => (await lockedJobs(runId)) === 0, 'the job to be completed', 5_000, 50);
  });

  it('leaves the start fetched by a live worker that is slow to claim its run to that worker, however long past a lease', async () => {
    // A lease long enough that this process, running both workers on a loaded machine, renews within it.
    const LEASE_MS = 1000;
    /** Reads a run the first time 2.5 leases late: the worker's look at a fetched job's run, before its claim (a loaded machine). */
    class SlowFirstRead extends PostgresStorage {
      readonly #read = new Set<string>();
      override async getRun(runId: string): Promise<StoredRun | null> {
        if (!this.#read.has(runId)) {
          this.#read.add(runId);
          await pause(2.5 * LEASE_MS);
        }
        return super.getRun(runId);
      }
    }
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
    const inProcess = async (Storage: typeof PostgresStorage) => {
      const reports: WorkerRunReport[] = [];
      const engine = new Weft({
        workflows: workerWorkflows(() => Promise.resolve()),
        storage: new Storage({ connectionString: PG_URL, schema: WEFT_SCHEMA }),
        leaseMs: LEASE_MS,
        logger,
      });
      const running = await runWorker({
        weft: engine,
        connectionString: PG_URL,
        schema: QUEUE_SCHEMA,
        concurrency: 1,
        pollInterval: 100,
        onRun: (report) => reports.push(report),
      });
      const close = async (): Promise<void> => {
        await running.stop();
        await engine.close();
      };
      return { reports, close };
    };
    const slow = await inProcess(SlowFirstRead);
    let quick: Awaited<ReturnType<typeof inProcess>> | undefined;
    try {
      const { runId } = await queue.enqueueStart('count', { inputData: { n: 0 } });
      await until(async () => (await lockedJobs(runId)) === 1, 'the slow worker to fetch the start', 10_000, 20);
      quick = await inProcess(PostgresStorage);
      await until(() => slow.reports.length > 0, 'the slow worker to end its job', 10_000, 20);
      // Only the worker that fetched the start executed it: its job was neither freed nor fetched again.
      const reported = [...slow.reports, ...quick.reports].map((r) => `${r.runId === runId}:${r.outcome}`);
      const frees = warnings.filter((m) => m.includes('freed the jobs'));
      expect({ reported, frees }).toEqual({ reported: ['true:success'], frees: [] });
      expect((await weft.getRun(runId))?.result).toEqual({ n: 2 });
    } finally {
      await Promise.all([slow.close(), quick?.close()]);
    }
  });

  it('hands the runs of a worker stopped with SIGTERM over at once: another worker continues them at once', async () => {
    const cli = (name: string): Child => {
      const child = spawnChild(name, 'src/cli/main.ts', { WEFT_PG_URL: PG_URL }, [
        'worker',
        '--workflows',
        'test/reliability/fixtures/workflows-file.ts',
        '--schema',
        WEFT_SCHEMA,
        '--queue-schema',
        QUEUE_SCHEMA,
        '--lease-ms',
        '30000',
        '--shutdown-grace-ms',
        '100',
      ]);
      children.push(child);
      return child;
    };
    const first = cli('first');
    await printed(first, 'serving 2 workflows');
    expect(first.output()).toContain('lease        30000 ms');
    const { runId } = await queue.enqueueStart('hang', { inputData: { n: 0 } });
    await until(async () => (await weft.storage.getRun(runId))?.status === 'running', 'the run to start', 10_000, 50);
    const second = cli('second');
    await printed(second, 'serving 2 workflows');
    const owner = (await weft.storage.getRun(runId))?.leaseOwner;
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toEqual({ code: 0, signal: null });
    // Handed over (lease expired at once), or already taken over by the other worker.
    const row = await weft.storage.getRun(runId);
    expect(row?.leaseExpiresAt === 0 || row?.leaseOwner !== owner, JSON.stringify(row)).toBe(true);
    await until(
      async () => (await weft.storage.getRun(runId))?.status === 'success',
      'the other worker to finish the run',
      10_000,
      50,
    );
    const took = Date.now() - stoppedAt;
    console.log(`SIGTERM hand-over: the other worker finished the run ${took} ms after SIGTERM (lease 30000 ms)`);
    // Told of the hand-over, its recovery takes the run over at once: neither the lease nor its next
    // timed recovery pass (every lease / 2, 15 s) is waited for.
    expect(took).toBeLessThan(5_000);
    expect((await weft.getRun(runId))?.result).toEqual({ n: 1 });
  });
});
