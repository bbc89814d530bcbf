// The execute context: inputData, ids, state, requestContext, retryCount, bail, writer (S4, S5, ST1, ST2).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, RequestContext, Weft, type WorkflowEvent, MemoryStorage } from '../src/index.js';
import { numSchema, numStep, numWorkflow } from './support/step-factories.js';

describe('inputData', () => {
  it('is the input validated by the step schema: defaults are applied and unknown keys stripped (SV3)', async () => {
    const seen: unknown[] = [];
    const step = createStep({
      id: 'defaults',
      inputSchema: z.object({ n: z.number(), unit: z.string().default('kg') }),
      outputSchema: z.any(),
      execute: async ({ inputData }) => {
        seen.push(inputData);
        return inputData;
      },
    });
    const wf = createWorkflow({
      id: 'sv3',
      inputSchema: z.object({ n: z.number(), junk: z.string() }).passthrough(),
      outputSchema: z.any(),
    })
      .then(step)
      .commit();
    await (await wf.createRun()).start({ inputData: { n: 1, junk: 'x' } });
    expect(seen).toEqual([{ n: 1, unit: 'kg' }]);
  });

  it('with validateInputs: false the step gets its input unvalidated', async () => {
    const seen: unknown[] = [];
    const step = createStep({
      id: 'loose',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: z.any(),
      execute: async ({ inputData }) => {
        seen.push(inputData);
        return 1;
      },
    });
    const wf = createWorkflow({
      id: 'novalidate',
      inputSchema: z.any(),
      outputSchema: z.any(),
      options: { validateInputs: false },
    })
      .map(async () => ({ s: 'other shape' }))
      .then(step)
      .commit();
    const result = await (await wf.createRun()).start({ inputData: {} });
    expect(result.status).toBe('success');
    expect(seen).toEqual([{ s: 'other shape' }]);
  });
});

describe('S4 ids in the context', () => {
  it('S4 runId, workflowId and resourceId are visible in execute; createRun({runId}) uses the given id', async () => {
    const seen: unknown[] = [];
    const look = createStep({
      id: 'look',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, runId, workflowId, resourceId }) => {
        seen.push({ runId, workflowId, resourceId });
        return inputData;
      },
    });
    const wf = numWorkflow('ids').then(look).commit();
    const run = await wf.createRun({ runId: 'my-run', resourceId: 'user-1' });
    expect(run.runId).toBe('my-run');
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.runId).toBe('my-run');
    expect(seen).toEqual([{ runId: 'my-run', workflowId: 'ids', resourceId: 'user-1' }]);
  });

  it('S4 a run without resourceId has resourceId undefined and a generated unique runId', async () => {
    const seen: unknown[] = [];
    const wf = numWorkflow('ids2')
      .then(
        createStep({
          id: 'look',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ inputData, runId, resourceId }) => {
            seen.push([runId, resourceId]);
            return inputData;
          },
        }),
      )
      .commit();
    const a = await wf.createRun();
    const b = await wf.createRun();
    expect(a.runId).not.toBe(b.runId);
    await a.start({ inputData: { n: 1 } });
    expect(seen).toEqual([[a.runId, undefined]]);
  });
});

describe('S5 requestContext', () => {
  const reader = () =>
    createStep({
      id: 'reader',
      inputSchema: numSchema,
      outputSchema: z.object({ tenant: z.unknown(), fromStep: z.unknown() }),
      execute: async ({ requestContext }) => ({
        tenant: requestContext.get('tenant'),
        fromStep: requestContext.get('fromStep'),
      }),
    });
  const writer = createStep({
    id: 'writer',
    inputSchema: numSchema,
    outputSchema: numSchema,
    execute: async ({ inputData, requestContext }) => {
      requestContext.set('fromStep', `set-${inputData.n}`);
      await new Promise((r) => setTimeout(r, 5));
      return inputData;
    },
  });

  it('S5 values set by the caller and by earlier steps are seen by later steps; it is a Map-like RequestContext', async () => {
    const wf = numWorkflow('rc').then(writer).then(reader()).commit();
    const rc = new RequestContext([['tenant', 'acme']]);
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, requestContext: rc });
    expect(result.result).toEqual({ tenant: 'acme', fromStep: 'set-1' });
    expect(rc.get('fromStep')).toBe('set-1'); // the caller's own object, as in Mastra
    expect([...rc.entries()]).toEqual([
      ['tenant', 'acme'],
      ['fromStep', 'set-1'],
    ]);
    expect(rc.has('tenant') && rc.delete('tenant') && !rc.has('tenant')).toBe(true);
  });

  it('S5 concurrent runs of one workflow keep their requestContext values apart', async () => {
    const wf = numWorkflow('rc-iso').then(writer).then(reader()).commit();
    const results = await Promise.all(
      [1, 2, 3].map(async (n) =>
        (await wf.createRun()).start({ inputData: { n }, requestContext: new RequestContext([['tenant', `t${n}`]]) }),
      ),
    );
    expect(results.map((r) => r.result)).toEqual([
      { tenant: 't1', fromStep: 'set-1' },
      { tenant: 't2', fromStep: 'set-2' },
      { tenant: 't3', fromStep: 'set-3' },
    ]);
  });

  it('accepts a plain object as requestContext and reaches nested workflow steps', async () => {
    const inner = numWorkflow('inner').then(reader()).commit();
    const wf = numWorkflow('rc-nested').then(inner).commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, requestContext: { tenant: 'plain' } });
    expect(result.result).toEqual({ tenant: 'plain', fromStep: undefined });
  });
});

describe('ST1-ST2 state', () => {
  const stateSchema = z.object({ count: z.number(), log: z.array(z.string()) });

  const appender = (id: string) =>
    createStep({
      id,
      inputSchema: numSchema,
      outputSchema: z.any(),
      stateSchema,
      execute: async ({ inputData, state, setState }) => {
        await setState({ count: state.count + inputData.n, log: [...state.log, id] });
        return { n: inputData.n, sawCount: state.count };
      },
    });

  it('ST1 initialState is visible in every step, including parallel ones', async () => {
    const seen: unknown[] = [];
    const look = (id: string) =>
      createStep({
        id,
        inputSchema: numSchema,
        outputSchema: numSchema,
        stateSchema: z.object({ count: z.number() }),
        execute: async ({ inputData, state }) => {
          seen.push([id, state]);
          return inputData;
        },
      });
    const wf = numWorkflow('st1', { stateSchema })
      .then(look('a'))
      .parallel([look('p1'), look('p2')])
      .commit();
    await (await wf.createRun()).start({ inputData: { n: 1 }, initialState: { count: 7, log: [] } });
    expect(seen).toHaveLength(3);
    for (const [, state] of seen as [string, unknown][]) expect(state).toEqual({ count: 7, log: [] });
  });

  it('ST1 a step stateSchema may name only some of the keys; includeState gives the whole state (E15)', async () => {
    const partial = createStep({
      id: 'partial',
      inputSchema: numSchema,
      outputSchema: numSchema,
      stateSchema: z.object({ count: z.number() }),
      execute: async ({ inputData, state, setState }) => {
        await setState({ count: state.count + 1 });
        return inputData;
      },
    });
    const wf = numWorkflow('st1b', { stateSchema }).then(partial).commit();
    const result = await (
      await wf.createRun()
    ).start({
      inputData: { n: 1 },
      initialState: { count: 1, log: ['start'] },
      outputOptions: { includeState: true },
    });
    expect(result.state).toEqual({ count: 2, log: ['start'] });
  });

  it('ST2 setState of one step is seen by the next steps; state is a snapshot within the step', async () => {
    const wf = numWorkflow('st2', { stateSchema }).then(appender('a')).then(appender('b')).commit();
    const result = await (
      await wf.createRun()
    ).start({
      inputData: { n: 2 },
      initialState: { count: 0, log: [] },
      outputOptions: { includeState: true },
    });
    expect(result.steps.a.output).toEqual({ n: 2, sawCount: 0 });
    expect(result.steps.b.output).toEqual({ n: 2, sawCount: 2 });
    expect(result.state).toEqual({ count: 4, log: ['a', 'b'] });
  });

  it('ST2 the last setState within a step wins and is shallow-merged into the workflow state', async () => {
    const twice = createStep({
      id: 'twice',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, setState }) => {
        await setState({ a: 10 });
        await setState({ b: 20 });
        return inputData;
      },
    });
    const wf = numWorkflow('st2b').then(twice).commit();
    const result = await (
      await wf.createRun()
    ).start({
      inputData: { n: 1 },
      initialState: { keep: true },
      outputOptions: { includeState: true },
    });
    expect(result.state).toEqual({ keep: true, b: 20 });
  });

  it('ST2 steps inside a nested workflow see the parent state and their changes come back to the parent', async () => {
    const inner = numWorkflow('inner', { stateSchema }).then(appender('in')).commit();
    const wf = numWorkflow('st2n', { stateSchema })
      .then(appender('before'))
      .then(inner)
      .then(appender('after'))
      .commit();
    const result = await (
      await wf.createRun()
    ).start({
      inputData: { n: 1 },
      initialState: { count: 0, log: [] },
      outputOptions: { includeState: true },
    });
    expect(result.state).toEqual({ count: 3, log: ['before', 'in', 'after'] });
  });

  it('state is left out of the result unless includeState is asked for', async () => {
    const wf = numWorkflow('nostate', { stateSchema }).then(appender('a')).commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 }, initialState: { count: 0, log: [] } });
    expect('state' in result).toBe(false);
  });

  it('the workflow stateSchema applies its defaults to initialState and rejects a bad one', async () => {
    const wf = numWorkflow('statedefaults', { stateSchema: z.object({ count: z.number().default(5) }) })
      .then(numStep('a'))
      .commit();
    const ok = await (await wf.createRun()).start({ inputData: { n: 1 }, outputOptions: { includeState: true } });
    expect(ok.state).toEqual({ count: 5 });
    await expect((await wf.createRun()).start({ inputData: { n: 1 }, initialState: { count: 'x' } })).rejects.toThrow(
      'Invalid initial data: \n- count: Expected number, received string',
    );
  });

  it('an invalid setState fails the step with the state validation message', async () => {
    const bad = createStep({
      id: 'bad',
      inputSchema: numSchema,
      outputSchema: numSchema,
      stateSchema: z.object({ a: z.number() }),
      execute: async ({ inputData, setState }) => {
        await setState({ a: 'text' as unknown as number });
        return inputData;
      },
    });
    const result = await (await numWorkflow('badstate').then(bad).commit().createRun()).start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(result.steps.bad.status).toBe('failed');
    expect(result.error?.message).toBe('Step state data validation failed: \n- a: Expected number, received string');
  });
});

describe('retryCount', () => {
  it('RT5 is 0 on the first run and counts separately per loop iteration', async () => {
    const counts: number[] = [];
    const flaky = createStep({
      id: 'flaky',
      inputSchema: numSchema,
      outputSchema: numSchema,
      retries: 1,
      execute: async ({ inputData, retryCount }) => {
        counts.push(retryCount);
        if (retryCount === 0) throw new Error('first try fails');
        return { n: inputData.n + 1 };
      },
    });
    const wf = numWorkflow('rt5')
      .dountil(flaky, async ({ inputData }) => inputData.n >= 2)
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 0 } });
    expect(result.status).toBe('success');
    expect(counts).toEqual([0, 1, 0, 1]);
  });
});

describe('writer', () => {
  it('E7 write() gives a workflow-step-output event and custom() a top-level data-* event', async () => {
    const talk = createStep({
      id: 'talk',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, writer }) => {
        await writer.write({ pct: 50 });
        await writer.custom({ type: 'data-progress', data: { step: 1 } });
        return inputData;
      },
    });
    const wf = numWorkflow('writer').then(talk).commit();
    const output = (await wf.createRun()).stream({ inputData: { n: 1 } });
    const events: WorkflowEvent[] = [];
    for await (const e of output.fullStream) events.push(e);
    const out = events.find((e) => e.type === 'workflow-step-output');
    expect(out?.payload).toMatchObject({ stepName: 'talk', output: { pct: 50 } });
    const custom = events.find((e) => e.type === 'data-progress') as WorkflowEvent & { data?: unknown };
    expect(custom?.data).toEqual({ step: 1 });
    expect((await output.result).status).toBe('success');
  });
});

describe('bail and abort in the context', () => {
  it('bail returns its value to the step and the run ends with it', async () => {
    const wf = numWorkflow('bail')
      .then(
        createStep({
          id: 'early',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ bail }) => bail({ n: 99 }),
        }),
      )
      .then(numStep('never'))
      .commit();
    const result = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(result).toMatchObject({ status: 'success', result: { n: 99 } });
  });

  it('the engine instance is passed as weft and mastra when registered', async () => {
    const seen: unknown[] = [];
    const wf = numWorkflow('inst')
      .then(
        createStep({
          id: 'i',
          inputSchema: numSchema,
          outputSchema: numSchema,
          execute: async ({ inputData, weft, mastra, abortSignal, restart }) => {
            seen.push(weft, mastra, abortSignal.aborted, restart);
            return inputData;
          },
        }),
      )
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(seen).toEqual([weft, weft, false, false]);
  });
});
