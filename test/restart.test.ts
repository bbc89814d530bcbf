// restart() and automatic recovery: a run whose owner died goes on from its journal (catalogue RS1-RS10).
// A second `Weft` over the same MemoryStorage stands in for a second process; the first one's
// hanging step stands in for a dead owner. Crash tests with real processes are in crash.test.ts.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, WeftError, createStep, createWorkflow } from '../src/index.js';
import type { Workflow } from '../src/index.js';
import { pause, until } from './support/wait.js';

const num = z.object({ n: z.number() });

/** What the steps of one "process" did: executions per step id, and their `restart` flags. */
interface Trace {
  runs: Record<string, number>;
  restarts: string[];
  resumeData: unknown[];
}

/** A step that adds `add`, counts its executions, and hangs forever while `hang()` says so. */
function counted(id: string, trace: Trace, hang: () => boolean, add = 1) {
  return createStep({
    id,
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData, restart }) => {
      trace.runs[id] = (trace.runs[id] ?? 0) + 1;
      if (restart) trace.restarts.push(id);
      if (hang()) await new Promise(() => undefined);
      return { n: inputData.n + add };
    },
  });
}

const newTrace = (): Trace => ({ runs: {}, restarts: [], resumeData: [] });

/**
 * Two instances over one storage. The first executes `build(trace, hang)` with `hang` true for
 * `hangAt`, so its run stops there for good; the second builds the same workflow with no hang.
 */
async function interrupted(
  build: (trace: Trace, hangAt: string | undefined) => Workflow,
  hangAt: string,
  options: { leaseMs?: number } = {},
) {
  const storage = new MemoryStorage();
  const first = newTrace();
  const wfA = build(first, hangAt);
  // `a` stands for a process that froze: it never renews its lease.
  const a = new Weft({
    workflows: { wfA },
    storage,
    recovery: false,
    leaseMs: options.leaseMs ?? 60_000,
    ownershipCheckMs: 3_600_000,
  });
  const runA = await wfA.createRun();
  void runA.start({ inputData: { n: 0 } }).catch(() => undefined);
  await until(() => (first.runs[hangAt] ?? 0) > 0);
  await pause(10);
  const second = newTrace();
  const wfB = build(second, undefined);
  return { storage, a, runA, first, second, wfB, runId: runA.runId };
}

function chain(trace: Trace, hangAt: string | undefined): Workflow {
  const s = (id: string) => counted(id, trace, () => hangAt === id);
  return createWorkflow({ id: 'chain', inputSchema: num, outputSchema: num })
    .then(s('a'))
    .then(s('b'))
    .then(s('c'))
    .commit();
}

describe('restart', () => {
  it('RS1: restart of a run that was never started is refused as not active', async () => {
    const wf = chain(newTrace(), undefined);
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const error = await run.restart().catch((e: unknown) => e);
    expect(WeftError.is(error, 'RUN_NOT_ACTIVE')).toBe(true);
    expect((error as Error).message).toMatch(/"pending".*not active/);
    await weft.close();
  });

  it('RS2: restart of a suspended run is refused; a finished run returns its stored result without running a step', async () => {
    const trace = newTrace();
    const waitStep = createStep({
      id: 'wait',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData, suspend, resumeData }) => {
        if (resumeData === undefined) await suspend({});
        return inputData;
      },
    });
    const suspending = createWorkflow({ id: 'rs2-s', inputSchema: num, outputSchema: num }).then(waitStep).commit();
    const done = chain(trace, undefined);
    const failing = createWorkflow({ id: 'rs2-f', inputSchema: num, outputSchema: num })
      .then(
        createStep({
          id: 'bad',
          inputSchema: num,
          outputSchema: num,
          execute: async () => {
            trace.runs.bad = (trace.runs.bad ?? 0) + 1;
            throw new Error('boom');
          },
        }),
      )
      .commit();
    const weft = new Weft({ workflows: { suspending, done, failing }, storage: new MemoryStorage() });

    const s = await suspending.createRun();
    await s.start({ inputData: { n: 1 } });
    const error = await s.restart().catch((e: unknown) => e);
    expect(WeftError.is(error, 'RUN_NOT_ACTIVE')).toBe(true);
    expect((error as Error).message).toMatch(/"suspended"/);
    expect((await suspending.getWorkflowRunById(s.runId))?.status).toBe('suspended');

    const ok = await done.createRun();
    const first = await ok.start({ inputData: { n: 1 } });
    const again = await ok.restart();
    expect(again.status).toBe('success');
    expect(again.result).toEqual(first.result);
    expect(trace.runs).toMatchObject({ a: 1, b: 1, c: 1 });

    const f = await failing.createRun();
    await f.start({ inputData: { n: 1 } });
    const failed = await f.restart();
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toBe('boom');
    expect(trace.runs.bad).toBe(1);
    await weft.close();
  });

  it('RS3/RS4/RS10: restart runs the interrupted step again with restart: true and never the finished ones', async () => {
    const { a, second, wfB, runId, storage } = await interrupted(chain, 'b');
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const before = await b.getRun(runId);
    expect(before?.status).toBe('running');
    expect(before?.steps.a?.status).toBe('success');
    expect(before?.steps.b?.status).toBe('running');
    expect(before?.steps.b?.payload).toEqual({ n: 1 });

    const result = await (await wfB.createRun({ runId })).restart();
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 3 });
    expect(result.input).toEqual({ n: 0 });
    expect(Object.keys(result.steps)).toEqual(expect.arrayContaining(['input', 'a', 'b', 'c']));
    expect(second.runs).toEqual({ b: 1, c: 1 });
    expect(second.restarts).toEqual(['b']);
    await a.close();
    await b.close();
  });

  it("RS4: restart takes ownership at once with a new epoch; the previous owner's later writes are refused", async () => {
    const storage = new MemoryStorage();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let slowRuns = 0;
    const build = (wait: boolean) =>
      createWorkflow({ id: 'fence', inputSchema: num, outputSchema: num })
        .then(
          createStep({
            id: 'slow',
            inputSchema: num,
            outputSchema: num,
            execute: async ({ inputData }) => {
              slowRuns++;
              if (wait) await gate;
              return { n: inputData.n + (wait ? 100 : 1) };
            },
          }),
        )
        .commit();
    const wfA = build(true);
    const a = new Weft({ workflows: { wfA }, storage, recovery: false });
    const runA = await wfA.createRun();
    const startedA = runA.start({ inputData: { n: 0 } });
    await until(() => slowRuns === 1);
    const epochBefore = (await storage.getRun(runA.runId))!.epoch;

    const wfB = build(false);
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const result = await (await wfB.createRun({ runId: runA.runId })).restart();
    expect(result.result).toEqual({ n: 1 });
    expect((await storage.getRun(runA.runId))!.epoch).toBeGreaterThan(epochBefore);

    const journalBefore = await storage.readJournal(runA.runId);
    release();
    const late = await startedA.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(WeftError.is(late, 'RUN_OWNERSHIP_LOST')).toBe(true);
    expect(await storage.readJournal(runA.runId)).toEqual(journalBefore);
    const view = await b.getRun(runA.runId);
    expect(view?.status).toBe('success');
    expect(view?.result).toEqual({ n: 1 });
    await a.close();
    await b.close();
  });

  it('RS5: in a parallel block, a finished branch is kept and only the interrupted branch runs again', async () => {
    const build = (trace: Trace, hangAt: string | undefined): Workflow => {
      const s = (id: string, add: number) => counted(id, trace, () => hangAt === id, add);
      const join = createStep({
        id: 'join',
        inputSchema: z.object({ fast: num, slow: num }),
        outputSchema: num,
        execute: async ({ inputData }) => ({ n: inputData.fast.n + inputData.slow.n }),
      });
      return createWorkflow({ id: 'par', inputSchema: num, outputSchema: num })
        .then(s('first', 1))
        .parallel([s('fast', 10), s('slow', 100)])
        .then(join)
        .commit();
    };
    const { a, first, second, wfB, runId, storage } = await interrupted(build, 'slow');
    await until(() => (first.runs.fast ?? 0) > 0);
    await pause(10);
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const result = await (await wfB.createRun({ runId })).restart();
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 11 + 101 });
    expect(second.runs).toEqual({ slow: 1 });
    expect(second.restarts).toEqual(['slow']);
    await a.close();
    await b.close();
  });

  it('RS5: in a foreach, finished items are kept and only the interrupted items run again', async () => {
    const build = (trace: Trace, hangAt: string | undefined): Workflow => {
      const item = createStep({
        id: 'item',
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData, restart }) => {
          const id = `item${inputData.n}`;
          trace.runs[id] = (trace.runs[id] ?? 0) + 1;
          if (restart) trace.restarts.push(id);
          if (hangAt === id) await new Promise(() => undefined);
          return { n: inputData.n * 10 };
        },
      });
      const list = createStep({
        id: 'list',
        inputSchema: num,
        outputSchema: z.array(num),
        execute: async () => [0, 1, 2, 3].map((n) => ({ n })),
      });
      return createWorkflow({ id: 'each', inputSchema: num, outputSchema: z.array(num) })
        .then(list)
        .foreach(item, { concurrency: 1 })
        .commit();
    };
    const { a, second, wfB, runId, storage } = await interrupted(build, 'item2');
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const result = await (await wfB.createRun({ runId })).restart();
    expect(result.status).toBe('success');
    expect(result.result).toEqual([0, 10, 20, 30].map((n) => ({ n })));
    expect(second.runs).toEqual({ item2: 1, item3: 1 });
    expect(second.restarts).toEqual(['item2']);
    await a.close();
    await b.close();
  });

  it('RS6/RS7: restart goes on inside a nested workflow from its interrupted step and keeps the state set before the crash', async () => {
    const build = (trace: Trace, hangAt: string | undefined): Workflow => {
      const inner1 = createStep({
        id: 'inner1',
        inputSchema: num,
        outputSchema: num,
        stateSchema: z.object({ mark: z.string().optional() }),
        execute: async ({ inputData, setState }) => {
          trace.runs.inner1 = (trace.runs.inner1 ?? 0) + 1;
          await setState({ mark: 'set-in-nested' });
          return { n: inputData.n + 1 };
        },
      });
      const inner2 = counted('inner2', trace, () => hangAt === 'inner2');
      const after = createStep({
        id: 'after',
        inputSchema: num,
        outputSchema: z.object({ n: z.number(), mark: z.string() }),
        execute: async ({ inputData, state }) => {
          trace.runs.after = (trace.runs.after ?? 0) + 1;
          return { n: inputData.n, mark: String(state.mark) };
        },
      });
      const nested = createWorkflow({ id: 'nested', inputSchema: num, outputSchema: num })
        .then(inner1)
        .then(inner2)
        .commit();
      return createWorkflow({
        id: 'outer',
        inputSchema: num,
        outputSchema: z.object({ n: z.number(), mark: z.string() }),
      })
        .then(nested)
        .then(after)
        .commit();
    };
    const { a, second, wfB, runId, storage } = await interrupted(build, 'inner2');
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const before = await b.getRun(runId);
    expect(before?.steps.nested?.status).toBe('running');
    expect(before?.steps['nested.inner1']?.status).toBe('success');
    const result = await (await wfB.createRun({ runId })).restart();
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 2, mark: 'set-in-nested' });
    expect(second.runs).toEqual({ inner2: 1, after: 1 });
    expect(second.restarts).toEqual(['inner2']);
    const view = await b.getRun(runId);
    expect(view?.steps.nested?.status).toBe('success');
    expect(view?.steps['nested.inner2']?.status).toBe('success');
    await a.close();
    await b.close();
  });

  it('RS8/RS9: a step interrupted while resumed runs again with its original (falsy) resume data; the run can suspend and resume again', async () => {
    const build = (trace: Trace, hangAt: string | undefined): Workflow => {
      const approve = createStep({
        id: 'approve',
        inputSchema: num,
        outputSchema: num,
        resumeSchema: z.number(),
        execute: async ({ inputData, resumeData, suspend, restart }) => {
          trace.runs.approve = (trace.runs.approve ?? 0) + 1;
          if (resumeData === undefined) {
            await suspend({ ask: 'first' });
            return inputData;
          }
          trace.resumeData.push(resumeData);
          if (restart) trace.restarts.push('approve');
          if (hangAt === 'approve') await new Promise(() => undefined);
          return { n: inputData.n + resumeData };
        },
      });
      const confirm = createStep({
        id: 'confirm',
        inputSchema: num,
        outputSchema: num,
        resumeSchema: z.object({ add: z.number() }),
        execute: async ({ inputData, resumeData, suspend }) => {
          trace.runs.confirm = (trace.runs.confirm ?? 0) + 1;
          if (!resumeData) {
            await suspend({ ask: 'second' });
            return inputData;
          }
          return { n: inputData.n + resumeData.add };
        },
      });
      return createWorkflow({ id: 'resumed', inputSchema: num, outputSchema: num })
        .then(approve)
        .then(confirm)
        .commit();
    };
    const storage = new MemoryStorage();
    const first = newTrace();
    const wfA = build(first, 'approve');
    const a = new Weft({ workflows: { wfA }, storage, recovery: false });
    const runA = await wfA.createRun();
    expect((await runA.start({ inputData: { n: 5 } })).status).toBe('suspended');
    void runA.resume({ resumeData: 0 }).catch(() => undefined);
    await until(() => first.resumeData.length === 1);

    const second = newTrace();
    const wfB = build(second, undefined);
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const runB = await wfB.createRun({ runId: runA.runId });
    const restarted = await runB.restart();
    expect(second.resumeData).toEqual([0]);
    expect(second.restarts).toEqual(['approve']);
    expect(restarted.status).toBe('suspended');
    expect(restarted.suspended).toEqual([['confirm']]);
    const done = await runB.resume({ resumeData: { add: 10 } });
    expect(done.status).toBe('success');
    expect(done.result).toEqual({ n: 15 });
    await a.close();
    await b.close();
  });

  it('RS4: a run whose owner died during a sleep wakes at its original time; the step before the sleep is not run again', async () => {
    const build = (trace: Trace, hangAt: string | undefined): Workflow => {
      const s = (id: string) => counted(id, trace, () => hangAt === id);
      const wf = createWorkflow({ id: 'sleepy', inputSchema: num, outputSchema: num })
        .then(s('before'))
        .sleep(400)
        .then(s('after'))
        .commit();
      return wf;
    };
    const storage = new MemoryStorage();
    const first = newTrace();
    const wfA = build(first, undefined);
    // The first owner never renews its lease (recovery off) and is abandoned while sleeping.
    const a = new Weft({ workflows: { wfA }, storage, recovery: false, leaseMs: 60_000 });
    const runA = await wfA.createRun();
    const t0 = Date.now();
    void runA.start({ inputData: { n: 0 } }).catch(() => undefined);
    await until(async () => (await storage.getRun(runA.runId))?.status === 'waiting');
    const wakeAt = (await storage.getRun(runA.runId))!.wakeAt!;
    expect(wakeAt).toBeGreaterThanOrEqual(t0 + 400);

    const second = newTrace();
    const wfB = build(second, undefined);
    const b = new Weft({ workflows: { wfB }, storage, recovery: false });
    const result = await (await wfB.createRun({ runId: runA.runId })).restart();
    expect(Date.now()).toBeGreaterThanOrEqual(wakeAt);
    expect(result.status).toBe('success');
    expect(second.runs).toEqual({ after: 1 });
    expect(first.runs).toEqual({ before: 1 });
    await a.close();
    await b.close();
  });

  it('recovers by itself, at start-up, a run whose lease expired: once, with no call', async () => {
    const { a, second, wfB, runId, storage } = await interrupted(chain, 'b', { leaseMs: 200 });
    await pause(250); // the lease of the dead owner expires
    const b = new Weft({ workflows: { wfB }, storage, leaseMs: 200 });
    const c = new Weft({ workflows: { wfC: chain(second, undefined) }, storage, leaseMs: 200 });
    await Promise.race([
      Promise.all([b.init(), c.init()]),
      pause(3_000).then(() => Promise.reject(new Error('init hung'))),
    ]);
    await until(async () => (await storage.getRun(runId))?.status === 'success');
    await pause(300); // more recovery ticks: nothing runs again
    const view = await b.getRun(runId);
    expect(view?.result).toEqual({ n: 3 });
    expect(second.runs).toEqual({ b: 1, c: 1 });
    expect(second.restarts).toEqual(['b']);
    await a.close();
    await b.close();
    await c.close();
  });

  it('recovers periodically a run whose owner stops renewing its lease, while the engine is already running', async () => {
    const storage = new MemoryStorage();
    const b = new Weft({ workflows: { wfB: chain(newTrace(), undefined) }, storage, leaseMs: 200 });
    await b.init();
    const first = newTrace();
    const wfA = chain(first, 'c');
    // A process that froze: it never renews its lease.
    const dead = new Weft({ workflows: { wfA }, storage, recovery: false, leaseMs: 200, ownershipCheckMs: 3_600_000 });
    const run = await wfA.createRun();
    void run.start({ inputData: { n: 0 } }).catch(() => undefined);
    await until(() => (first.runs.c ?? 0) > 0);
    await until(async () => (await storage.getRun(run.runId))?.status === 'success', 'the run to succeed', 3_000);
    const view = await b.getRun(run.runId);
    expect(view?.result).toEqual({ n: 3 });
    expect(first.runs).toEqual({ a: 1, b: 1, c: 1 });
    await dead.close();
    await b.close();
  });

  it('a live owner keeps its lease: recovery in another instance does not take its run', async () => {
    const storage = new MemoryStorage();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const build = () =>
      createWorkflow({ id: 'live', inputSchema: num, outputSchema: num })
        .then(
          createStep({
            id: 'long',
            inputSchema: num,
            outputSchema: num,
            execute: async ({ inputData }) => {
              runs++;
              await gate;
              return inputData;
            },
          }),
        )
        .commit();
    const wfA = build();
    const a = new Weft({ workflows: { wfA }, storage, leaseMs: 200 });
    const run = await wfA.createRun();
    const started = run.start({ inputData: { n: 7 } });
    const wfB = build();
    const b = new Weft({ workflows: { wfB }, storage, leaseMs: 200 });
    await b.init();
    await pause(700);
    release();
    expect((await started).status).toBe('success');
    expect(runs).toBe(1);
    await a.close();
    await b.close();
  });
  it('close() hands a running run over: no cancel is recorded, its lease expires at once, and another instance finishes it', async () => {
    const storage = new MemoryStorage();
    const first = newTrace();
    const wfA = chain(first, 'b');
    const a = new Weft({ workflows: { wfA }, storage, recovery: false });
    const run = await wfA.createRun();
    const started = run.start({ inputData: { n: 0 } }).catch((e: unknown) => e);
    await until(() => (first.runs.b ?? 0) > 0);
    await a.close();
    expect(WeftError.is(await started, 'ENGINE_CLOSED')).toBe(true);
    const row = await storage.getRun(run.runId);
    expect(row?.status).toBe('running');
    expect(row?.leaseExpiresAt).toBeLessThan(Date.now());

    const second = newTrace();
    const b = new Weft({ workflows: { wfB: chain(second, undefined) }, storage, leaseMs: 60_000 });
    await b.init(); // recovery at start-up takes the handed-over run without waiting for a lease to run out
    await until(async () => (await storage.getRun(run.runId))?.status === 'success');
    expect(second.runs).toEqual({ b: 1, c: 1 });
    expect(second.restarts).toEqual(['b']);
    expect((await b.getRun(run.runId))?.result).toEqual({ n: 3 });
    await b.close();
  });
  it('recovery finds its own expired run behind many expired runs of workflows served elsewhere', async () => {
    const { a, second, wfB, runId, storage } = await interrupted(chain, 'b', { leaseMs: 200 });
    // 120 older expired runs of a workflow no instance here serves (its workers are down).
    for (let i = 0; i < 120; i++) {
      await storage.createRun({
        runId: `foreign-${i}`,
        workflowId: 'served-elsewhere',
        resourceId: null,
        createdAt: 1 + i,
      });
      await storage.updateRun(
        `foreign-${i}`,
        {},
        { status: 'running', leaseOwner: 'gone', leaseExpiresAt: 1, updatedAt: 1 + i },
      );
    }
    await pause(250); // the lease of the dead owner expires
    const b = new Weft({ workflows: { wfB }, storage, leaseMs: 200 });
    await b.init();
    await until(async () => (await storage.getRun(runId))?.status === 'success');
    expect(second.runs).toEqual({ b: 1, c: 1 });
    expect((await storage.getRun('foreign-0'))?.status).toBe('running');
    await a.close();
    await b.close();
  });
});
