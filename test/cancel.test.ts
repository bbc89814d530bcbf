// cancel(): the abort reaches running steps, the run is canceled at once and stays so (catalogue C1-C9).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, createStep, createWorkflow } from '../src/index.js';
import { pause, until } from './support/wait.js';

const num = z.object({ n: z.number() });

/** A step that calls abort() and returns its input. */
function abortingStep() {
  return createStep({
    id: 'aborter',
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData, abort }) => {
      abort();
      return inputData;
    },
  });
}

/** A step that calls `ran` each time it runs and returns its input. */
function countingStep(id: string, ran: () => void) {
  return createStep({
    id,
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData }) => {
      ran();
      return inputData;
    },
  });
}

/** step1 waits (honouring its abortSignal only when asked) until released; step2 records that it ran. */
function slowWorkflow(id: string, opts: { honourAbort: boolean }) {
  const seen = { aborted: false, entered: false, step2: 0, release: () => undefined as void };
  const gate = new Promise<void>((r) => (seen.release = r));
  const step1 = createStep({
    id: 'step1',
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData, abortSignal }) => {
      seen.entered = true;
      abortSignal.addEventListener('abort', () => (seen.aborted = true));
      if (opts.honourAbort) {
        await Promise.race([gate, new Promise((r) => abortSignal.addEventListener('abort', r))]);
      } else {
        await gate;
      }
      return { n: inputData.n + 1 };
    },
  });
  const step2 = createStep({
    id: 'step2',
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData }) => {
      seen.step2++;
      return inputData;
    },
  });
  const wf = createWorkflow({ id, inputSchema: num, outputSchema: num }).then(step1).then(step2).commit();
  return { wf, seen };
}

describe('cancel', () => {
  it('C1: cancel while a step runs fires its abortSignal, ends the run canceled and records the step as canceled', async () => {
    const { wf, seen } = slowWorkflow('c1', { honourAbort: true });
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const started = run.start({ inputData: { n: 1 } });
    await until(() => seen.entered);
    const t0 = Date.now();
    await run.cancel();
    const result = await started;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(seen.aborted).toBe(true);
    expect(result.status).toBe('canceled');
    expect(seen.step2).toBe(0);
    const stored = await wf.getWorkflowRunById(run.runId);
    expect(stored?.status).toBe('canceled');
    expect(stored?.steps.step1?.status).toBe('canceled');
    expect(stored?.steps.step2).toBeUndefined();
    await weft.close();
  });

  it('C1: a late result from a step that ignores the abort is discarded; the run stays canceled', async () => {
    const { wf, seen } = slowWorkflow('c1-late', { honourAbort: false });
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const started = run.start({ inputData: { n: 1 } });
    await until(() => seen.entered);
    await run.cancel();
    expect((await started).status).toBe('canceled');
    seen.release();
    await pause(30);
    const stored = await wf.getWorkflowRunById(run.runId);
    expect(stored?.status).toBe('canceled');
    expect(stored?.steps.step1?.status).toBe('canceled');
    expect(stored?.steps.step1?.output).toBeUndefined();
    expect(seen.step2).toBe(0);
    await weft.close();
  });

  it('C2: a step that calls abort() cancels the run and the next step does not run', async () => {
    let after = 0;
    const aborter = abortingStep();
    const next = countingStep('next', () => after++);
    const wf = createWorkflow({ id: 'c2', inputSchema: num, outputSchema: num }).then(aborter).then(next).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('canceled');
    expect(after).toBe(0);
    // The step that aborted finished its own work: its value is kept as its output.
    expect(result.steps.aborter).toMatchObject({ status: 'success', output: { n: 1 } });
    expect(result.steps.next).toBeUndefined();
    const stored = await wf.getWorkflowRunById(run.runId);
    expect(stored?.status).toBe('canceled');
    expect(stored?.steps.aborter).toMatchObject({ status: 'success', output: { n: 1 } });
    await weft.close();
  });

  for (const kind of ['sleep', 'sleepUntil'] as const) {
    it(`C3: cancel during ${kind} of 60 s ends the wait at once and the canceled status is never overwritten`, async () => {
      let after = 0;
      const first = createStep({
        id: 'first',
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData }) => inputData,
      });
      const last = createStep({
        id: 'last',
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData }) => {
          after++;
          return inputData;
        },
      });
      const builder = createWorkflow({ id: `c3-${kind}`, inputSchema: num, outputSchema: num }).then(first);
      const wf = (kind === 'sleep' ? builder.sleep(60_000) : builder.sleepUntil(new Date(Date.now() + 60_000)))
        .then(last)
        .commit();
      const storage = new MemoryStorage();
      const weft = new Weft({ workflows: { wf }, storage });
      const run = await wf.createRun();
      const started = run.start({ inputData: { n: 1 } });
      await until(async () => (await storage.getRun(run.runId))?.status === 'waiting');
      const t0 = Date.now();
      await run.cancel();
      const result = await started;
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(result.status).toBe('canceled');
      await pause(50);
      expect(after).toBe(0);
      const row = await storage.getRun(run.runId);
      expect(row?.status).toBe('canceled');
      expect(row?.wakeAt).toBeNull();
      await weft.close();
    });
  }

  it('C2: a parallel sibling whose code had not begun when another step called abort() never runs', async () => {
    let siblingRan = 0;
    const aborter = abortingStep();
    const sibling = countingStep('sibling', () => siblingRan++);
    const wf = createWorkflow({ id: 'c2-parallel', inputSchema: num, outputSchema: z.any() })
      .parallel([aborter, sibling])
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('canceled');
    expect(siblingRan).toBe(0);
    expect(result.steps.sibling).toMatchObject({ status: 'canceled' });
    await weft.close();
  });

  it('C4: cancel on a run that succeeded or failed changes nothing', async () => {
    const ok = createStep({
      id: 'ok',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => inputData,
    });
    const bad = createStep({
      id: 'bad',
      inputSchema: num,
      outputSchema: num,
      execute: async () => {
        throw new Error('boom');
      },
    });
    const good = createWorkflow({ id: 'c4-ok', inputSchema: num, outputSchema: num }).then(ok).commit();
    const failing = createWorkflow({ id: 'c4-bad', inputSchema: num, outputSchema: num }).then(bad).commit();
    const storage = new MemoryStorage();
    const weft = new Weft({ workflows: { good, failing }, storage });
    for (const [wf, status] of [
      [good, 'success'],
      [failing, 'failed'],
    ] as const) {
      const run = await wf.createRun();
      await run.start({ inputData: { n: 1 } });
      const before = await storage.readJournal(run.runId);
      const rowBefore = await storage.getRun(run.runId);
      await run.cancel();
      expect((await wf.getWorkflowRunById(run.runId))?.status).toBe(status);
      expect(await storage.readJournal(run.runId)).toEqual(before);
      expect((await storage.getRun(run.runId))?.epoch).toBe(rowBefore?.epoch);
    }
    await weft.close();
  });

  it('C5: cancel on a suspended run makes it canceled (persisted) and a later resume is refused', async () => {
    const wait = createStep({
      id: 'wait',
      inputSchema: num,
      outputSchema: num,
      resumeSchema: z.object({ ok: z.boolean() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        if (!resumeData) {
          await suspend({});
          return inputData;
        }
        return inputData;
      },
    });
    const wf = createWorkflow({ id: 'c5', inputSchema: num, outputSchema: num }).then(wait).commit();
    const storage = new MemoryStorage();
    const weft = new Weft({ workflows: { wf }, storage });
    const run = await wf.createRun();
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
    await run.cancel();
    expect((await storage.getRun(run.runId))?.status).toBe('canceled');
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('canceled');
    await expect(run.resume({ resumeData: { ok: true } })).rejects.toThrow(/canceled/);
    await weft.close();
  });

  it('C6: cancel from another instance over the same storage cancels a suspended run, nested steps included', async () => {
    const makeWorkflow = () => {
      const inner = createStep({
        id: 'inner',
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData, resumeData, suspend }) => {
          if (!resumeData) await suspend({ why: 'approval' });
          return inputData;
        },
      });
      const nested = createWorkflow({ id: 'nested', inputSchema: num, outputSchema: num }).then(inner).commit();
      return createWorkflow({ id: 'c6', inputSchema: num, outputSchema: num }).then(nested).commit();
    };
    const storage = new MemoryStorage();
    const wfA = makeWorkflow();
    const a = new Weft({ workflows: { wfA }, storage });
    const run = await wfA.createRun();
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
    const other = await a.listRuns();
    expect(other.total).toBe(1);

    const wfB = makeWorkflow();
    const b = new Weft({ workflows: { wfB }, storage });
    await (await wfB.createRun({ runId: run.runId })).cancel();
    const view = await b.getRun(run.runId);
    expect(view?.status).toBe('canceled');
    await expect(run.resume({ resumeData: {} })).rejects.toThrow(/canceled/);
    await a.close();
    await b.close();
  });

  it('C6: cancel from another instance reaches a step running in the first one; the run ends canceled there too', async () => {
    const storage = new MemoryStorage();
    const { wf: wfA, seen } = slowWorkflow('c6-live', { honourAbort: true });
    const a = new Weft({ workflows: { wfA }, storage, leaseMs: 300 });
    const run = await wfA.createRun();
    const started = run.start({ inputData: { n: 1 } });
    await until(() => seen.entered);

    const { wf: wfB } = slowWorkflow('c6-live', { honourAbort: true });
    const b = new Weft({ workflows: { wfB }, storage, leaseMs: 300 });
    await (await wfB.createRun({ runId: run.runId })).cancel();
    expect((await storage.getRun(run.runId))?.status).toBe('canceled');
    const result = await started;
    expect(result.status).toBe('canceled');
    expect(seen.aborted).toBe(true);
    expect(seen.step2).toBe(0);
    seen.release();
    await pause(20);
    const view = await b.getRun(run.runId);
    expect(view?.status).toBe('canceled');
    expect(view?.steps.step1?.status).toBe('canceled');
    await a.close();
    await b.close();
  });

  it('C7: cancel passes the abort to the steps of a nested workflow and stops the parent', async () => {
    let aborted = false;
    let entered = false;
    let after = 0;
    const inner = createStep({
      id: 'inner',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData, abortSignal }) => {
        entered = true;
        await new Promise((r) => abortSignal.addEventListener('abort', r));
        aborted = true;
        return inputData;
      },
    });
    const tail = countingStep('tail', () => after++);
    const nested = createWorkflow({ id: 'c7-nested', inputSchema: num, outputSchema: num })
      .then(inner)
      .then(tail)
      .commit();
    const wf = createWorkflow({ id: 'c7', inputSchema: num, outputSchema: num }).then(nested).then(tail).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const started = run.start({ inputData: { n: 1 } });
    await until(() => entered);
    await run.cancel();
    const result = await started;
    expect(aborted).toBe(true);
    expect(result.status).toBe('canceled');
    expect(after).toBe(0);
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view?.status).toBe('canceled');
    expect(view?.steps['c7-nested.inner']?.status).toBe('canceled');
    await weft.close();
  });

  it('C9: abort() inside a nested workflow step, or in a loop condition, leaves the whole run canceled', async () => {
    let after = 0;
    const aborter = abortingStep();
    const tail = countingStep('tail', () => after++);
    const inc = createStep({
      id: 'inc',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
    });
    const nested = createWorkflow({ id: 'c9-nested', inputSchema: num, outputSchema: num }).then(aborter).commit();
    const wfNested = createWorkflow({ id: 'c9', inputSchema: num, outputSchema: num }).then(nested).then(tail).commit();
    const wfLoop = createWorkflow({ id: 'c9-loop', inputSchema: num, outputSchema: num })
      .dountil(inc, async ({ abort }) => {
        abort();
        throw new Error('condition failed after abort');
      })
      .then(tail)
      .commit();
    const weft = new Weft({ workflows: { wfNested, wfLoop }, storage: new MemoryStorage() });
    for (const wf of [wfNested, wfLoop]) {
      const run = await wf.createRun();
      const result = await run.start({ inputData: { n: 1 } });
      expect(result.status).toBe('canceled');
      expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('canceled');
    }
    expect(after).toBe(0);
    await weft.close();
  });
  it('a run canceled before it started: start returns canceled at once, runs no step and does not call onStart', async () => {
    for (const withOnStart of [false, true]) {
      let ran = 0;
      let started = 0;
      const step = createStep({
        id: 'only',
        inputSchema: num,
        outputSchema: num,
        execute: async ({ inputData }) => {
          ran++;
          return inputData;
        },
      });
      const wf = createWorkflow({
        id: `early-${withOnStart}`,
        inputSchema: num,
        outputSchema: num,
        options: withOnStart ? { onStart: () => void started++ } : {},
      })
        .then(step)
        .commit();
      const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
      const run = await wf.createRun();
      await run.cancel();
      const result = await run.start({ inputData: { n: 1 } });
      expect(result.status).toBe('canceled');
      expect(result.steps.only).toBeUndefined();
      expect(ran).toBe(0);
      expect(started).toBe(0);
      await weft.close();
    }
  });
});
