// Definitions: createStep, createWorkflow and its builder, commit rules, clones, stable ids, nesting.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cloneStep,
  cloneWorkflow,
  createStep,
  createWorkflow,
  Weft,
  WeftError,
  Workflow,
  MemoryStorage,
} from '../src/index.js';
import { numSchema, numStep, numWorkflow } from './support/step-factories.js';

describe('createStep', () => {
  it('keeps the id, schemas, description, retries and metadata it is given', () => {
    const step = createStep({
      id: 'a',
      description: 'adds one',
      inputSchema: numSchema,
      outputSchema: numSchema,
      retries: 2,
      metadata: { team: 'x' },
      execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
    });
    expect(step.id).toBe('a');
    expect(step.description).toBe('adds one');
    expect(step.retries).toBe(2);
    expect(step.metadata).toEqual({ team: 'x' });
    expect(step.inputSchema).toBe(numSchema);
  });

  it('rejects a definition without Standard Schemas or without execute, naming the step', () => {
    expect(() =>
      createStep({ id: 'bad', inputSchema: {} as any, outputSchema: numSchema, execute: async () => ({ n: 1 }) }),
    ).toThrow(/Step "bad": inputSchema must be a Standard Schema/);
    expect(() => createStep({ id: 'bad2', inputSchema: numSchema, outputSchema: numSchema } as any)).toThrow(
      /Step "bad2": execute must be a function/,
    );
    expect(() =>
      createStep({ id: 'has.dot', inputSchema: numSchema, outputSchema: numSchema, execute: () => ({ n: 1 }) }),
    ).toThrow(WeftError);
  });
});

describe('createWorkflow and commit (S6, S7)', () => {
  it('S6 refuses to run a workflow with no steps, with the Mastra message', async () => {
    const wf = numWorkflow('empty').commit();
    await expect(wf.createRun().then((r) => r.start({ inputData: { n: 1 } }))).rejects.toThrow(
      'Execution flow of workflow is not defined. Add steps to the workflow via .then(), .branch(), etc.',
    );
    try {
      void wf.graph;
    } catch (error) {
      expect(WeftError.is(error, 'WORKFLOW_EMPTY')).toBe(true);
    }
  });

  it('S7 refuses to run a workflow whose steps were not committed and reports committed=false', async () => {
    const wf = numWorkflow('uncommitted').then(numStep('a'));
    expect(wf.committed).toBe(false);
    const error = await wf
      .createRun()
      .then((r) => r.start({ inputData: { n: 1 } }))
      .catch((e: unknown) => e);
    expect(WeftError.is(error, 'WORKFLOW_NOT_COMMITTED')).toBe(true);
    expect((error as Error).message).toContain(
      'Uncommitted step flow changes detected. Call .commit() to register the steps.',
    );
    expect((error as Error).message).toContain('"uncommitted"');
  });

  it('S7 treats steps added after commit as uncommitted again', () => {
    const wf = numWorkflow('recommit').then(numStep('a')).commit();
    expect(wf.committed).toBe(true);
    wf.then(numStep('b'));
    expect(wf.committed).toBe(false);
    expect(() => wf.graph).toThrow(/Uncommitted step flow changes/);
  });

  it('refuses an uncommitted workflow as a nested step', () => {
    const inner = numWorkflow('inner').then(numStep('a'));
    expect(() => numWorkflow('outer').then(inner)).toThrow(/Uncommitted step flow changes/);
  });

  it('commits an uncommitted workflow when it is registered with new Weft (S8)', () => {
    const wf = numWorkflow('auto').then(numStep('a'));
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    expect(wf.committed).toBe(true);
    expect(weft.getWorkflow('auto')).toBe(wf);
    expect(weft.getWorkflow('wf')).toBe(wf);
  });

  it('rejects invalid builder arguments with a message naming the workflow', () => {
    const wf = numWorkflow('args');
    expect(() => wf.parallel([])).toThrow(/Workflow "args": .parallel\(\) expects a non-empty array/);
    expect(() => wf.foreach(numStep('a'), { concurrency: 0 })).toThrow(/concurrency must be a whole number >= 1/);
    expect(() => wf.sleep(-1)).toThrow(/.sleep\(\) expects a duration/);
    expect(() => wf.sleepUntil('not a date')).toThrow(/.sleepUntil\(\) expects a valid date/);
    expect(() => wf.then({ id: 'x' } as any)).toThrow(/expects a step made with createStep or a committed workflow/);
  });
});

describe('await workflow', () => {
  it('does not hang: awaiting a workflow resolves to a usable view of it', async () => {
    const wf = numWorkflow('awaited').then(numStep('a')).commit();
    const view = await Promise.race([
      // @ts-expect-error TypeScript rejects awaiting an object whose `then` is a builder; at runtime it resolves.
      (async () => await wf)(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('await workflow hung')), 500)),
    ]);
    expect((view as Workflow).id).toBe('awaited');
    const run = await (view as Workflow).createRun();
    expect((await run.start({ inputData: { n: 1 } })).result).toEqual({ n: 2 });
  });

  it('is returned from an async function without hanging', async () => {
    // @ts-expect-error TypeScript rejects an async function returning a thenable builder; at runtime it resolves.
    const make = async () => numWorkflow('returned').then(numStep('a')).commit();
    const wf = await make();
    expect(wf.id).toBe('returned');
  });
});

describe('stable ids for unnamed sleeps and maps', () => {
  const build = () =>
    numWorkflow('ids')
      .then(numStep('a'))
      .map(async ({ inputData }) => inputData)
      .sleep(1)
      .map({ n: { step: numStep('a'), path: 'n' } })
      .sleepUntil(new Date(0))
      .map(async ({ inputData }) => inputData, { id: 'named' })
      .commit();

  it('derives the same ids from the same definition in every build', () => {
    const ids = (wf: Workflow) =>
      wf.serializedStepGraph.map((n) => ('step' in n ? (n.step as { id: string }).id : 'id' in n ? n.id : n.type));
    expect(ids(build())).toEqual(['a', 'mapping_ids_0', 'sleep_ids_1', 'mapping_ids_1', 'sleep_ids_2', 'named']);
    expect(ids(build())).toEqual(ids(build()));
  });

  it('reports the derived ids in steps and stepExecutionPath', async () => {
    const run = await build().createRun();
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('success');
    expect(result.stepExecutionPath).toEqual([
      'a',
      'mapping_ids_0',
      'sleep_ids_1',
      'mapping_ids_1',
      'sleep_ids_2',
      'named',
    ]);
    expect(Object.keys(result.steps)).toEqual(
      expect.arrayContaining(['mapping_ids_0', 'mapping_ids_1', 'sleep_ids_2', 'named']),
    );
  });
});

describe('CF16 cloneStep and cloneWorkflow', () => {
  it('CF16 a cloned step runs under its new id with its own result', async () => {
    const inc = numStep('inc');
    const wf = numWorkflow('clone-step')
      .then(inc)
      .then(cloneStep(inc, { id: 'inc2' }))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result.steps.inc.output).toEqual({ n: 2 });
    expect(result.steps.inc2.output).toEqual({ n: 3 });
    expect(result.stepExecutionPath).toEqual(['inc', 'inc2']);
  });

  it('CF16 a cloned workflow runs on its own and as a nested step under its new id', async () => {
    const inner = numWorkflow('inner')
      .then(numStep('a', (n) => n * 10))
      .commit();
    const clone = cloneWorkflow(inner, { id: 'innerClone' });
    expect(clone.id).toBe('innerClone');
    expect(clone.committed).toBe(true);
    const alone = await (await clone.createRun()).start({ inputData: { n: 2 } });
    expect(alone.result).toEqual({ n: 20 });
    const outer = numWorkflow('outer').then(inner).then(clone).commit();
    const result = await (await outer.createRun()).start({ inputData: { n: 1 } });
    expect(result.steps.inner.output).toEqual({ n: 10 });
    expect(result.steps.innerClone.output).toEqual({ n: 100 });
  });
});

describe('nested workflows as steps', () => {
  it('CF13 runs three levels deep; each entry output is its last inner step output', async () => {
    const level3 = numWorkflow('level3')
      .then(numStep('l3', (n) => n + 100))
      .commit();
    const level2 = numWorkflow('level2')
      .then(numStep('l2', (n) => n + 10))
      .then(level3)
      .commit();
    const level1 = numWorkflow('level1')
      .then(numStep('l1', (n) => n + 1))
      .then(level2)
      .commit();
    const root = numWorkflow('root')
      .then(level1)
      .then(numStep('after', (n) => n * 2))
      .commit();
    const weft = new Weft({ workflows: { root }, storage: new MemoryStorage() });
    const run = await root.createRun();
    const result = await run.start({ inputData: { n: 0 } });
    expect(result.status).toBe('success');
    expect(result.steps.level1.output).toEqual({ n: 111 });
    expect(result.result).toEqual({ n: 222 });
    const view = await weft.getRun(run.runId);
    expect(view!.steps['level1.level2.level3.l3']!.output).toEqual({ n: 111 });
    expect(view!.steps['level1.l1']!.payload).toEqual({ n: 0 });
  });

  it('CF13 an inner failure fails the nested step with the error', async () => {
    const inner = numWorkflow('inner')
      .then(
        createStep({
          id: 'boom',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async () => {
            throw new Error('inner broke');
          },
        }),
      )
      .commit();
    const outer = numWorkflow('outer').then(inner).then(numStep('never')).commit();
    const result = await (await outer.createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.steps.inner.status).toBe('failed');
    expect((result.steps.inner.error as Error).message).toBe('inner broke');
    expect(result.steps.never).toBeUndefined();
    expect(result.error?.message).toBe('inner broke');
  });

  it('CF13 a nested run sees the parent resourceId and runId', async () => {
    const seen: unknown[] = [];
    const inner = numWorkflow('inner')
      .then(
        createStep({
          id: 'look',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ inputData, resourceId, runId }) => {
            seen.push({ resourceId, runId });
            return inputData;
          },
        }),
      )
      .commit();
    const outer = numWorkflow('outer').then(inner).commit();
    const run = await outer.createRun({ runId: 'r-nested', resourceId: 'user-7' });
    await run.start({ inputData: { n: 1 } });
    expect(seen).toEqual([{ resourceId: 'user-7', runId: 'r-nested' }]);
  });
});

describe('serializedStepGraph', () => {
  it('describes every node type with ids and condition sources', () => {
    const a = numStep('a');
    const wf = numWorkflow('graph')
      .then(a)
      .parallel([numStep('p1'), numStep('p2')])
      .map(async () => ({ n: 1 }))
      .branch([[async () => true, numStep('b1')]])
      .map(async () => ({ n: 1 }), { id: 'm2' })
      .dountil(numStep('loop'), async () => true)
      .map(async () => [{ n: 1 }], { id: 'arr' })
      .foreach(numStep('each'), { concurrency: 2 })
      .sleep(5)
      .commit();
    const types = wf.serializedStepGraph.map((n) => n.type);
    expect(types).toEqual([
      'step',
      'parallel',
      'mapping',
      'conditional',
      'mapping',
      'loop',
      'mapping',
      'foreach',
      'sleep',
    ]);
    expect(JSON.stringify(wf.serializedStepGraph)).toContain('b1-condition');
  });
});

describe('createWorkflow', () => {
  it('accepts every documented parameter', () => {
    const wf = createWorkflow({
      id: 'full',
      description: 'all params',
      inputSchema: numSchema,
      outputSchema: numSchema,
      stateSchema: z.object({ count: z.number().default(0) }),
      requestContextSchema: z.object({}).passthrough(),
      retryConfig: { attempts: 1, delay: 0 },
      options: { validateInputs: true },
      steps: [],
    });
    expect(wf.id).toBe('full');
    expect(wf.description).toBe('all params');
    expect(wf.committed).toBe(false);
  });
});
