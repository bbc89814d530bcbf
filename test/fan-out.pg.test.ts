// Fan-out across workers on a real Postgres: runs enqueued with createWorkflowQueue execute on worker child
// processes started with runWorker({ fanOut: true }), whose foreach items and parallel branches are executed by
// any worker. Each attempt records a row (which process, when) in an effects table; workers are killed mid-run.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mastra } from '@mastra/core';
import * as mastraApi from '@mastra/core/workflows';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as weftApi from '../src/index.js';
import { MemoryStorage, Weft, WeftError, type WorkflowResult } from '../src/index.js';
import { loadProjection } from '../src/run/load-projection.js';
import { buildResult } from '../src/run/result.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import type { RunStatus, WeftStorage } from '../src/storage/types.js';
import { createWorkflowQueue, runWorker, type RunWorkerOptions, type WorkflowQueue } from '../src/worker/index.js';
import { fanOutWorkflows, quietHooks } from './fixtures/fan-out-workflows.js';
import { printed, reap, spawnChild, type Child } from './support/child-processes.js';
import { normaliseOne, observe, openWeft } from './support/differential.js';
import { PG_URL, describeWithPostgres, dropSchemas } from './support/postgres.js';
import { buildWorkflow, randomWorkflowSpec, type WorkflowApi } from './support/random-workflows.js';
import { until as untilAny } from './support/wait.js';

/** Every schema of this file starts with this prefix; afterAll drops them. */
const PREFIX = `weft_fo_${randomBytes(4).toString('hex')}`;
const WEFT_SCHEMA = `${PREFIX}_weft`;
const QUEUE_SCHEMA = `${PREFIX}_queue`;
const EFFECTS = `"${PREFIX}_fx".effects`;
const LEASE_MS = 1000;

/** Polls every 50 ms until `check` holds (20 s at most: a test that waits longer is stuck). */
const until = (check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> =>
  untilAny(check, what, ms, 50);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const byNumber = (a: number, b: number): number => a - b;

/** A row of the effects table. */
interface EffectRow {
  step: string;
  item: number | null;
  event: string;
  retry: number | null;
  restart: boolean | null;
  worker: string;
  /** Postgres's clock (ms), the same for every process. */
  at: number;
}

await describeWithPostgres('weft/fan-out', 'the fan-out tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 4 });
  let weft: Weft;
  let queue: WorkflowQueue;

  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA "${PREFIX}_fx"`);
    await admin.query(
      `CREATE TABLE ${EFFECTS} (run_id text, step text, item int, event text, retry int, restart boolean, worker text,
         at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    // The enqueuing side never executes: recovery off, and its step code is never called.
    const refuse = (): Promise<never> => Promise.reject(new Error('steps run on the workers only'));
    weft = new Weft({
      workflows: fanOutWorkflows(weftApi as unknown as WorkflowApi, {
        worker: 'test',
        record: refuse,
        coordinatorOf: refuse,
      }),
      storage: new PostgresStorage({ connectionString: PG_URL, schema: WEFT_SCHEMA }),
      recovery: false,
    });
    await weft.init();
    queue = createWorkflowQueue({ weft, connectionString: PG_URL, schema: QUEUE_SCHEMA });
  });

  afterAll(async () => {
    await queue?.close();
    await weft?.close();
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  /** Spawns worker processes (test/fixtures/fan-out-process.ts) and resolves once each of them fetches jobs. */
  async function startWorkers(attemptConcurrency: number, ...names: string[]): Promise<Child[]> {
    const started = names.map((name) =>
      spawnChild(name, 'test/fixtures/fan-out-process.ts', {
        WEFT_PG_URL: PG_URL,
        WEFT_SCHEMA,
        QUEUE_SCHEMA,
        EFFECTS,
        WORKER_NAME: name,
        LEASE_MS: String(LEASE_MS),
        ATTEMPT_CONCURRENCY: String(attemptConcurrency),
      }),
    );
    await Promise.all(started.map((w) => printed(w, 'READY', 60_000)));
    return started;
  }

  async function statusOf(runId: string): Promise<RunStatus | undefined> {
    return (await weft.storage.getRun(runId))?.status;
  }

  /** Waits for the run to reach `status`; fails at once if it stops with another one. */
  async function settles(runId: string, status: RunStatus): Promise<void> {
    await until(async () => {
      const now = await statusOf(runId);
      if (now !== status && (now === 'success' || now === 'failed' || now === 'canceled'))
        throw new Error(`Run ${runId} ended ${now}, expected ${status}: ${JSON.stringify(await weft.getRun(runId))}`);
      return now === status;
    }, `run ${runId} to be ${status}`);
  }

  /** Waits for a `squares` run of items 0..11 to succeed, and checks its result. */
  async function squaresSucceed(runId: string): Promise<void> {
    await settles(runId, 'success');
    expect((await resultOf(runId)).result).toEqual({
      sum: range(12).reduce((a, i) => a + i * i, 0),
      order: range(12),
    });
  }

  /** The run's result as a caller of `start` would have it. */
  async function resultOf(runId: string): Promise<WorkflowResult> {
    return buildResult(await loadProjection(weft.storage, runId), runId);
  }

  async function effects(runId: string, step?: string): Promise<EffectRow[]> {
    const { rows } = await admin.query<EffectRow>(
      `SELECT step, item, event, retry, restart, worker, (extract(epoch FROM at) * 1000)::float8 AS at FROM ${EFFECTS}
       WHERE run_id = $1 AND ($2::text IS NULL OR step = $2) ORDER BY at`,
      [runId, step ?? null],
    );
    return rows;
  }
  /** The worker executing the run: the one that ran its first step. */
  async function coordinatorOf(runId: string): Promise<string> {
    let coordinator = '';
    await until(async () => {
      coordinator = (await effects(runId)).find((r) => r.step === 'prep')?.worker ?? '';
      return coordinator !== '';
    }, 'the run to start');
    return coordinator;
  }

  /** The items of `step` whose `event` was recorded, by index (an item twice if it was recorded twice). */
  const itemsOf = (rows: readonly EffectRow[], event: string, worker?: string): number[] =>
    rows
      .filter((r) => r.event === event && (worker === undefined || r.worker === worker))
      .map((r) => r.item!)
      .sort(byNumber);

  /** The foreach items of `stepId` whose end the run's journal holds, and the dispatch id of each item's last start. */
  async function journaledItems(runId: string, stepId: string): Promise<{ ended: number[]; dispatch: string[] }> {
    const projection = await loadProjection(weft.storage, runId);
    const ended: number[] = [];
    const dispatch: string[] = [];
    for (const rec of projection.records.values()) {
      if (rec.id !== stepId || rec.item === undefined) continue;
      if (rec.status === 'success') ended.push(rec.item);
      if (rec.dispatch !== undefined) dispatch.push(rec.dispatch);
    }
    return { ended: ended.sort(byNumber), dispatch };
  }

  /** The attempts stored for workers, of one run, by status. */
  async function dispatchedOf(runId: string): Promise<Record<string, number>> {
    const { rows } = await admin.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "${WEFT_SCHEMA}".dispatched WHERE run_id = $1 GROUP BY status`,
      [runId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Most items of `rows` executing at once: their start and end rows, on Postgres's clock. */
  function mostAtOnce(rows: readonly EffectRow[]): number {
    const marks = rows
      .filter((r) => r.event === 'start' || r.event === 'end')
      .map((r) => ({ at: r.at, delta: r.event === 'start' ? 1 : -1 }))
      // At one instant an end comes before a start: the later item was dispatched once the earlier ended.
      .sort((x, y) => x.at - y.at || x.delta - y.delta);
    let now = 0;
    let most = 0;
    for (const { delta } of marks) most = Math.max(most, (now += delta));
    return most;
  }

  /** The same workflow run without fan-out (in this process, on MemoryStorage) and on @mastra/core, normalised. */
  async function referenceResults(
    workflowId: string,
    args: { inputData: unknown; initialState?: Record<string, unknown> },
    foreachIds: string[],
  ): Promise<{ local: unknown; mastra: unknown }> {
    const bodies = { foreach: new Set(foreachIds), loop: new Set<string>() };
    const local = new Weft({
      workflows: fanOutWorkflows(weftApi as unknown as WorkflowApi, quietHooks),
      storage: new MemoryStorage(),
      recovery: false,
    });
    const mastra = new Mastra({
      workflows: fanOutWorkflows(mastraApi as unknown as WorkflowApi, quietHooks),
      logger: false,
    });
    try {
      const localRun = await local.getWorkflow(workflowId).createRun();
      const mastraRun = await (mastra.getWorkflow(workflowId) as any).createRun();
      return {
        local: normaliseOne(await localRun.start(args), bodies),
        mastra: normaliseOne(await mastraRun.start(args), bodies),
      };
    } finally {
      await local.close();
      await mastra.shutdown().catch(() => undefined);
    }
  }

  describe('on two worker processes', () => {
    let workers: Child[] = [];

    beforeAll(async () => {
      // Three attempts at once each: the foreach limit (4) is below the workers' capacity (6), above one worker's.
      workers = await startWorkers(3, 'a', 'b');
    }, 90_000);

    afterAll(async () => {
      for (const w of workers) if (w.alive()) w.child.kill('SIGTERM');
      for (const w of workers) await w.exited;
    });

    it('executes the items of a foreach on both workers, each once, with the result of the run without fan-out and on Mastra', async () => {
      const inputData = { items: range(12), ms: 40 };
      const { runId } = await queue.enqueueStart('squares', { inputData });
      await settles(runId, 'success');

      const rows = await effects(runId, 'square');
      expect(itemsOf(rows, 'start')).toEqual(range(12));
      expect(itemsOf(rows, 'end')).toEqual(range(12));
      expect(new Set(rows.map((r) => r.worker))).toEqual(new Set(['a', 'b']));

      const result = await resultOf(runId);
      expect(result.result).toEqual({ sum: range(12).reduce((a, i) => a + i * i, 0), order: range(12) });
      // Items ended out of order; the foreach's output is by index all the same.
      const output = (result.steps as any).square.output as { i: number; of: number; prepared: number }[];
      expect(output.map((o) => o.i)).toEqual(range(12));
      // getInitData and getStepResult inside a dispatched item saw the run's input and the earlier step.
      expect(output.every((o) => o.of === 12 && o.prepared === 12)).toBe(true);
      const journal = await journaledItems(runId, 'square');
      expect(journal.ended).toEqual(range(12));
      // The coordinator executed what its three slots took; the rest went out, each under its own id.
      expect(journal.dispatch.length).toBeGreaterThan(0);
      expect(new Set(journal.dispatch).size).toBe(journal.dispatch.length);

      const { local, mastra } = await referenceResults('squares', { inputData }, ['square']);
      const ours = normaliseOne(result, { foreach: new Set(['square']), loop: new Set() });
      expect(ours).toEqual(local);
      expect(ours).toEqual(mastra);
      // Recorded steps are forgotten by the dispatch table.
      await until(async () => Object.keys(await dispatchedOf(runId)).length === 0, 'the attempts to be deleted');
    });

    it('keeps the foreach concurrency across the workers: never more items executing at once than its limit', async () => {
      const { runId } = await queue.enqueueStart('squares', { inputData: { items: range(16), ms: 60 } });
      await settles(runId, 'success');
      const rows = await effects(runId, 'square');
      expect(itemsOf(rows, 'end')).toEqual(range(16));
      const most = mostAtOnce(rows);
      expect(most).toBeLessThanOrEqual(4);
      // More than one process's share: the items did run side by side on both workers.
      expect(most).toBeGreaterThanOrEqual(2);
      expect(new Set(rows.map((r) => r.worker))).toEqual(new Set(['a', 'b']));
    });

    it('stops the items executing on every worker when the run is canceled from the enqueuing process', async () => {
      const { runId } = await queue.enqueueStart('waits', { inputData: range(8) });
      await until(async () => itemsOf(await effects(runId), 'start').length === 4, 'four items to start');
      const started = await effects(runId);
      // Three attempts at most per worker: the four items are on both.
      expect(new Set(started.map((r) => r.worker))).toEqual(new Set(['a', 'b']));

      const run = await weft.getWorkflow('waits').createRun({ runId });
      await run.cancel();
      expect(await statusOf(runId)).toBe('canceled');
      await until(
        async () => itemsOf(await effects(runId), 'aborted').length === 4,
        'the abortSignal of every item to fire',
      );
      const rows = await effects(runId);
      expect(itemsOf(rows, 'aborted')).toEqual(itemsOf(rows, 'start'));
      expect(new Set(rows.filter((r) => r.event === 'aborted').map((r) => r.worker))).toEqual(new Set(['a', 'b']));
      // The attempts of the canceled run go, done or not.
      await until(async () => Object.keys(await dispatchedOf(runId)).length === 0, 'no attempt of the run to be left');
      // The items not started by then never are.
      expect(itemsOf(await effects(runId), 'start')).toHaveLength(4);
      expect((await weft.getRun(runId))?.status).toBe('canceled');
    });

    it('dispatches parallel and branch children, which see getInitData and getStepResult of the run', async () => {
      const { runId } = await queue.enqueueStart('branches', { inputData: { n: 5 } });
      await settles(runId, 'success');
      const result = await resultOf(runId);
      expect(result.result).toEqual({ small: { chosen: 'small', sum: 103, right: 52 } });
      const steps = result.steps as any;
      expect(steps.left.output).toEqual({ side: 'left', n: 51, init: 5, before: 50 });
      expect(steps.right.output).toEqual({ side: 'right', n: 52, init: 5, before: 50 });
      expect(steps.down.output).toEqual({ side: 'down', n: 54, init: 5, before: 50 });
      // The fourth child of the parallel found the coordinator's three slots taken, and went out.
      const projection = await loadProjection(weft.storage, runId);
      const dispatched = [...projection.records.values()].filter((r) => r.dispatch !== undefined).map((r) => r.id);
      expect(dispatched).toContain('down');
      // Others may too (a branch child included), should the slots be busy with a claim on its way.
      expect(['left', 'right', 'up', 'down', 'small']).toEqual(expect.arrayContaining(dispatched));
      expect((await effects(runId)).map((r) => r.step).sort()).toEqual([
        'down',
        'left',
        'prep',
        'right',
        'small',
        'up',
      ]);

      const { local, mastra } = await referenceResults('branches', { inputData: { n: 5 } }, []);
      const ours = normaliseOne(result, { foreach: new Set(), loop: new Set() });
      expect(ours).toEqual(local);
      expect(ours).toEqual(mastra);
    });

    it('merges the state set by dispatched items (no update lost) and records what they wrote', async () => {
      const args = { inputData: range(10), initialState: { seed: 1 } };
      const { runId } = await queue.enqueueStart('tally', args);
      await settles(runId, 'success');
      const state = Object.fromEntries([['seed', 1], ...range(10).map((i) => [`item${i}`, i * 10])]);
      const result = await resultOf(runId);
      expect(result.result).toEqual({ items: range(10), state });
      expect((await weft.getRun(runId)) as any).toMatchObject({ status: 'success' });
      expect(itemsOf(await effects(runId, 'mark'), 'start')).toEqual(range(10));
      expect((await journaledItems(runId, 'mark')).dispatch.length).toBeGreaterThan(0);
      // What the items wrote reached the run's journal, those dispatched included.
      const written = (await weft.storage.readJournal(runId)).filter((e) => e.type === 'custom');
      expect(written.map((e) => (JSON.parse(e.data) as { data: { item: number } }).data.item).sort(byNumber)).toEqual(
        range(10),
      );

      const { local, mastra } = await referenceResults('tally', args, ['mark']);
      const ours = normaliseOne(result, { foreach: new Set(['mark']), loop: new Set() });
      expect(ours).toEqual(local);
      expect(ours).toEqual(mastra);
    });

    it('suspends on a dispatched item and resumes it without executing the other items again', async () => {
      const inputData = range(5).map((i) => ({ i, ask: i % 2 === 1 }));
      const { runId } = await queue.enqueueStart('approvals', { inputData });
      await settles(runId, 'suspended');
      const suspended = await resultOf(runId);
      expect((suspended as any).suspended).toEqual([['approve']]);
      // Item 3 found the coordinator's three slots taken: dispatched, it suspended on a worker.
      const before = await loadProjection(weft.storage, runId);
      expect([...before.records.values()].find((r) => r.id === 'approve' && r.item === 3)?.dispatch).toBeDefined();
      expect((await weft.getRun(runId))!.foreachItems!.approve![3]).toMatchObject({
        status: 'suspended',
        suspendPayload: { waiting: 3 },
      });
      // The last item starts before the suspension or after the resume, as the first results come back.
      expect(itemsOf(await effects(runId), 'start').slice(0, 4)).toEqual(range(4));

      await queue.enqueueResume(runId, { step: 'approve', resumeData: { by: 'kim' } });
      await settles(runId, 'success');
      expect((await resultOf(runId)).result).toEqual(range(5).map((i) => ({ i, by: i % 2 === 1 ? 'kim' : 'nobody' })));
      const rows = await effects(runId);
      expect(itemsOf(rows, 'start')).toEqual(range(5));
      expect(itemsOf(rows, 'resumed')).toEqual([1, 3]);
      // The resumed items ran in the run's own execution, under no dispatch id.
      const projection = await loadProjection(weft.storage, runId);
      for (const rec of projection.records.values())
        if (rec.id === 'approve' && rec.item !== undefined && rec.item % 2 === 1) expect(rec.dispatch).toBeUndefined();
    });

    it('retries a dispatched item that fails, recording each attempt', async () => {
      // Item 3 finds the coordinator's three slots taken: it goes out, and so do its retries.
      const inputData = [0, 1, 0, 2].map((fails, i) => ({ i, fails }));
      const { runId } = await queue.enqueueStart('flaky', { inputData, requestContext: { tenant: 'acme' } });
      await settles(runId, 'success');
      // Each attempt saw the run's request context.
      expect((await resultOf(runId)).result).toEqual([1, 2, 1, 3].map((tries, i) => ({ i, tries, tenant: 'acme' })));
      const rows = await effects(runId, 'fetch');
      const attempts = (i: number): (number | null)[] =>
        rows
          .filter((r) => r.item === i && r.event === 'start')
          .map((r) => r.retry)
          .sort();
      expect([0, 1, 2, 3].map(attempts)).toEqual([[0], [0, 1], [0], [0, 1, 2]]);
      const projection = await loadProjection(weft.storage, runId);
      const dispatched = [...projection.records.values()].filter((r) => r.id === 'fetch' && r.dispatch !== undefined);
      expect(dispatched.map((r) => r.item)).toContain(3);
      const view = await weft.getRun(runId);
      const items = view!.foreachItems!.fetch!;
      expect(items[0]!.tries).toBeUndefined();
      expect(items[3]!.tries!.map((t) => [t.status, (t.error as { message?: string } | undefined)?.message])).toEqual([
        ['failed', 'item 3 failed on attempt 1'],
        ['failed', 'item 3 failed on attempt 2'],
        ['success', undefined],
      ]);
      expect(items[1]!.tries!.map((t) => t.status)).toEqual(['failed', 'success']);
    });

    it('runs foreach items that are nested workflows in the run, and dispatches the parallel inside them', async () => {
      const inputData = [{ n: 1 }, { n: 2 }, { n: 3 }];
      const { runId } = await queue.enqueueStart('nested', { inputData });
      await settles(runId, 'success');
      const result = await resultOf(runId);
      expect(result.result).toEqual(
        [1, 2, 3].map((n) => ({
          plus: { n: n * 2 + 1, init: n, doubled: n * 2 },
          minus: { n: n * 2 - 1, init: n, doubled: n * 2 },
          more: { n: n * 2 + 2, init: n, doubled: n * 2 },
          less: { n: n * 2 - 2, init: n, doubled: n * 2 },
        })),
      );
      const projection = await loadProjection(weft.storage, runId);
      const records = [...projection.records.values()];
      // The nested runs and their first step executed in the run's own process. Of each one's parallel, the
      // fourth child found the coordinator's three slots taken and went out, in three rounds: to a worker that
      // had read the journal for an earlier one.
      expect(records.filter((r) => r.id === 'part').every((r) => r.dispatch === undefined)).toBe(true);
      expect(records.filter((r) => r.id.endsWith('double')).every((r) => r.dispatch === undefined)).toBe(true);
      const dispatched = records.filter((r) => r.dispatch !== undefined).map((r) => r.id);
      expect(dispatched.filter((id) => id === 'part.less')).toHaveLength(3);
      expect(['part.plus', 'part.minus', 'part.more', 'part.less']).toEqual(expect.arrayContaining(dispatched));
      const rows = await effects(runId);
      expect(new Set(rows.filter((r) => r.step === 'double').map((r) => r.worker)).size).toBe(1);
      expect(itemsOf(rows, 'end').length).toBe(15);

      const { local, mastra } = await referenceResults('nested', { inputData }, ['part']);
      const ours = normaliseOne(result, { foreach: new Set(['part']), loop: new Set() });
      expect(ours).toEqual(local);
      expect(ours).toEqual(mastra);
    });
  });

  describe('random workflows', () => {
    const SEEDS = range(30).map((i) => i + 1);

    it(`behave on two fanned-out workers as without fan-out (seeds ${SEEDS[0]}-${SEEDS.at(-1)}, start and stream)`, async () => {
      const specs = SEEDS.map((seed) => ({ seed, spec: { ...randomWorkflowSpec(seed), id: `random${seed}` } }));
      const engine = (): Weft =>
        new Weft({
          workflows: Object.fromEntries(
            specs.map(({ spec }) => [spec.id, buildWorkflow(weftApi as unknown as WorkflowApi, spec)]),
          ),
          storage: new PostgresStorage({ connectionString: PG_URL, schema: `${PREFIX}_rweft` }),
          leaseMs: LEASE_MS,
        });
      // Two workers in this process: runs started on the first dispatch their items to both.
      const [first, second] = [engine(), engine()];
      const workers = await Promise.all(
        [first, second].map((w) =>
          runWorker({
            weft: w,
            connectionString: PG_URL,
            schema: `${PREFIX}_rqueue`,
            fanOut: true,
            // One slot each: a step the coordinator cannot take goes out.
            attemptConcurrency: 1,
            pollInterval: 200,
          }),
        ),
      );
      try {
        for (const { seed, spec } of specs) {
          for (const mode of ['start', 'stream'] as const) {
            const local = await openWeft(spec, new MemoryStorage());
            const expected = await observe(local, spec, seed, mode).finally(() => local.close());
            const fanned = {
              createRun: () => first.getWorkflow(spec.id).createRun(),
              requestContext: (entries: [string, unknown][]) => new weftApi.RequestContext(entries),
              close: () => Promise.resolve(),
            };
            const actual = await observe(fanned, spec, seed, mode);
            expect(actual, `seed ${seed}, ${mode}: ${JSON.stringify(spec)}`).toEqual(expected);
          }
        }
        // They did fan out.
        let dispatched = 0;
        for (const { runId } of (await first.listRuns()).runs)
          for (const rec of (await loadProjection(first.storage, runId)).records.values())
            if (rec.dispatch !== undefined) dispatched++;
        expect(dispatched).toBeGreaterThan(20);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
        await Promise.all([first.close(), second.close()]);
      }
    }, 90_000);
  });

  // Each test waits for leases to expire, and may wait again for what it checks: room for a loaded machine.
  describe('when a worker dies or stops', { timeout: 60_000 }, () => {
    const children: Child[] = [];

    afterEach(async () => {
      for (const c of children.splice(0)) await reap(c);
    });

    /** Two workers that execute two attempts at once each. */
    async function pair(): Promise<[Child, Child]> {
      const started = await startWorkers(2, 'c', 'd');
      children.push(...started);
      return started as [Child, Child];
    }

    /** The item indices started on `worker` and not ended there. */
    const inFlight = (rows: readonly EffectRow[], worker: string): number[] => {
      const ended = new Set(itemsOf(rows, 'end', worker));
      return itemsOf(rows, 'start', worker).filter((i) => !ended.has(i));
    };

    /**
     * True when both slots of `worker` hold an item that hangs (started after its first item ended, with
     * `hang.after` 1): it can end no item before it is killed.
     */
    const stuckIn = (rows: readonly EffectRow[], worker: string): boolean => {
      const mine = rows.filter((r) => r.worker === worker);
      const firstEnd = mine.find((r) => r.event === 'end');
      const late = mine.filter((r) => r.event === 'start' && firstEnd !== undefined && r.at > firstEnd.at);
      const open = new Set(inFlight(rows, worker));
      return late.filter((r) => open.has(r.item!)).length === 2;
    };

    it("continues a killed worker's items on the other worker, without executing its finished items again", async () => {
      const workers = await pair();
      const inputData = { items: range(12), ms: 50, hang: { on: 'helper' as const, after: 1 } };
      const { runId } = await queue.enqueueStart('squares', { inputData });
      let coordinator = '';
      await until(async () => {
        const rows = await effects(runId);
        coordinator = rows.find((r) => r.step === 'prep')?.worker ?? '';
        return coordinator !== '';
      }, 'the run to start');
      const helper = workers.find((w) => w.name !== coordinator)!;
      const survivor = workers.find((w) => w.name === coordinator)!;
      // The helper finished an item (recorded in the journal) and is inside another one.
      await until(async () => {
        const rows = await effects(runId, 'square');
        const { ended } = await journaledItems(runId, 'square');
        const finished = itemsOf(rows, 'end', helper.name);
        // Both its slots hold an item: none is claimed there without having started.
        return finished.length > 0 && finished.every((i) => ended.includes(i)) && stuckIn(rows, helper.name);
      }, 'the helper to finish an item and be inside two others');
      const before = await effects(runId, 'square');
      const finishedByHelper = itemsOf(before, 'end', helper.name);
      const stuck = inFlight(before, helper.name);
      helper.child.kill('SIGKILL');
      expect(await helper.exited).toEqual({ code: null, signal: 'SIGKILL' });

      await squaresSucceed(runId);
      const rows = await effects(runId, 'square');
      expect(itemsOf(rows, 'end')).toEqual(range(12));
      // What the helper finished was not executed again; what it was inside was, on the survivor.
      for (const i of finishedByHelper) expect(rows.filter((r) => r.item === i && r.event === 'start')).toHaveLength(1);
      for (const i of stuck) expect(itemsOf(rows, 'end').filter((x) => x === i)).toEqual([i]);
      expect(itemsOf(rows, 'start', survivor.name)).toEqual(expect.arrayContaining(stuck));
      expect(stuck.every((i) => itemsOf(rows, 'end', survivor.name).includes(i))).toBe(true);
      // Executed again after its worker died, an item sees restart: true, as a step run again after a crash.
      expect(
        itemsOf(
          rows.filter((r) => r.restart === true),
          'start',
        ),
      ).toEqual(stuck);
    });

    it('hands the items of a worker stopped with SIGTERM back, for the other worker to execute', async () => {
      const workers = await pair();
      const inputData = { items: range(12), ms: 50, hang: { on: 'helper' as const, after: 1 } };
      const { runId } = await queue.enqueueStart('squares', { inputData });
      const coordinator = await coordinatorOf(runId);
      const helper = workers.find((w) => w.name !== coordinator)!;
      // An item it started after its first end never ends there.
      await until(async () => {
        const rows = (await effects(runId, 'square')).filter((r) => r.worker === helper.name);
        const firstEnd = rows.find((r) => r.event === 'end');
        return firstEnd !== undefined && rows.some((r) => r.event === 'start' && r.at > firstEnd.at);
      }, 'the helper to be inside an item that hangs');
      helper.child.kill('SIGTERM');
      // Its items that do not end within the grace are aborted and handed back, and the worker exits.
      expect(await helper.exited, helper.output()).toEqual({ code: 0, signal: null });
      const stuck = inFlight(await effects(runId, 'square'), helper.name);
      expect(stuck.length).toBeGreaterThan(0);
      await squaresSucceed(runId);
      const rows = await effects(runId, 'square');
      expect(itemsOf(rows, 'end')).toEqual(range(12));
      expect(itemsOf(rows, 'start', coordinator)).toEqual(expect.arrayContaining(stuck));
      expect(
        itemsOf(
          rows.filter((r) => r.restart === true),
          'start',
        ),
      ).toEqual(stuck);
    });

    it('continues a foreach on the other worker when the coordinator is killed, without executing finished items again', async () => {
      const workers = await pair();
      const inputData = { items: range(12), ms: 50, hang: { on: 'coordinator' as const, after: 1 } };
      const { runId } = await queue.enqueueStart('squares', { inputData });
      const coordinator = await coordinatorOf(runId);
      const victim = workers.find((w) => w.name === coordinator)!;
      const survivor = workers.find((w) => w !== victim)!;
      // Items ended on both, recorded in the journal; the coordinator is inside one, the survivor inside another.
      let journaled: number[] = [];
      await until(async () => {
        const rows = await effects(runId, 'square');
        journaled = (await journaledItems(runId, 'square')).ended;
        const finished = itemsOf(rows, 'end', victim.name);
        return (
          finished.length > 0 &&
          finished.every((i) => journaled.includes(i)) &&
          stuckIn(rows, victim.name) &&
          inFlight(rows, survivor.name).length > 0
        );
      }, 'items to end on both workers and to be executing on both');
      const before = await effects(runId, 'square');
      const onSurvivor = inFlight(before, survivor.name);
      const onVictim = inFlight(before, victim.name);
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });

      await squaresSucceed(runId);
      const rows = await effects(runId, 'square');
      expect(itemsOf(rows, 'end')).toEqual(range(12));
      // Items journaled before the kill were not executed again; those executing on the survivor were awaited.
      for (const i of journaled) expect(rows.filter((r) => r.item === i && r.event === 'start')).toHaveLength(1);
      for (const i of onSurvivor) expect(rows.filter((r) => r.item === i && r.event === 'start')).toHaveLength(1);
      // The survivor executed no item twice.
      const survivorStarts = itemsOf(rows, 'start', survivor.name);
      expect(new Set(survivorStarts).size).toBe(survivorStarts.length);
      expect((await weft.storage.getRun(runId))?.epoch).toBeGreaterThan(1);
      // The items the coordinator was inside ran again with restart: true. So may an item whose step it had
      // started but no worker had taken yet: it had not run.
      const restarted = itemsOf(
        rows.filter((r) => r.restart === true),
        'start',
      );
      expect(restarted).toEqual(expect.arrayContaining(onVictim));
      for (const i of restarted) if (!onVictim.includes(i)) expect(itemsOf(before, 'start')).not.toContain(i);
    });

    it('lets the successor of a coordinator that stalled past its lease finish the run when the stalled one wakes', async () => {
      const workers = await pair();
      const { runId } = await queue.enqueueStart('squares', { inputData: { items: range(12), ms: 250 } });
      const coordinator = await coordinatorOf(runId);
      await until(async () => (await journaledItems(runId, 'square')).ended.length > 0, 'an item to end');
      const stalled = workers.find((w) => w.name === coordinator)!;
      const epoch = (await weft.storage.getRun(runId))!.epoch;
      stalled.child.kill('SIGSTOP');
      try {
        // Its lease expires: the other worker takes the run over and awaits the dispatched items in flight.
        await until(async () => {
          const projection = await loadProjection(weft.storage, runId);
          return [...projection.records.values()].some(
            (r) => r.id === 'square' && r.restart === true && r.dispatch !== undefined,
          );
        }, 'the run to be taken over');
        expect((await weft.storage.getRun(runId))!.epoch).toBeGreaterThan(epoch);
      } finally {
        stalled.child.kill('SIGCONT');
      }
      // Waking, the stalled process finds the run is no longer its own: it stops there, leaving the attempts alone.
      await squaresSucceed(runId);
      expect(itemsOf(await effects(runId, 'square'), 'end')).toEqual(expect.arrayContaining(range(12)));
      expect(stalled.alive()).toBe(true);
    });
  });

  describe('bad input', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'weft-fan-out-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /**
     * What runWorker refuses to start with, for a Weft on `storage` (Postgres by default) and these
     * options, and how many connections it left in the pool it was given.
     */
    async function refusal(
      options: Pick<RunWorkerOptions, 'fanOut' | 'attemptConcurrency'>,
      storage: WeftStorage = new PostgresStorage({ connectionString: PG_URL, schema: WEFT_SCHEMA }),
    ): Promise<{ error: unknown; connections: number }> {
      const local = new Weft({
        workflows: fanOutWorkflows(weftApi as unknown as WorkflowApi, quietHooks),
        storage,
        recovery: false,
      });
      const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
      pool.on('error', () => undefined);
      try {
        const error = await runWorker({ weft: local, pgPool: pool, schema: QUEUE_SCHEMA, ...options }).then(
          async (started) => started.stop(),
          (e: unknown) => e,
        );
        return { error, connections: pool.totalCount };
      } finally {
        await local.close();
        await pool.end();
      }
    }

    it('refuses to fan out a workflow the worker does not serve, naming it', async () => {
      const { error } = await refusal({ fanOut: ['squares', 'unknown'] });
      expect(WeftError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain('"unknown"');
      expect((error as Error).message).not.toContain('"squares"');
    });

    it('refuses fan-out on SQLite storage, naming the storage', async () => {
      for (const fanOut of [true, ['squares']]) {
        const { error } = await refusal({ fanOut }, new SqliteStorage({ path: join(dir, 'weft.db') }));
        expect(WeftError.is(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as Error).message).toContain('"sqlite"');
      }
    });

    it('refuses an attemptConcurrency below 1 before it starts fetching jobs', async () => {
      for (const attemptConcurrency of [0, 1.5]) {
        const { error, connections } = await refusal({ fanOut: true, attemptConcurrency });
        expect(WeftError.is(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as Error).message).toContain(`attemptConcurrency ${attemptConcurrency}`);
        // Nothing was started: no job queue left running behind the error.
        expect(connections).toBe(0);
      }
    });
  });
});
