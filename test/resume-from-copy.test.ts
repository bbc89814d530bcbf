// A resume in the process where the run suspended plans from the copy of the run kept then, with no read
// back; a copy made stale by another process (a resume, a cancel, a delete and a new run of the same id)
// is refused by the claim and the resume plans again from storage, with the results and errors of a
// resume that read the run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow, type WeftStorage } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { PG_URL, dropSchemas, unreachable } from './support/postgres.js';
import pg from 'pg';

const num = z.object({ n: z.number() });

/** Two steps that each suspend once; `calls` records each execution with the step's id. */
function twoApprovals(calls: string[]) {
  const approval = (id: string, add: number) =>
    createStep({
      id,
      inputSchema: num,
      outputSchema: num,
      resumeSchema: z.object({ ok: z.boolean() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        calls.push(id);
        if (!resumeData) return (await suspend({ waiting: id })) as never;
        return { n: inputData.n + add };
      },
    });
  return createWorkflow({ id: 'approvals', inputSchema: num, outputSchema: num })
    .then(approval('first', 1))
    .then(approval('second', 10))
    .commit();
}

const dir = mkdtempSync(join(tmpdir(), 'weft-copy-'));
const schemaPrefix = `weft_copy_${randomBytes(4).toString('hex')}`;
let schemas = 0;
const pgProblem = await unreachable();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (schemas === 0) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await dropSchemas(admin, schemaPrefix).finally(() => admin.end());
});

interface Store {
  name: string;
  /** Opens storages on one new database: each call gives another connection to the same one. */
  shared(): () => WeftStorage;
}

const stores: Store[] = [
  {
    name: 'a SQLite file',
    shared() {
      const path = join(dir, `${randomBytes(4).toString('hex')}.db`);
      return () => new SqliteStorage({ path });
    },
  },
];
if (pgProblem === null) {
  stores.push({
    name: 'Postgres',
    shared() {
      const schema = `${schemaPrefix}_${++schemas}`;
      return () => new PostgresStorage({ connectionString: PG_URL, schema });
    },
  });
} else if (process.env.WEFT_REQUIRE_PG === '1') {
  throw new Error(`Cannot reach Postgres at ${PG_URL}: ${pgProblem} (WEFT_REQUIRE_PG=1)`);
} else {
  console.warn(`Leaving Postgres out of the resume-from-copy tests: ${pgProblem}`);
}

/** Two engine instances on one database (as two processes), each with its own copy of the workflow. */
async function twoInstances(store: Store) {
  const open = store.shared();
  const make = async () => {
    const calls: string[] = [];
    const wf = twoApprovals(calls);
    const storage = open();
    const weft = new Weft({ workflows: { wf }, storage, recovery: false });
    await weft.init();
    return { weft, wf, calls, storage };
  };
  const here = await make();
  const there = await make();
  return { here, there, close: () => Promise.all([here.weft.close(), there.weft.close()]) };
}

/** Counts the reads of runs and journals that `storage` serves. */
function countReads(storage: WeftStorage): () => number {
  const methods = storage as unknown as Record<string, (...args: unknown[]) => unknown>;
  const spies = ['getRun', 'readJournal', 'readRunWithJournal']
    .filter((method) => typeof methods[method] === 'function')
    .map((method) => vi.spyOn(methods, method));
  return () => spies.reduce((total, spy) => total + spy.mock.calls.length, 0);
}

describe.each(stores)('resuming from the copy of a suspended run, on $name', (store) => {
  it('plans a resume in the process where the run suspended without reading the run back', async () => {
    const { here, close } = await twoInstances(store);
    try {
      const run = await here.wf.createRun();
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
      const reads = countReads(here.storage);
      expect((await run.resume({ step: 'first', resumeData: { ok: true } })).status).toBe('suspended');
      expect(await run.resume({ resumeData: { ok: true } })).toMatchObject({ status: 'success', result: { n: 12 } });
      expect(reads()).toBe(0);
      expect(here.calls).toEqual(['first', 'first', 'second', 'second']);
    } finally {
      await close();
    }
  });

  it('plans again from storage when another process resumed the run since', async () => {
    const { here, there, close } = await twoInstances(store);
    try {
      const run = await here.wf.createRun();
      await run.start({ inputData: { n: 1 } });
      const elsewhere = await there.wf.createRun({ runId: run.runId });
      expect((await elsewhere.resume({ step: 'first', resumeData: { ok: true } })).status).toBe('suspended');
      // The copy here says `first` waits, and a resume naming no step would take it; storage says `second` does.
      expect(await run.resume({ resumeData: { ok: true } })).toMatchObject({ status: 'success', result: { n: 12 } });
      expect(here.calls).toEqual(['first', 'second']);
      expect(there.calls).toEqual(['first', 'second']);
    } finally {
      await close();
    }
  });

  it('refuses a resume of a step resumed elsewhere since, as a resume that read the run does', async () => {
    const { here, there, close } = await twoInstances(store);
    try {
      const run = await here.wf.createRun();
      await run.start({ inputData: { n: 1 } });
      const elsewhere = await there.wf.createRun({ runId: run.runId });
      await elsewhere.resume({ step: 'first', resumeData: { ok: true } });
      await expect(run.resume({ step: 'first', resumeData: { ok: true } })).rejects.toThrow(/first/);
      expect(here.calls).toEqual(['first']);
      // Nothing was claimed: the run still waits for `second`.
      expect((await here.weft.getRun(run.runId))?.status).toBe('suspended');
    } finally {
      await close();
    }
  });

  it('finds a run canceled elsewhere not suspended any more', async () => {
    const { here, there, close } = await twoInstances(store);
    try {
      const run = await here.wf.createRun();
      await run.start({ inputData: { n: 1 } });
      await there.weft.cancelRun(run.runId);
      await expect(run.resume({ resumeData: { ok: true } })).rejects.toMatchObject({
        code: 'RUN_NOT_SUSPENDED',
        actualStatus: 'canceled',
      });
      expect(here.calls).toEqual(['first']);
    } finally {
      await close();
    }
  });

  it('resumes the new run of a reused id, not the deleted run the copy was made of', async () => {
    const { here, there, close } = await twoInstances(store);
    try {
      const runId = `reused-${randomBytes(3).toString('hex')}`;
      const first = await here.wf.createRun({ runId });
      await first.start({ inputData: { n: 1 } });
      await new Promise((resolve) => setTimeout(resolve, 5));
      // Deleted and started again elsewhere: same id, same status, same epoch, another input.
      await there.weft.deleteRun(runId);
      const again = await there.wf.createRun({ runId });
      expect((await again.start({ inputData: { n: 100 } })).status).toBe('suspended');
      expect((await there.weft.getRun(runId))?.status).toBe('suspended');
      const resumed = await first.resume({ step: 'first', resumeData: { ok: true } });
      expect(resumed.status).toBe('suspended');
      expect(await first.resume({ resumeData: { ok: true } })).toMatchObject({ result: { n: 111 } });
    } finally {
      await close();
    }
  });

  it('lets one of two resumes at once resume the step, and refuses the other, which resumes nothing later', async () => {
    const { here, close } = await twoInstances(store);
    try {
      const run = await here.wf.createRun();
      await run.start({ inputData: { n: 1 } });
      // Neither names a step: the loser must not go on to resume `second` once the winner suspends there.
      const both = await Promise.allSettled([
        run.resume({ resumeData: { ok: true } }),
        run.resume({ resumeData: { ok: true } }),
      ]);
      const won = both.filter((r) => r.status === 'fulfilled');
      const lost = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(won[0]!.value.status).toBe('suspended');
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toMatchObject({ code: 'RUN_ALREADY_CLAIMED' });
      // `first` ran to suspend and once resumed; `second` ran once, to suspend.
      expect(here.calls).toEqual(['first', 'first', 'second']);
      expect((await here.weft.getRun(run.runId))?.status).toBe('suspended');
    } finally {
      await close();
    }
  });
});
