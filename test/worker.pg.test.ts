// Distributed execution on a real Postgres: runs enqueued with createWorkflowQueue are executed by worker child
// processes (runWorker on graphile-worker); step side effects are counted in a table; a worker is killed mid-step.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Weft, WeftError } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import type { RunStatus } from '../src/storage/types.js';
import { createWorkflowQueue, type WorkflowQueue } from '../src/worker/index.js';
import { workerWorkflows } from './fixtures/worker-workflows.js';
import { PG_URL, describeWithPostgres, dropSchemas } from './support/postgres.js';
import { pause, until as untilAny } from './support/wait.js';
import { spawnChild as spawnTsx, type Child } from './support/child-processes.js';

/** Every schema of this file starts with this prefix; afterAll drops them. */
const PREFIX = `weft_wk_${randomBytes(4).toString('hex')}`;
const WEFT_SCHEMA = `${PREFIX}_weft`;
const QUEUE_SCHEMA = `${PREFIX}_queue`;
const EFFECTS = `"${PREFIX}_fx".effects`;
const LEASE_MS = 500;

/** Polls Postgres every 50 ms until `check` holds. */
const until = (check: () => Promise<boolean>, what: string, ms?: number): Promise<void> =>
  untilAny(check, what, ms, 50);

type WorkerChild = Child;

await describeWithPostgres('weft/worker', 'the worker tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 4 });
  const children: WorkerChild[] = [];
  let weft: Weft;
  let queue: WorkflowQueue;

  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA "${PREFIX}_fx"`);
    await admin.query(`CREATE TABLE ${EFFECTS} (run_id text, step text, worker text, restart boolean)`);
    // The enqueuing side never executes: recovery off, and its step code is never called.
    weft = new Weft({
      workflows: workerWorkflows(() => Promise.reject(new Error('steps run on the workers only'))),
      storage: new PostgresStorage({ connectionString: PG_URL, schema: WEFT_SCHEMA }),
      recovery: false,
    });
    await weft.init();
    queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: QUEUE_SCHEMA });
  });

  afterEach(async () => {
    for (const { child, exited } of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  afterAll(async () => {
    await queue?.close();
    await weft?.close();
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  /** Spawns a child process in the repository with `--import tsx`; its output is collected. */
  function spawnChild(name: string, args: string[], env: Record<string, string>): WorkerChild {
    const worker = spawnTsx(name, args[0]!, env, args.slice(1));
    children.push(worker);
    return worker;
  }

  /** Resolves once the child printed `text`; fails if it exits first. */
  async function printed(w: WorkerChild, text: string): Promise<void> {
    const seen = until(async () => w.output().includes(text), `${w.name} to print ${JSON.stringify(text)}`);
    const died = w.exited.then(({ code, signal }) => {
      throw new Error(`${w.name} exited (${code ?? signal}) before printing ${JSON.stringify(text)}:\n${w.output()}`);
    });
    died.catch(() => undefined);
    await Promise.race([seen, died]);
  }

  /** Spawns worker processes (test/fixtures/worker-process.ts) and resolves once each of them fetches jobs. */
  async function startWorkers(...names: string[]): Promise<WorkerChild[]> {
    const started = names.map((name) =>
      spawnChild(name, ['test/fixtures/worker-process.ts'], {
        WEFT_PG_URL: PG_URL,
        WEFT_SCHEMA,
        QUEUE_SCHEMA,
        EFFECTS,
        WORKER_NAME: name,
        LEASE_MS: String(LEASE_MS),
      }),
    );
    await Promise.all(started.map((w) => printed(w, 'READY')));
    return started;
  }

  async function statusOf(runId: string): Promise<RunStatus | undefined> {
    return (await weft.storage.getRun(runId))?.status;
  }

  async function effects(runId: string): Promise<{ step: string; worker: string; restart: boolean }[]> {
    const { rows } = await admin.query(
      `SELECT step, worker, restart FROM ${EFFECTS} WHERE run_id = $1 ORDER BY step, restart`,
      [runId],
    );
    return rows;
  }

  async function jobsOf(runId: string): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${QUEUE_SCHEMA}".jobs WHERE key LIKE $1 || ':%'`,
      [runId],
    );
    return Number(rows[0]!.n);
  }

  describe('weft/worker', () => {
    it('executes 20 enqueued runs on two worker processes, each step once, and the workers stop on SIGTERM', async () => {
      const workers = await startWorkers('a', 'b');
      const runIds = await Promise.all(
        Array.from({ length: 20 }, async (_, n) => (await queue.enqueueStart('count', { inputData: { n } })).runId),
      );
      const listed = await weft.listRuns({ workflowId: 'count' });
      expect(listed.runs.map((r) => r.runId)).toEqual(expect.arrayContaining(runIds));
      await until(
        async () => (await Promise.all(runIds.map(statusOf))).every((s) => s === 'success'),
        'the runs to succeed',
      );
      const byWorker = new Map<string, number>();
      for (const [n, runId] of runIds.entries()) {
        const rows = await effects(runId);
        expect(rows.map((r) => `${r.step}:${r.restart}`)).toEqual(['one:false', 'two:false']);
        for (const row of rows) byWorker.set(row.worker, (byWorker.get(row.worker) ?? 0) + 1);
        expect((await weft.getRun(runId))?.result).toEqual({ n: n + 2 });
      }
      expect([...byWorker.keys()].sort()).toEqual(['a', 'b']);
      for (const { child } of workers) child.kill('SIGTERM');
      for (const { exited, output } of workers) expect(await exited, output()).toEqual({ code: 0, signal: null });
      const reported = workers.flatMap((w) =>
        w
          .output()
          .split('\n')
          .filter((l) => l.startsWith('RUN ')),
      );
      expect(reported, workers.map((w) => `${w.name}:\n${w.output()}`).join('\n')).toHaveLength(20);
    });

    it('finishes the run of a worker killed inside a step on the other worker once the lease expires', async () => {
      const workers = await startWorkers('a', 'b');
      const { runId } = await queue.enqueueStart('slow', { inputData: { n: 0 } });
      let inside: { worker: string } | undefined;
      await until(
        async () => Boolean((inside = (await effects(runId)).find((e) => e.step === 'hang'))),
        'a worker to enter the step',
      );
      const victim = workers.find((w) => w.name === inside!.worker)!;
      const survivor = workers.find((w) => w !== victim)!;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      await until(async () => (await statusOf(runId)) === 'success', 'the other worker to finish the run', 15_000);
      expect(await effects(runId)).toEqual([
        { step: 'after', worker: survivor.name, restart: false },
        { step: 'before', worker: victim.name, restart: false },
        { step: 'hang', worker: victim.name, restart: false },
        { step: 'hang', worker: survivor.name, restart: true },
      ]);
      expect((await weft.getRun(runId))?.result).toEqual({ n: 3 });
    });

    it('treats a duplicate enqueue of the same start as a no-op, before and after the run executed', async () => {
      const runId = randomUUID();
      await queue.enqueueStart('count', { runId, inputData: { n: 1 } });
      await queue.enqueueStart('count', { runId, inputData: { n: 100 } });
      expect(await statusOf(runId)).toBe('pending');
      expect((await weft.listRuns({ status: 'pending' })).runs.map((r) => r.runId)).toContain(runId);
      expect(await jobsOf(runId)).toBe(1);
      await startWorkers('a');
      await until(async () => (await statusOf(runId)) === 'success', 'the run to succeed');
      // The worker completes its job once the run's end is stored: a moment after the status reads success.
      await until(async () => (await jobsOf(runId)) === 0, 'the worker to complete the start job');
      await queue.enqueueStart('count', { runId, inputData: { n: 1 } });
      expect(await jobsOf(runId)).toBe(0);
      await pause(500);
      expect((await effects(runId)).map((e) => e.step)).toEqual(['one', 'two']);
      expect((await weft.getRun(runId))?.result).toEqual({ n: 3 });
    });

    it('resumes a suspended run on a worker with enqueueResume, and refuses a resume of a run that is not suspended', async () => {
      const [first] = await startWorkers('a');
      const { runId } = await queue.enqueueStart('approval', { inputData: { item: 'laptop' } });
      await until(async () => (await statusOf(runId)) === 'suspended', 'the run to suspend');
      first!.child.kill('SIGTERM');
      expect(await first!.exited).toEqual({ code: 0, signal: null });
      // Two resumes of the same suspension: the first one queued wins, the second adds nothing.
      await queue.enqueueResume(runId, { resumeData: { approver: 'kim' }, step: 'ask' });
      await queue.enqueueResume(runId, { resumeData: { approver: 'lee' }, step: 'ask' });
      expect(await jobsOf(runId)).toBe(1);
      await startWorkers('b');
      await until(async () => (await statusOf(runId)) === 'success', 'the run to succeed');
      expect((await weft.getRun(runId))?.result).toEqual({ item: 'laptop', approver: 'kim' });
      expect((await effects(runId)).map((e) => `${e.step}@${e.worker}`)).toEqual(['ask@a', 'ask-resumed@b']);
      const refused = await queue.enqueueResume(runId, { resumeData: { approver: 'kim' } }).catch((e: unknown) => e);
      expect(WeftError.is(refused, 'RUN_NOT_SUSPENDED')).toBe(true);
      expect((refused as Error).message).toContain('its status is "success", expected "suspended"');
    });

    it('passes the request context and perStep of a start to the worker, and refuses a context the workflow rejects', async () => {
      await startWorkers('w1');
      const { runId } = await queue.enqueueStart('tenant', { inputData: { n: 0 }, requestContext: { tenant: 'acme' } });
      await until(async () => (await statusOf(runId)) === 'success', 'the tenant run to succeed');
      expect((await effects(runId)).map((e) => e.step)).toEqual(['tenant:acme']);
      await expect(queue.enqueueStart('tenant', { inputData: { n: 0 } })).rejects.toSatisfy((e: unknown) =>
        WeftError.is(e, 'INVALID_REQUEST_CONTEXT'),
      );
      const stepped = await queue.enqueueStart('count', { inputData: { n: 0 }, perStep: true });
      await until(async () => (await statusOf(stepped.runId)) === 'paused', 'the perStep run to pause');
      expect((await effects(stepped.runId)).map((e) => e.step)).toEqual(['one']);
    });

    it('runs as `weft worker`: says what it serves, logs the runs it executes and stops on SIGTERM', async () => {
      const cli = spawnChild(
        'weft worker',
        [
          'src/cli/main.ts',
          'worker',
          '--workflows',
          'test/fixtures/worker-cli-workflows.ts',
          '--schema',
          WEFT_SCHEMA,
          '--queue-schema',
          QUEUE_SCHEMA,
          '--concurrency',
          '2',
        ],
        { WEFT_PG_URL: PG_URL },
      );
      await printed(cli, 'serving 4 workflows');
      expect(cli.output()).toContain('test/fixtures/worker-cli-workflows.ts: count, slow, approval, tenant');
      expect(cli.output()).toContain(`schema "${QUEUE_SCHEMA}"`);
      const { runId } = await queue.enqueueStart('count', { inputData: { n: 5 } });
      await printed(cli, runId);
      expect(cli.output()).toMatch(new RegExp(`start +${runId} count ✔ success \\d+ ms`));
      expect((await weft.getRun(runId))?.result).toEqual({ n: 7 });
      cli.child.kill('SIGTERM');
      expect(await cli.exited, cli.output()).toEqual({ code: 0, signal: null });
      expect(cli.output()).toContain('stopping');
    });

    it('refuses to start `weft worker` without a database', async () => {
      const cli = spawnChild(
        'weft worker',
        ['src/cli/main.ts', 'worker', '--workflows', 'test/fixtures/worker-cli-workflows.ts'],
        {
          WEFT_PG_URL: '',
          DATABASE_URL: '',
        },
      );
      expect(await cli.exited).toEqual({ code: 2, signal: null });
      expect(cli.output()).toContain('pass --pg URL or set WEFT_PG_URL or DATABASE_URL');
    });
  });
});
