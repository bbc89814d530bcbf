// timeTravel / timeTravelStream: re-execute from any step with stored or supplied earlier results (catalogue T1-T14).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, WeftError, createStep, createWorkflow } from '../src/index.js';
import type { WorkflowEvent } from '../src/index.js';

const num = z.object({ n: z.number() });

/** Counts executions per step id. */
type Counts = Record<string, number>;

function adder(id: string, counts: Counts, add: number, options: { failWhen?: (n: number) => boolean } = {}) {
  return createStep({
    id,
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData }) => {
      counts[id] = (counts[id] ?? 0) + 1;
      if (options.failWhen?.(inputData.n)) throw new Error(`${id} failed on ${inputData.n}`);
      return { n: inputData.n + add };
    },
  });
}

/** step1 (+1) → step2 (+10) → step3 (+100). */
function threeSteps(counts: Counts, options: { failStep2When?: (n: number) => boolean; id?: string } = {}) {
  const step1 = adder('step1', counts, 1);
  const step2 = adder('step2', counts, 10, options.failStep2When ? { failWhen: options.failStep2When } : {});
  const step3 = adder('step3', counts, 100);
  const wf = createWorkflow({ id: options.id ?? 'three', inputSchema: num, outputSchema: num })
    .then(step1)
    .then(step2)
    .then(step3)
    .commit();
  return { wf, step1, step2, step3 };
}

const record = (payload: unknown, output: unknown) => ({
  status: 'success' as const,
  payload,
  output,
  startedAt: 1,
  endedAt: 2,
});

describe('timeTravel', () => {
  it('T1: with context, the earlier steps are not run, the target and what follows run; input comes from the first payload', async () => {
    const counts: Counts = {};
    const { wf } = threeSteps(counts);
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.timeTravel({ step: 'step2', context: { step1: record({ n: 1 }, { n: 5 }) } });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 115 });
    expect(counts).toEqual({ step2: 1, step3: 1 });
    expect(result.steps.step1).toMatchObject({ status: 'success', output: { n: 5 } });
    expect(result.steps.step2).toMatchObject({ status: 'success', payload: { n: 5 }, output: { n: 15 } });
    expect(result.input).toEqual({ n: 1 });
    expect(result.steps.input).toEqual({ n: 1 });
    await weft.close();
  });

  it('T2: with inputData on a fresh run, the target gets it; the step before is filled in with it as output', async () => {
    const counts: Counts = {};
    const { wf } = threeSteps(counts);
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.timeTravel({ step: 'step3', inputData: { n: 7 } });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 107 });
    expect(counts).toEqual({ step3: 1 });
    expect(result.steps.step3).toMatchObject({ payload: { n: 7 } });
    expect(result.steps.step2).toMatchObject({ status: 'success', payload: {}, output: { n: 7 } });
    expect(result.steps.step1).toMatchObject({ status: 'success', output: {} });
    expect(result.input).toEqual({});
    await weft.close();
  });

  it('T3: on a failed run, time travel keeps the input, replaces the given outputs, keeps the rest as an earlier attempt, and can be repeated', async () => {
    const counts: Counts = {};
    const { wf } = threeSteps(counts, { failStep2When: (n) => n < 10 });
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const failed = await run.start({ inputData: { n: 1 } });
    expect(failed.status).toBe('failed');

    const fixed = await run.timeTravel({ step: 'step2', context: { step1: record({ n: 1 }, { n: 20 }) } });
    expect(fixed.status).toBe('success');
    expect(fixed.result).toEqual({ n: 130 });
    expect(fixed.input).toEqual({ n: 1 });
    expect(counts).toEqual({ step1: 1, step2: 2, step3: 1 });

    const again = await run.timeTravel({ step: 'step3' });
    expect(again.result).toEqual({ n: 130 });
    expect(counts).toEqual({ step1: 1, step2: 2, step3: 2 });

    const view = await wf.getWorkflowRunById(run.runId);
    expect(view?.attempts).toHaveLength(2);
    expect(view?.attempts[0]?.steps.step2).toMatchObject({ status: 'failed' });
    expect(view?.attempts[0]?.steps.step1).toMatchObject({ output: { n: 2 } });
    expect(view?.attempts[1]?.steps.step2).toMatchObject({ status: 'success', output: { n: 30 } });
    expect((await weft.getRun(run.runId))?.attempts).toHaveLength(2);
    await weft.close();
  });

  it('T4: perStep stops after the target with status paused and no result', async () => {
    const counts: Counts = {};
    const { wf } = threeSteps(counts);
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const paused = await run.timeTravel({ step: 'step2', perStep: true });
    expect(paused.status).toBe('paused');
    expect(paused.result).toBeUndefined();
    expect(counts).toEqual({ step1: 1, step2: 2, step3: 1 });
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('paused');
    await weft.close();
  });

  it('T5: a target inside a nested workflow uses nestedStepsContext for the inner steps before it, then the parent goes on', async () => {
    const counts: Counts = {};
    const inner1 = adder('inner1', counts, 1);
    const inner2 = adder('inner2', counts, 10);
    const last = adder('last', counts, 100);
    const nested = createWorkflow({ id: 'nested', inputSchema: num, outputSchema: num })
      .then(inner1)
      .then(inner2)
      .commit();
    const wf = createWorkflow({ id: 't5', inputSchema: num, outputSchema: num }).then(nested).then(last).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });

    const run = await wf.createRun();
    const result = await run.timeTravel({
      step: 'nested.inner2',
      context: { nested: { status: 'running', payload: { n: 1 }, startedAt: 1 } as never },
      nestedStepsContext: { nested: { inner1: record({ n: 1 }, { n: 40 }) } },
    });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 150 });
    expect(counts).toEqual({ inner2: 1, last: 1 });
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view?.steps['nested.inner1']).toMatchObject({ output: { n: 40 } });

    const whole = await (
      await wf.createRun()
    ).timeTravel({
      step: [nested, inner2],
      inputData: { n: 5 },
      context: { nested: { status: 'running', payload: { n: 0 }, startedAt: 1 } as never },
    });
    expect(whole.result).toEqual({ n: 115 });

    const run2 = await wf.createRun();
    await run2.start({ inputData: { n: 0 } });
    const before = { ...counts };
    const nestedAgain = await run2.timeTravel({ step: nested });
    expect(nestedAgain.result).toEqual({ n: 111 });
    expect(counts.inner1).toBe(before.inner1! + 1);
    await weft.close();
  });

  it('T6: a target in a parallel block runs alone among its siblings; the join runs', async () => {
    const counts: Counts = {};
    const first = adder('first', counts, 1);
    const left = adder('left', counts, 10);
    const right = adder('right', counts, 100);
    const join = createStep({
      id: 'join',
      inputSchema: z.object({ left: z.any(), right: z.any() }),
      outputSchema: z.object({ left: z.any(), right: z.any() }),
      execute: async ({ inputData }) => {
        counts.join = (counts.join ?? 0) + 1;
        return inputData;
      },
    });
    const wf = createWorkflow({ id: 't6', inputSchema: num, outputSchema: z.any() })
      .then(first)
      .parallel([left, right])
      .then(join)
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 0 } });
    const result = await run.timeTravel({
      step: 'left',
      context: { first: record({ n: 0 }, { n: 5 }), right: record({ n: 5 }, { n: 999 }) },
    });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ left: { n: 15 }, right: { n: 999 } });
    expect(counts).toEqual({ first: 1, left: 2, right: 1, join: 2 });

    const fresh = await (await wf.createRun()).timeTravel({ step: 'right', inputData: { n: 3 } });
    expect(fresh.result).toEqual({ left: {}, right: { n: 103 } });
    expect(counts.left).toBe(2);
    await weft.close();
  });

  it('T7: a target in a branch: the check step comes from the context, the output is keyed by the branch step', async () => {
    const counts: Counts = {};
    const check = adder('check', counts, 0);
    const low = adder('low', counts, 1);
    const high = adder('high', counts, 1000);
    const after = createStep({
      id: 'after',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async ({ inputData }) => inputData,
    });
    const wf = createWorkflow({ id: 't7', inputSchema: num, outputSchema: z.any() })
      .then(check)
      .branch([
        [async ({ inputData }) => inputData.n < 10, low],
        [async ({ inputData }) => inputData.n >= 10, high],
      ])
      .then(after)
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.timeTravel({ step: 'high', context: { check: record({ n: 50 }, { n: 50 }) } });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ high: { n: 1050 } });
    expect(counts).toEqual({ high: 1 });
    await weft.close();
  });

  it('T8: a target after a dountil does not run the loop again; a target in a loop body goes on looping', async () => {
    const counts: Counts = {};
    const inc = adder('inc', counts, 1);
    const tail = adder('tail', counts, 100);
    const wf = createWorkflow({ id: 't8', inputSchema: num, outputSchema: num })
      .dountil(inc, async ({ inputData }) => inputData.n >= 3)
      .then(tail)
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    expect((await run.start({ inputData: { n: 0 } })).result).toEqual({ n: 103 });
    expect(counts).toEqual({ inc: 3, tail: 1 });
    const after = await run.timeTravel({ step: 'tail' });
    expect(after.result).toEqual({ n: 103 });
    expect(counts).toEqual({ inc: 3, tail: 2 });

    const loop = await run.timeTravel({ step: 'inc', inputData: { n: 1 } });
    expect(loop.result).toEqual({ n: 103 });
    expect(counts.inc).toBe(5);
    expect(loop.steps.inc?.metadata?.iterationCount).toBeGreaterThanOrEqual(2);
    await weft.close();
  });

  it('T9/T10: a target that suspends leaves the run suspended and resume works; resumeData aimed at an earlier step runs to the suspended step', async () => {
    const counts: Counts = {};
    const prep = adder('prep', counts, 1);
    const approve = createStep({
      id: 'approve',
      inputSchema: num,
      outputSchema: num,
      resumeSchema: z.object({ add: z.number() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        counts.approve = (counts.approve ?? 0) + 1;
        if (!resumeData) {
          await suspend({ waiting: true });
          return inputData;
        }
        return { n: inputData.n + resumeData.add };
      },
    });
    const wf = createWorkflow({ id: 't9', inputSchema: num, outputSchema: num }).then(prep).then(approve).commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const suspended = await run.timeTravel({ step: 'approve', inputData: { n: 10 } });
    expect(suspended.status).toBe('suspended');
    expect(suspended.suspended).toEqual([['approve']]);
    const resumed = await run.resume({ resumeData: { add: 5 } });
    expect(resumed.result).toEqual({ n: 15 });

    const run2 = await wf.createRun();
    expect((await run2.start({ inputData: { n: 0 } })).status).toBe('suspended');
    const countsBefore = { ...counts };
    const t10 = await run2.timeTravel({ step: 'prep', resumeData: { add: 7 } });
    expect(t10.status).toBe('success');
    expect(t10.result).toEqual({ n: 8 });
    expect(counts.prep).toBe(countsBefore.prep! + 1);
    expect(t10.steps.approve).toMatchObject({ status: 'success', resumePayload: { add: 7 } });

    const run3 = await wf.createRun();
    await run3.start({ inputData: { n: 0 } });
    const direct = await run3.timeTravel({ step: 'approve', resumeData: { add: 2 } });
    expect(direct.result).toEqual({ n: 3 });
    await weft.close();
  });

  it('T11: with only the step, a foreach that failed part-way re-runs only the items that did not succeed', async () => {
    const seen: number[] = [];
    let failing = true;
    const item = createStep({
      id: 'item',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => {
        seen.push(inputData.n);
        if (failing && inputData.n === 2) throw new Error('item 2 failed');
        return { n: inputData.n * 10 };
      },
    });
    const wf = createWorkflow({ id: 't11', inputSchema: z.array(num), outputSchema: z.array(num) })
      .foreach(item, { concurrency: 1 })
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const input = [0, 1, 2, 3].map((n) => ({ n }));
    expect((await run.start({ inputData: input })).status).toBe('failed');
    expect(seen).toEqual([0, 1, 2]);
    failing = false;
    const result = await run.timeTravel({ step: 'item' });
    expect(result.status).toBe('success');
    expect(result.result).toEqual([0, 10, 20, 30].map((n) => ({ n })));
    expect(seen).toEqual([0, 1, 2, 2, 3]);
    await weft.close();
  });

  it('T12: clear errors for an unknown step, a missing step, invalid input data and a running run; a never-started run is allowed', async () => {
    const counts: Counts = {};
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = createStep({
      id: 'slow',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => {
        await gate;
        return inputData;
      },
    });
    const { wf } = threeSteps(counts);
    const slowWf = createWorkflow({ id: 't12-slow', inputSchema: num, outputSchema: num }).then(slow).commit();
    const storage = new MemoryStorage();
    const weft = new Weft({ workflows: { wf, slowWf }, storage });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const journal = await storage.readJournal(run.runId);

    const unknown = await run.timeTravel({ step: 'nope' }).catch((e: unknown) => e);
    expect(WeftError.is(unknown, 'STEP_NOT_FOUND')).toBe(true);
    expect((unknown as Error).message).toMatch(/Time travel target step not found in execution graph: 'nope'/);

    const missing = await run.timeTravel({ step: undefined as never }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/Step is required/);

    const invalid = await run.timeTravel({ step: 'step2', inputData: { n: 'x' } }).catch((e: unknown) => e);
    expect(WeftError.is(invalid, 'INVALID_INPUT')).toBe(true);
    expect((invalid as Error).message).toMatch(/Invalid inputData/);
    expect((invalid as Error).message).toMatch(/n/);
    expect(await storage.readJournal(run.runId)).toEqual(journal);

    const badStatus = await run
      .timeTravel({ step: 'step3', context: { step1: { status: 'sucess' as never, output: { n: 2 } } } })
      .catch((e: unknown) => e);
    expect(WeftError.is(badStatus, 'INVALID_ARGUMENT')).toBe(true);
    expect((badStatus as Error).message).toMatch(/step "step1" has status "sucess"/);
    expect(await storage.readJournal(run.runId)).toEqual(journal);

    // A run executing in another instance (here: a second Weft over the same storage) is refused.
    const live = await slowWf.createRun();
    const started = live.start({ inputData: { n: 1 } });
    await new Promise((r) => setTimeout(r, 10));
    const slowWfB = createWorkflow({ id: 't12-slow', inputSchema: num, outputSchema: num }).then(slow).commit();
    const other = new Weft({ workflows: { slowWfB }, storage });
    const refused = await (
      await slowWfB.createRun({ runId: live.runId })
    )
      .timeTravel({ step: 'slow' })
      .catch((e: unknown) => e);
    expect(WeftError.is(refused, 'RUN_STILL_RUNNING')).toBe(true);
    expect((refused as Error).message).toMatch(/still running, cannot time travel/);
    release();
    await started;

    const never = await (await wf.createRun()).timeTravel({ step: 'step3', inputData: { n: 0 } });
    expect(never.status).toBe('success');
    await Promise.all([weft.close(), other.close()]);
  });

  it('T13: when the definition no longer matches the stored run, time travel refuses and changes nothing', async () => {
    const storage = new MemoryStorage();
    const counts: Counts = {};
    const { wf } = threeSteps(counts, { id: 'evolving' });
    const a = new Weft({ workflows: { wf }, storage });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const journal = await storage.readJournal(run.runId);
    const row = await storage.getRun(run.runId);

    const changed = createWorkflow({ id: 'evolving', inputSchema: num, outputSchema: num })
      .then(adder('step1', counts, 1))
      .then(adder('inserted', counts, 5))
      .then(adder('step2', counts, 10))
      .then(adder('step3', counts, 100))
      .commit();
    const b = new Weft({ workflows: { changed }, storage });
    const error = await (
      await changed.createRun({ runId: run.runId })
    )
      .timeTravel({ step: 'step3' })
      .catch((e: unknown) => e);
    expect(WeftError.is(error, 'WORKFLOW_MISMATCH')).toBe(true);
    expect((error as Error).message).toMatch(/inserted|step2/);
    expect(await storage.readJournal(run.runId)).toEqual(journal);
    expect(await storage.getRun(run.runId)).toEqual(row);
    await a.close();
    await b.close();
  });

  it('T14: timeTravelStream emits the stream event family; concurrent streams of two runs each close', async () => {
    const counts: Counts = {};
    const { wf } = threeSteps(counts);
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const runs = [await wf.createRun(), await wf.createRun()];
    for (const run of runs) await run.start({ inputData: { n: 1 } });
    const outputs = runs.map((run) => run.timeTravelStream({ step: 'step2' }));
    const collected = await Promise.all(
      outputs.map(async (out) => {
        const events: WorkflowEvent[] = [];
        for await (const event of out.fullStream) events.push(event);
        return events;
      }),
    );
    for (const [i, events] of collected.entries()) {
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('workflow-start');
      expect(types).toContain('workflow-step-start');
      expect(types).toContain('workflow-step-result');
      expect(types.at(-1)).toBe('workflow-finish');
      expect((await outputs[i]!.result).result).toEqual({ n: 112 });
    }
    await weft.close();
  });
});
