// Control flow: sequences, parallel, branch, loops, foreach, map, sleeps, nesting, bail (S1-S3, CF1-CF14).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, RequestContext, Weft, MemoryStorage } from '../src/index.js';
import { manualClock, numSchema, numStep, numWorkflow, until } from './support/step-factories.js';

const run = async (wf: ReturnType<typeof numWorkflow>, inputData: unknown, extra: Record<string, unknown> = {}) =>
  (await wf.createRun()).start({ inputData, ...extra });

describe('S1-S3 start and sequences', () => {
  it('S1 a single-step run succeeds; the step has payload, output and timestamps; result is its output', async () => {
    const result = await run(numWorkflow('s1').then(numStep('a')).commit(), { n: 1 });
    expect(result.status).toBe('success');
    expect(result.steps.a).toMatchObject({ status: 'success', payload: { n: 1 }, output: { n: 2 } });
    expect(typeof result.steps.a.startedAt).toBe('number');
    expect(result.steps.a.endedAt).toBeGreaterThanOrEqual(result.steps.a.startedAt);
    expect(result.steps.input).toEqual({ n: 1 });
    expect(result.input).toEqual({ n: 1 });
    expect(result.result).toEqual({ n: 2 });
  });

  it('S2 chained steps run in order and each payload is the previous output', async () => {
    const order: string[] = [];
    const step = (id: string) =>
      createStep({
        id,
        inputSchema: numSchema,
        outputSchema: numSchema,
        execute: async ({ inputData }) => {
          order.push(id);
          return { n: inputData.n * 10 };
        },
      });
    const result = await run(numWorkflow('s2').then(step('a')).then(step('b')).then(step('c')).commit(), { n: 1 });
    expect(order).toEqual(['a', 'b', 'c']);
    expect(result.steps.b.payload).toEqual({ n: 10 });
    expect(result.steps.c.payload).toEqual({ n: 100 });
    expect(result.stepExecutionPath).toEqual(['a', 'b', 'c']);
    expect(result.result).toEqual({ n: 1000 });
  });

  it('S3 a step may take a subset of the previous output keys (extra keys are allowed)', async () => {
    const wide = createStep({
      id: 'wide',
      inputSchema: numSchema,
      outputSchema: z.object({ n: z.number(), label: z.string(), extra: z.boolean() }),
      execute: async ({ inputData }) => ({ n: inputData.n, label: 'x', extra: true }),
    });
    const narrow = createStep({
      id: 'narrow',
      inputSchema: z.object({ label: z.string() }),
      outputSchema: z.object({ got: z.array(z.string()) }),
      execute: async ({ inputData }) => ({ got: Object.keys(inputData) }),
    });
    const result = await run(numWorkflow('s3').then(wide).then(narrow).commit(), { n: 1 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ got: ['label'] });
  });
});

describe('CF1-CF2 parallel', () => {
  it('CF1 runs the steps concurrently with the same input and keys the next input by step id', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = (id: string, f: (n: number) => number) =>
      createStep({
        id,
        inputSchema: numSchema,
        outputSchema: numSchema,
        execute: async ({ inputData }) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
          return { n: f(inputData.n) };
        },
      });
    const join = createStep({
      id: 'join',
      inputSchema: z.object({ inc: numSchema, dbl: numSchema }),
      outputSchema: numSchema,
      execute: async ({ inputData }) => ({ n: inputData.inc.n + inputData.dbl.n }),
    });
    const wf = numWorkflow('cf1')
      .parallel([slow('inc', (n) => n + 1), slow('dbl', (n) => n * 2)])
      .then(join)
      .commit();
    const result = await run(wf, { n: 3 });
    expect(maxInFlight).toBe(2);
    expect(result.steps.inc.payload).toEqual({ n: 3 });
    expect(result.steps.dbl.payload).toEqual({ n: 3 });
    expect(result.steps.join.payload).toEqual({ inc: { n: 4 }, dbl: { n: 6 } });
    expect(result.result).toEqual({ n: 10 });
  });

  it('CF1 two parallel blocks in a row pass the merged outputs on', async () => {
    const pick = (id: string, key: 'a' | 'b') =>
      createStep({
        id,
        inputSchema: z.object({ a: numSchema, b: numSchema }),
        outputSchema: numSchema,
        execute: async ({ inputData }) => ({ n: inputData[key].n * 100 }),
      });
    const wf = numWorkflow('cf1b')
      .parallel([numStep('a'), numStep('b', (n) => n - 1)])
      .parallel([pick('x', 'a'), pick('y', 'b')])
      .commit();
    const result = await run(wf, { n: 5 });
    expect(result.result).toEqual({ x: { n: 600 }, y: { n: 400 } });
  });

  const broken = (id: string) =>
    createStep({
      id,
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async () => {
        throw new Error(`${id} broke`);
      },
    });

  it('CF2 with allowFailure a failed member is recorded as failed and the next step gets null for it', async () => {
    const seen: unknown[] = [];
    const next = createStep({
      id: 'next',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async ({ inputData }) => {
        seen.push(inputData);
        return 'ok';
      },
    });
    const wf = numWorkflow('cf2')
      .parallel([numStep('ok'), broken('bad')], { allowFailure: true })
      .then(next)
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('success');
    expect(result.steps.bad.status).toBe('failed');
    expect(seen).toEqual([{ ok: { n: 2 }, bad: null }]);
  });

  it('CF2 with allowFailure every member failing still succeeds with all nulls', async () => {
    const wf = numWorkflow('cf2all')
      .parallel([broken('x'), broken('y')], { allowFailure: true })
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ x: null, y: null });
  });

  it('CF2 suspend wins over an allowed failure', async () => {
    const waits = createStep({
      id: 'waits',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ suspend }) => {
        await suspend({});
        return { n: 0 };
      },
    });
    const wf = numWorkflow('cf2s')
      .parallel([waits, broken('bad')], { allowFailure: true })
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('suspended');
    expect(result.suspended).toEqual([['waits']]);
  });

  it('CF2 without allowFailure a failed member fails the run', async () => {
    const result = await run(
      numWorkflow('cf2no')
        .parallel([numStep('ok'), broken('bad')])
        .commit(),
      { n: 1 },
    );
    expect(result.status).toBe('failed');
  });

  it('ER4 a failure in one parallel branch fails the run and keeps the sibling success', async () => {
    const boom = createStep({
      id: 'boom',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async () => {
        throw new Error('branch broke');
      },
    });
    const result = await run(
      numWorkflow('er4')
        .parallel([numStep('ok'), boom])
        .then(numStep('after'))
        .commit(),
      { n: 1 },
    );
    expect(result.status).toBe('failed');
    expect(result.steps.ok.status).toBe('success');
    expect(result.steps.boom.status).toBe('failed');
    expect(result.steps.after).toBeUndefined();
    expect(result.error?.message).toBe('branch broke');
  });
});

describe('CF3-CF4 branch', () => {
  const branchWf = (conds: ((n: number) => boolean)[]) =>
    numWorkflow('branchy')
      .branch([
        [async ({ inputData }) => conds[0]!(inputData.n), numStep('small', (n) => n + 1)],
        [async ({ inputData }) => conds[1]!(inputData.n), numStep('big', (n) => n * 100)],
      ])
      .commit();

  it('CF3 runs only the branch whose condition is true (if/else) and keys the output by step id', async () => {
    const wf = branchWf([(n) => n < 10, (n) => n >= 10]);
    const low = await run(wf, { n: 1 });
    expect(low.result).toEqual({ small: { n: 2 } });
    expect(low.steps.big).toBeUndefined();
    expect(low.steps.small.payload).toEqual({ n: 1 });
    const high = await run(wf, { n: 50 });
    expect(high.result).toEqual({ big: { n: 5000 } });
  });

  it('CF3 runs every branch whose condition is true and keys the output by step id', async () => {
    const result = await run(branchWf([() => true, () => true]), { n: 2 });
    expect(result.result).toEqual({ small: { n: 3 }, big: { n: 200 } });
  });

  it('CF3 with no true condition the next step gets {}', async () => {
    const seen: unknown[] = [];
    const next = createStep({
      id: 'next',
      inputSchema: z.object({}).passthrough(),
      outputSchema: z.any(),
      execute: async ({ inputData }) => {
        seen.push(inputData);
        return 'done';
      },
    });
    const wf = numWorkflow('none')
      .branch([[async () => false, numStep('x')]])
      .then(next)
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('success');
    expect(seen).toEqual([{}]);
  });

  it('CF3 a branch may be a nested workflow, keyed by the workflow id', async () => {
    const inner = numWorkflow('innerWf')
      .then(numStep('i', (n) => n * 3))
      .commit();
    const wf = numWorkflow('branch-nested')
      .branch([[async () => true, inner]])
      .commit();
    expect((await run(wf, { n: 2 })).result).toEqual({ innerWf: { n: 6 } });
  });

  it('CF4 a throwing condition is logged and treated as false; the other conditions still run', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    const wf = numWorkflow('cf4')
      .branch([
        [
          async () => {
            throw new Error('bad condition');
          },
          numStep('first'),
        ],
        [async () => true, numStep('second')],
      ])
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage(), logger });
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ second: { n: 2 } });
    expect(warnings.some((w) => w.includes('first'))).toBe(true);
  });
});

describe('CF5-CF6 loops', () => {
  it('CF5 dountil runs the body, then checks; each iteration gets the previous output', async () => {
    const calls: unknown[] = [];
    const wf = numWorkflow('until')
      .dountil(numStep('inc'), async ({ inputData, iterationCount }) => {
        calls.push([inputData.n, iterationCount]);
        return inputData.n >= 3;
      })
      .commit();
    const result = await run(wf, { n: 0 });
    expect(result.result).toEqual({ n: 3 });
    expect(calls).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(result.steps.inc.output).toEqual({ n: 3 });
    expect(result.steps.inc.metadata).toMatchObject({ iterationCount: 3 });
  });

  it('CF5 dowhile runs the body at least once before the first check', async () => {
    let bodyCalls = 0;
    const body = createStep({
      id: 'body',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData }) => {
        bodyCalls++;
        return { n: inputData.n + 1 };
      },
    });
    const never = await run(
      numWorkflow('while0')
        .dowhile(body, async () => false)
        .commit(),
      { n: 10 },
    );
    expect(bodyCalls).toBe(1);
    expect(never.result).toEqual({ n: 11 });
    const some = await run(
      numWorkflow('while3')
        .dowhile(numStep('inc'), async ({ inputData }) => inputData.n < 3)
        .commit(),
      { n: 0 },
    );
    expect(some.result).toEqual({ n: 3 });
  });

  it('CF6 a loop condition that throws fails the run (it does not reject) and keeps the message', async () => {
    const wf = numWorkflow('cf6')
      .dountil(numStep('inc'), async () => {
        throw new Error('condition exploded');
      })
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const r = await wf.createRun();
    const result = await r.start({ inputData: { n: 0 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('condition exploded');
    const stored = await wf.getWorkflowRunById(r.runId);
    expect(stored?.status).toBe('failed');
  });
});

describe('CF7-CF9 foreach', () => {
  const items = createStep({
    id: 'items',
    inputSchema: numSchema,
    outputSchema: z.array(numSchema),
    execute: async ({ inputData }) => Array.from({ length: inputData.n }, (_, i) => ({ n: i + 1 })),
  });
  const sum = createStep({
    id: 'sum',
    inputSchema: z.array(numSchema),
    outputSchema: numSchema,
    execute: async ({ inputData }) => ({ n: inputData.reduce((s, x) => s + x.n, 0) }),
  });

  const tracked = (delays: number[]) => {
    const state = { inFlight: 0, max: 0, order: [] as number[] };
    const step = createStep({
      id: 'each',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData }) => {
        state.max = Math.max(state.max, ++state.inFlight);
        await new Promise((r) => setTimeout(r, delays[inputData.n - 1] ?? 1));
        state.order.push(inputData.n);
        state.inFlight--;
        return { n: inputData.n * 10 };
      },
    });
    return { state, step };
  };

  it('CF7 runs one item at a time by default and keeps input order; chaining works', async () => {
    const { state, step } = tracked([15, 1, 5]);
    const wf = numWorkflow('cf7').then(items).foreach(step).then(sum).commit();
    const result = await run(wf, { n: 3 });
    expect(state.max).toBe(1);
    expect(state.order).toEqual([1, 2, 3]);
    expect(result.steps.each.output).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
    expect(result.result).toEqual({ n: 60 });
  });

  it('CF7 with concurrency n runs at most n at once and still returns results in input order', async () => {
    const { state, step } = tracked([30, 1, 1, 1, 1]);
    const wf = numWorkflow('cf7c').then(items).foreach(step, { concurrency: 2 }).commit();
    const result = await run(wf, { n: 5 });
    expect(state.max).toBe(2);
    expect(state.order[0]).not.toBe(1); // item 1 was slow and finished after others
    expect(result.result).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }, { n: 40 }, { n: 50 }]);
  });

  it('CF7 an empty array gives [] and the body is never called', async () => {
    const { state, step } = tracked([]);
    const result = await run(numWorkflow('cf7e').then(items).foreach(step).commit(), { n: 0 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual([]);
    expect(state.order).toEqual([]);
  });

  it('CF7 fails clearly when the input is not an array', async () => {
    const result = await run(numWorkflow('cf7x').foreach(numStep('each')).commit(), { n: 1 });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/needs an array as input, got object/);
  });

  it('CF9 foreach over a nested workflow with setState updates the state after each item', async () => {
    const add = createStep({
      id: 'add',
      inputSchema: numSchema,
      outputSchema: numSchema,
      stateSchema: z.object({ total: z.number() }),
      execute: async ({ inputData, state, setState }) => {
        await setState({ total: state.total + inputData.n });
        return inputData;
      },
    });
    const inner = numWorkflow('inner', { stateSchema: z.object({ total: z.number() }) })
      .then(add)
      .commit();
    const wf = numWorkflow('cf9', { stateSchema: z.object({ total: z.number() }) })
      .then(items)
      .foreach(inner)
      .commit();
    const result = await run(wf, { n: 4 }, { initialState: { total: 0 }, outputOptions: { includeState: true } });
    expect(result.status).toBe('success');
    expect(result.state).toEqual({ total: 10 });
  });
});

describe('CF10 bail', () => {
  const bailer = createStep({
    id: 'bailer',
    inputSchema: numSchema,
    outputSchema: numSchema,
    execute: async ({ inputData, bail }) => (inputData.n > 2 ? bail({ n: -1 }) : { n: inputData.n }),
  });

  it('CF10 ends the run as success with the bail value; no later step runs', async () => {
    const result = await run(numWorkflow('cf10').then(bailer).then(numStep('after')).commit(), { n: 5 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: -1 });
    expect(result.steps.bailer.output).toEqual({ n: -1 });
    expect(result.steps.after).toBeUndefined();
  });

  it('CF10 inside foreach stops the remaining iterations', async () => {
    let calls = 0;
    const counting = createStep({
      ...bailer,
      id: 'counting',
      execute: async (ctx) => {
        calls++;
        return bailer.execute(ctx);
      },
    });
    const wf = numWorkflow('cf10f')
      .map(async () => [{ n: 1 }, { n: 3 }, { n: 1 }, { n: 1 }])
      .foreach(counting)
      .then(numStep('after'))
      .commit();
    const result = await run(wf, { n: 0 });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: -1 });
    expect(calls).toBe(2);
    expect(result.steps.after).toBeUndefined();
  });
});

describe('CF11 map', () => {
  it('CF11 builds the next input from {step, path}, {initData, path}, {value, schema} and {requestContextPath}', async () => {
    const inc = numStep('inc');
    const wf = createWorkflow({
      id: 'cf11',
      inputSchema: z.object({ n: z.number(), who: z.string() }),
      outputSchema: z.any(),
    })
      .then(
        createStep({
          id: 'inc',
          inputSchema: z.object({ n: z.number() }),
          outputSchema: z.object({ n: z.number(), deep: z.object({ v: z.string() }) }),
          execute: async ({ inputData }) => ({ n: inputData.n + 1, deep: { v: 'deep!' } }),
        }),
      )
      .map(
        {
          fromStep: { step: inc, path: 'n' },
          nested: { step: inc, path: 'deep.v' },
          whole: { step: inc, path: '.' },
          fromInit: { initData: { id: 'cf11' }, path: 'who' },
          constant: { value: 42, schema: z.number() },
          tenant: { requestContextPath: 'tenant' },
          tenantName: { requestContextPath: 'org.name' },
          missing: { requestContextPath: 'nope' },
          missingKey: { step: inc, path: 'nope' },
        },
        { id: 'shape' },
      )
      .commit();
    const rc = new RequestContext([
      ['tenant', 'acme'],
      ['org', { name: 'Acme Inc' }],
    ]);
    const result = await (await wf.createRun()).start({ inputData: { n: 1, who: 'zed' }, requestContext: rc });
    expect(result.status).toBe('success');
    expect(result.steps.shape.status).toBe('success');
    expect(result.result).toEqual({
      fromStep: 2,
      nested: 'deep!',
      whole: { n: 2, deep: { v: 'deep!' } },
      fromInit: 'zed',
      constant: 42,
      tenant: 'acme',
      tenantName: 'Acme Inc',
    });
  });

  it('CF11 a path into a step that did not succeed fails the map step, as in the reference', async () => {
    const wf = numWorkflow('cf11-never')
      .then(numStep('a'))
      .map({ n: { step: { id: 'neverRan' }, path: 'n' }, all: { step: { id: 'neverRan' }, path: '.' } })
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('Invalid path n in step neverRan');
  });

  it('CF11 {step: [a, b], path} takes the first step that ran', async () => {
    const a = numStep('a');
    const b = numStep('b', (n) => n * 7);
    const wf = numWorkflow('cf11-list')
      .branch([
        [async () => false, a],
        [async () => true, b],
      ])
      .map({ n: { step: [a, b], path: 'n' } })
      .commit();
    expect((await run(wf, { n: 2 })).result).toEqual({ n: 14 });
  });

  it('CF11 a function map gets the step context, and appears in steps under its id', async () => {
    const wf = numWorkflow('cf11-fn')
      .then(numStep('a'))
      .map(
        async ({ inputData, getInitData, getStepResult }) => ({
          sum: inputData.n + getInitData().n + getStepResult('a').n,
        }),
        {
          id: 'fnMap',
        },
      )
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.result).toEqual({ sum: 5 });
    expect(result.steps.fnMap).toMatchObject({ status: 'success', output: { sum: 5 } });
    expect(result.stepExecutionPath).toEqual(['a', 'fnMap']);
  });

  it('CF11 a mapped value is checked by the next step input schema (SV4)', async () => {
    const wf = numWorkflow('sv4-map')
      .map(async () => ({ n: 'not a number' }))
      .then(numStep('next'))
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('Step input validation failed');
    expect(result.error?.message).toContain('- n: Expected number, received string');
  });

  it('CF11 initData: null fails the run with a clear message', async () => {
    const wf = numWorkflow('cf11-null')
      .map({ x: { initData: null, path: 'n' } })
      .commit();
    const result = await run(wf, { n: 1 });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/initData must be the workflow/);
  });
});

describe('CF12 sleep and sleepUntil', () => {
  it('CF12 sleep(ms) delays by at least ms and passes its input through', async () => {
    const wf = numWorkflow('cf12').then(numStep('a')).sleep(30).then(numStep('b')).commit();
    const t0 = Date.now();
    const result = await run(wf, { n: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(28);
    expect(result.steps.sleep_cf12_1).toMatchObject({ status: 'success', output: { n: 2 } });
    expect(result.result).toEqual({ n: 3 });
  });

  it('CF12 a 60 s sleep fn (given inputData and getStepResult) waits on the injected clock', async () => {
    const clock = manualClock();
    const args: unknown[] = [];
    const wf = numWorkflow('cf12-fn')
      .then(numStep('a'))
      .sleep(
        async ({ inputData, getStepResult }) => {
          args.push(inputData, getStepResult('a'));
          return 60_000;
        },
        { id: 'nap' },
      )
      .then(numStep('b'))
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage(), clock });
    const r = await wf.createRun();
    const pending = r.start({ inputData: { n: 1 } });
    await until(() => clock.sleepers() === 1);
    expect((await weft.getRun(r.runId))?.status).toBe('waiting');
    clock.advance(59_999);
    expect(clock.sleepers()).toBe(1);
    clock.advance(1);
    const result = await pending;
    expect(args).toEqual([{ n: 2 }, { n: 2 }]);
    expect(result.status).toBe('success');
    expect(result.steps.nap.output).toEqual({ n: 2 });
    expect(result.result).toEqual({ n: 3 });
  });

  it('CF12 sleepUntil(date) wakes at the date; a date in the past continues at once', async () => {
    const clock = manualClock();
    const wake = new Date(clock.now() + 3_600_000);
    const wf = numWorkflow('cf12-until').sleepUntil(wake).sleepUntil(new Date(0)).then(numStep('b')).commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage(), clock });
    const pending = (await wf.createRun()).start({ inputData: { n: 1 } });
    await until(() => clock.sleepers() === 1);
    clock.advance(3_600_000);
    const result = await pending;
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 2 });
  });

  it('CF12 sleepUntil(fn) uses the date the function returns', async () => {
    const clock = manualClock();
    const wf = numWorkflow('cf12-untilfn')
      .sleepUntil(async ({ inputData }) => new Date(clock.now() + inputData.n * 1000))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage(), clock });
    const pending = (await wf.createRun()).start({ inputData: { n: 5 } });
    await until(() => clock.sleepers() === 1);
    clock.advance(5000);
    expect((await pending).status).toBe('success');
  });

  it('CF12 a sleep inside a nested branch workflow works', async () => {
    const inner = numWorkflow('sleepy').sleep(5).then(numStep('i')).commit();
    const wf = numWorkflow('cf12-nested')
      .branch([[async () => true, inner]])
      .commit();
    expect((await run(wf, { n: 1 })).result).toEqual({ sleepy: { n: 2 } });
  });
});

describe('CF13 nested workflows: data both ways and shared state', () => {
  it('CF13 passes the parent output in and the inner output out', async () => {
    const inner = numWorkflow('inner')
      .then(numStep('double', (n) => n * 2))
      .commit();
    const wf = numWorkflow('cf13').then(numStep('a')).then(inner).then(numStep('b')).commit();
    const result = await run(wf, { n: 1 });
    expect(result.steps.inner).toMatchObject({ status: 'success', payload: { n: 2 }, output: { n: 4 } });
    expect(result.result).toEqual({ n: 5 });
    expect(result.stepExecutionPath).toEqual(['a', 'inner', 'b']);
  });

  it('SV4 bad input into a nested workflow fails with a validation error', async () => {
    const inner = createWorkflow({ id: 'strict', inputSchema: z.object({ s: z.string() }), outputSchema: z.any() })
      .then(
        createStep({
          id: 's',
          inputSchema: z.object({ s: z.string() }),
          outputSchema: z.any(),
          execute: async () => 1,
        }),
      )
      .commit();
    const result = await run(numWorkflow('sv4-nested').then(inner).commit(), { n: 1 });
    expect(result.status).toBe('failed');
    expect(result.steps.strict.status).toBe('failed');
    expect(result.error?.message).toContain('- s: Required');
  });
});

describe('CF14 getStepResult and getInitData', () => {
  it('CF14 gives earlier outputs and the workflow input; a step that never ran gives undefined', async () => {
    const seen: unknown[] = [];
    const look = createStep({
      id: 'look',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, getStepResult, getInitData }) => {
        seen.push(getStepResult('a'), getStepResult(numStep('a')), getStepResult('ghost'), getInitData());
        return inputData;
      },
    });
    await run(
      numWorkflow('cf14')
        .then(numStep('a', (n) => n * 5))
        .then(look)
        .commit(),
      { n: 2 },
    );
    expect(seen).toEqual([{ n: 10 }, { n: 10 }, undefined, { n: 2 }]);
  });

  it('CF14 inside a nested workflow getInitData is the nested input and getStepResult reaches the parent steps', async () => {
    const seen: unknown[] = [];
    const look = createStep({
      id: 'look',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData, getStepResult, getInitData }) => {
        seen.push(getInitData(), getStepResult('a'));
        return inputData;
      },
    });
    const inner = numWorkflow('inner').then(look).commit();
    await run(
      numWorkflow('cf14n')
        .then(numStep('a', (n) => n + 10))
        .then(inner)
        .commit(),
      { n: 1 },
    );
    expect(seen).toEqual([{ n: 11 }, { n: 11 }]);
  });
});

describe('CF8 foreach suspend and resume', () => {
  const approve = (calls: number[]) =>
    createStep({
      id: 'approve',
      inputSchema: numSchema,
      outputSchema: numSchema,
      resumeSchema: z.object({ ok: z.boolean() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        calls.push(inputData.n);
        if (!resumeData) {
          await suspend({ item: inputData.n }, { resumeLabel: `item-${inputData.n}` });
          return { n: 0 };
        }
        return { n: inputData.n * 10 };
      },
    });
  const listOf = (count: number) => async () => Array.from({ length: count }, (_, i) => ({ n: i + 1 }));

  it('CF8 with concurrency 1 each plain resume resumes the next suspended item; finished items never run again', async () => {
    const calls: number[] = [];
    const wf = numWorkflow('cf8').map(listOf(3)).foreach(approve(calls)).commit();
    const r = await wf.createRun();
    expect((await r.start({ inputData: { n: 0 } })).status).toBe('suspended');
    expect(calls).toEqual([1]);
    expect((await r.resume({ resumeData: { ok: true } })).status).toBe('suspended');
    expect((await r.resume({ resumeData: { ok: true } })).status).toBe('suspended');
    const done = await r.resume({ resumeData: { ok: true } });
    expect(done.status).toBe('success');
    expect(done.result).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
    expect(calls).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('CF8 with concurrency > 1 one plain resume resumes every suspended item', async () => {
    const calls: number[] = [];
    const wf = numWorkflow('cf8c').map(listOf(3)).foreach(approve(calls), { concurrency: 3 }).commit();
    const r = await wf.createRun();
    expect((await r.start({ inputData: { n: 0 } })).status).toBe('suspended');
    const done = await r.resume({ resumeData: { ok: true } });
    expect(done.status).toBe('success');
    expect(done.result).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
  });

  it('CF8 forEachIndex resumes just that item, in any order; siblings stay suspended with their payloads', async () => {
    const calls: number[] = [];
    const wf = numWorkflow('cf8i').map(listOf(3)).foreach(approve(calls), { concurrency: 3 }).commit();
    const r = await wf.createRun();
    await r.start({ inputData: { n: 0 } });
    const after2 = await r.resume({ resumeData: { ok: true }, forEachIndex: 2 });
    expect(after2.status).toBe('suspended');
    const view = await wf.getWorkflowRunById(r.runId);
    expect(view?.status).toBe('suspended');
    const after0 = await r.resume({ resumeData: { ok: true }, forEachIndex: 0 });
    expect(after0.status).toBe('suspended');
    const done = await r.resume({ resumeData: { ok: true }, forEachIndex: 1 });
    expect(done.status).toBe('success');
    expect(done.result).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
    expect(calls.filter((n) => n === 3)).toHaveLength(2);
  });

  it('CF8 per-item resume labels resume that item', async () => {
    const calls: number[] = [];
    const wf = numWorkflow('cf8l').map(listOf(2)).foreach(approve(calls), { concurrency: 2 }).commit();
    const r = await wf.createRun();
    const first = await r.start({ inputData: { n: 0 }, outputOptions: { includeResumeLabels: true } });
    expect(first.resumeLabels).toEqual({
      'item-1': { stepId: 'approve', foreachIndex: 0 },
      'item-2': { stepId: 'approve', foreachIndex: 1 },
    });
    expect((await r.resume({ label: 'item-2', resumeData: { ok: true } })).status).toBe('suspended');
    const done = await r.resume({ label: 'item-1', resumeData: { ok: true } });
    expect(done.status).toBe('success');
    expect(done.result).toEqual([{ n: 10 }, { n: 20 }]);
  });
});
