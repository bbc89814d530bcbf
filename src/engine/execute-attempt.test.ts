// A dispatched step attempt executed away from its run: the context rebuilt from the run's journal, and what it reports.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunProjection } from '../journal/projection.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import type { DispatchedAttempt } from '../storage/types.js';
import { runServicesOf, Weft } from '../run/weft.js';
import { createStep } from '../workflow/create-step.js';
import { createWorkflow } from '../workflow/create-workflow.js';
import { executeAttempt } from './execute-attempt.js';

const engines: Weft[] = [];
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
});

/** What an item saw: its input, the outputs and init data it asked for, state, request context, retry. */
const seen = createStep({
  id: 'seen',
  inputSchema: z.number(),
  outputSchema: z.any(),
  execute: async ({ inputData, getStepResult, getInitData, state, requestContext, retryCount, restart }) => ({
    input: inputData,
    prep: getStepResult('prep'),
    inner: getStepResult('innerPrep'),
    init: getInitData(),
    state,
    who: requestContext.get('who'),
    retryCount,
    restart,
  }),
});

/** Signals a step may raise, by its input: 1 suspends, 2 bails, 3 sets state, 4 throws; each writes first. */
const signals = createStep({
  id: 'signals',
  inputSchema: z.number(),
  outputSchema: z.any(),
  execute: async ({ inputData, suspend, bail, setState, writer }) => {
    await writer.write({ note: `item ${inputData}` });
    if (inputData === 1) return suspend({ why: 'approval' }, { resumeLabel: 'ok' });
    if (inputData === 2) return bail({ early: true });
    if (inputData === 3) {
      await setState({ counted: 3 });
      return 'set';
    }
    throw Object.assign(new Error('item failed'), { code: 'E_ITEM' });
  },
});

const prep = createStep({
  id: 'prep',
  inputSchema: z.object({ xs: z.array(z.number()) }),
  outputSchema: z.array(z.number()),
  execute: async ({ inputData }) => inputData.xs,
});
/** Takes what the outer foreach gave (what each item saw) and makes the inner foreach's items. */
const innerPrep = createStep({
  id: 'innerPrep',
  inputSchema: z.array(z.object({ input: z.number() })),
  outputSchema: z.array(z.number()),
  execute: async ({ inputData }) => inputData.map((seen) => seen.input * 10),
});
const inner = createWorkflow({ id: 'inner', inputSchema: z.array(z.any()), outputSchema: z.any() })
  .then(innerPrep)
  .foreach(seen)
  .commit();
const outer = createWorkflow({
  id: 'outer',
  inputSchema: z.object({ xs: z.array(z.number()) }),
  outputSchema: z.any(),
  stateSchema: z.object({ counted: z.number().optional() }),
})
  .then(prep)
  .foreach(seen)
  .then(inner)
  .commit();
const signaling = createWorkflow({ id: 'signaling', inputSchema: z.array(z.number()), outputSchema: z.any() })
  .foreach(signals)
  .commit();

/** Runs `outer` to its end here and returns what a worker would read: the graph, the journal, the services. */
async function finishedRun(): Promise<{
  runId: string;
  projection: RunProjection;
  around: Parameters<typeof executeAttempt>[1];
}> {
  const weft = new Weft({ workflows: { outer, signaling }, storage: new MemoryStorage(), recovery: false });
  engines.push(weft);
  const run = await weft.getWorkflow('outer').createRun();
  const result = await run.start({ inputData: { xs: [1, 2] } });
  expect(result).toMatchObject({ status: 'success' });
  const projection = new RunProjection();
  projection.applyStored(await weft.storage.readJournal(run.runId), run.runId);
  const services = runServicesOf(weft);
  return {
    runId: run.runId,
    projection,
    around: { graph: outer.graph, projection, services, signal: new AbortController().signal },
  };
}

function attemptAt(runId: string, workflowId: string, key: string, inputData: number): DispatchedAttempt {
  return {
    attemptId: 'd:0',
    dispatchId: 'd',
    runId,
    workflowId,
    epoch: 1,
    key,
    inputData,
    state: { counted: 7 },
    requestContext: { who: 'kim' },
    retryCount: 2,
    restarting: true,
  };
}

describe('executeAttempt', () => {
  it('gives a foreach item the context its run would: step results and init data from the journal, state and request context as dispatched', async () => {
    const { runId, around } = await finishedRun();
    const result = await executeAttempt(attemptAt(runId, 'outer', '1[1]', 2), around);
    expect(result).toEqual({
      value: {
        input: 2,
        prep: [1, 2],
        init: { xs: [1, 2] },
        state: { counted: 7 },
        who: 'kim',
        retryCount: 2,
        restart: true,
      },
    });
  });

  it('inside a nested workflow, sees that level’s steps and input, and the enclosing level’s steps', async () => {
    const { runId, around } = await finishedRun();
    const result = await executeAttempt(attemptAt(runId, 'outer', '2/1[0]', 10), around);
    // The nested workflow's input is what the outer foreach gave it.
    expect(result?.value).toMatchObject({
      input: 10,
      prep: [1, 2],
      inner: [10, 20],
      init: around.projection.records.get('1')?.output,
    });
    expect(around.projection.records.get('1')?.output).toHaveLength(2);
  });

  it('reports what the step asked for and wrote: suspension with labels, bail, state update, a thrown error', async () => {
    const weft = new Weft({ workflows: { signaling }, storage: new MemoryStorage(), recovery: false });
    engines.push(weft);
    const around = {
      graph: signaling.graph,
      projection: new RunProjection(),
      services: runServicesOf(weft),
      signal: new AbortController().signal,
    };
    const at = (n: number) => executeAttempt(attemptAt('r', 'signaling', `0[${n}]`, n), around);
    const write = (n: number) => [{ type: 'step-output', data: { id: 'signals', output: { note: `item ${n}` } } }];
    expect(await at(1)).toEqual({
      value: undefined,
      suspended: { payload: { why: 'approval' }, labels: ['ok'] },
      writes: write(1),
    });
    expect(await at(2)).toEqual({ value: { early: true }, bailed: { value: { early: true } }, writes: write(2) });
    expect(await at(3)).toEqual({ value: 'set', stateUpdate: { counted: 3 }, writes: write(3) });
    expect(await at(4)).toEqual({
      threw: true,
      value: { name: 'Error', message: 'item failed', code: 'E_ITEM' },
      writes: write(4),
    });
  });

  it('returns nothing for an attempt canceled while it executes, and refuses a key the workflow has no step at', async () => {
    const weft = new Weft({ workflows: { signaling }, storage: new MemoryStorage(), recovery: false });
    engines.push(weft);
    const slow = createStep({
      id: 'slow',
      inputSchema: z.number(),
      outputSchema: z.number(),
      execute: ({ abortSignal }) =>
        new Promise<number>((resolve) => abortSignal.addEventListener('abort', () => resolve(-1), { once: true })),
    });
    const waiting = createWorkflow({ id: 'waiting', inputSchema: z.array(z.number()), outputSchema: z.any() })
      .foreach(slow)
      .commit();
    const controller = new AbortController();
    const services = runServicesOf(weft);
    const executing = executeAttempt(attemptAt('r', 'waiting', '0[0]', 1), {
      graph: waiting.graph,
      projection: new RunProjection(),
      services,
      signal: controller.signal,
    });
    controller.abort();
    expect(await executing).toBeUndefined();
    await expect(
      executeAttempt(attemptAt('r', 'waiting', '5[0]', 1), {
        graph: waiting.graph,
        projection: new RunProjection(),
        services,
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'STEP_NOT_FOUND' });
  });
});
