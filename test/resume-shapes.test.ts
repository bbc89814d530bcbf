// Suspend and resume in every shape: parallel, branch, nested (three deep), loops, foreach, map (R16-R25, CF8).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, WeftError, createStep, createWorkflow } from '../src/index.js';

const n = z.object({ n: z.number() });
const any = z.any();

function engine<W extends Record<string, any>>(workflows: W): Weft {
  return new Weft({ workflows, storage: new MemoryStorage(), recovery: false });
}

/** A step that suspends on its first run and adds `resumeData.add` to n on resume. */
function pauser(id: string, calls: string[] = [], label?: string) {
  return createStep({
    id,
    inputSchema: n,
    outputSchema: n,
    resumeSchema: z.object({ add: z.number() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      calls.push(id);
      if (!resumeData) {
        await suspend({ at: id }, label ? { resumeLabel: label } : undefined);
        return { n: -1 };
      }
      return { n: inputData.n + resumeData.add };
    },
  });
}

function counter(id: string, calls: string[], f: (x: number) => number = (x) => x + 1) {
  return createStep({
    id,
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData }) => {
      calls.push(id);
      return { n: f(inputData.n) };
    },
  });
}

describe('parallel and branch', () => {
  it('R16: two parallel steps both suspend; each is resumed on its own and the result is keyed by step id', async () => {
    const wf = createWorkflow({ id: 'par', inputSchema: n, outputSchema: any })
      .parallel([pauser('p1'), pauser('p2')])
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.status).toBe('suspended');
    expect(r.suspended).toEqual([['p1'], ['p2']]);
    const r2 = await run.resume({ step: 'p2', resumeData: { add: 20 } });
    expect(r2.status).toBe('suspended');
    expect(r2.suspended).toEqual([['p1']]);
    expect(r2.steps.p1.status).toBe('suspended');
    expect(r2.steps.p2.status).toBe('success');
    const r3 = await run.resume({ step: 'p1', resumeData: { add: 10 } });
    expect(r3.status).toBe('success');
    expect(r3.result).toEqual({ p1: { n: 11 }, p2: { n: 21 } });
  });

  it('R17: a branch whose two conditions hold runs both; both suspend and are resumed one at a time', async () => {
    const wf = createWorkflow({ id: 'br2', inputSchema: n, outputSchema: any })
      .branch([
        [async () => true, pauser('x')],
        [async () => true, pauser('y')],
      ])
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.suspended).toEqual([['x'], ['y']]);
    const r2 = await run.resume({ step: 'x', resumeData: { add: 1 } });
    expect(r2.status).toBe('suspended');
    expect(r2.steps.x.status).toBe('success');
    expect(r2.steps.y.status).toBe('suspended');
    const r3 = await run.resume({ step: 'y', resumeData: { add: 2 } });
    expect(r3.status).toBe('success');
    expect(r3.steps.x.status).toBe('success');
    expect(r3.steps.y.status).toBe('success');
    expect(r3.result).toEqual({ x: { n: 2 }, y: { n: 3 } });
  });

  it('R18: in a parallel block where one step suspends and one succeeds, the run is suspended and the success kept', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'par1', inputSchema: n, outputSchema: any })
      .parallel([pauser('p', calls), counter('ok', calls)])
      .then(
        createStep({ id: 'join', inputSchema: any, outputSchema: any, execute: async ({ inputData }) => inputData }),
      )
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.status).toBe('suspended');
    expect(r.steps.ok).toMatchObject({ status: 'success', output: { n: 2 } });
    const r2 = await run.resume({ resumeData: { add: 5 } });
    expect(r2.result).toEqual({ p: { n: 6 }, ok: { n: 2 } });
    expect(calls.filter((c) => c === 'ok')).toHaveLength(1);
  });

  it('R22: after a branch, only the branch taken runs on resume, and conditions are not evaluated again (even in a rebuilt workflow)', async () => {
    const build = (condCalls: string[], calls: string[]) =>
      createWorkflow({ id: 'brResume', inputSchema: n, outputSchema: any })
        .branch([
          [
            async ({ inputData }) => {
              condCalls.push('big');
              return inputData.n > 5;
            },
            pauser('big', calls),
          ],
          [
            async ({ inputData }) => {
              condCalls.push('small');
              return inputData.n <= 5;
            },
            pauser('small', calls),
          ],
        ])
        .commit();
    const storage = new MemoryStorage();
    const cond1: string[] = [];
    const calls: string[] = [];
    const wf1 = build(cond1, calls);
    new Weft({ workflows: { wf1 }, storage, recovery: false });
    const run = await wf1.createRun({ runId: 'br' });
    expect((await run.start({ inputData: { n: 1 } })).suspended).toEqual([['small']]);
    expect(cond1).toEqual(['big', 'small']);

    // A rebuilt workflow whose conditions would now choose differently, as after a server restart.
    const cond2: string[] = [];
    const wf2 = createWorkflow({ id: 'brResume', inputSchema: n, outputSchema: any })
      .branch([
        [async () => (cond2.push('big'), true), pauser('big', calls)],
        [async () => (cond2.push('small'), false), pauser('small', calls)],
      ])
      .commit();
    new Weft({ workflows: { wf2 }, storage, recovery: false });
    const again = await wf2.createRun({ runId: 'br' });
    const r = await again.resume({ resumeData: { add: 1 } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ small: { n: 2 } });
    expect(cond2).toEqual([]);
    expect(calls).toEqual(['small', 'small']);
    expect(r.steps.big).toBeUndefined();
  });
});

describe('nested workflows', () => {
  /** outer: before → mid(wf: inner(wf: leaf)) → after, three levels deep. */
  function deep(calls: string[]) {
    const inner = createWorkflow({ id: 'inner', inputSchema: n, outputSchema: n })
      .then(counter('innerPre', calls))
      .then(pauser('leaf', calls))
      .commit();
    const mid = createWorkflow({ id: 'mid', inputSchema: n, outputSchema: n })
      .then(counter('midPre', calls))
      .then(inner)
      .commit();
    const outer = createWorkflow({ id: 'outer', inputSchema: n, outputSchema: n })
      .then(counter('before', calls))
      .then(mid)
      .then(counter('after', calls, (x) => x * 100))
      .commit();
    return { outer, mid, inner };
  }

  it('R19: a suspend inside a nested workflow suspends the parent; the nested entry is suspended', async () => {
    const calls: string[] = [];
    const inner = createWorkflow({ id: 'nest', inputSchema: n, outputSchema: n })
      .then(pauser('innerS', calls))
      .commit();
    const wf = createWorkflow({ id: 'parent', inputSchema: n, outputSchema: n }).then(inner).commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.status).toBe('suspended');
    expect(r.steps.nest.status).toBe('suspended');
    expect(r.suspended).toEqual([['nest', 'innerS']]);
    expect(r.steps.nest.suspendPayload.__workflow_meta).toMatchObject({ path: ['innerS'] });
    expect(r.suspendPayload).toEqual({ nest: { at: 'innerS' } });
  });

  it.each([
    ['the nested workflow id', 'nest'],
    ['a path array', ['nest', 'innerS']],
    ['a dotted id', 'nest.innerS'],
    ['a nested workflow object and step object', 'objects'],
  ])('R19: resuming a nested suspend by %s completes the nested run and then the parent', async (_name, target) => {
    const calls: string[] = [];
    const innerS = pauser('innerS', calls);
    const inner = createWorkflow({ id: 'nest', inputSchema: n, outputSchema: n }).then(innerS).commit();
    const wf = createWorkflow({ id: 'parent', inputSchema: n, outputSchema: n })
      .then(inner)
      .then(counter('tail', calls))
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const step = target === 'objects' ? [inner, innerS] : target;
    const r = await run.resume({ step, resumeData: { add: 4 } });
    expect(r.status).toBe('success');
    expect(r.steps.nest).toMatchObject({ status: 'success', output: { n: 5 } });
    expect(r.result).toEqual({ n: 6 });
  });

  it('R20: three levels deep: the outer entry carries the path, result.suspended has the full path, resuming with it works and earlier steps do not run again', async () => {
    const calls: string[] = [];
    const { outer } = deep(calls);
    engine({ outer });
    const run = await outer.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.status).toBe('suspended');
    expect(r.suspended).toEqual([['mid', 'inner', 'leaf']]);
    expect(r.steps.mid.status).toBe('suspended');
    expect(r.steps.mid.suspendPayload.__workflow_meta.path).toEqual(['inner', 'leaf']);
    expect(calls).toEqual(['before', 'midPre', 'innerPre', 'leaf']);
    const r2 = await run.resume({ step: r.suspended![0]!, resumeData: { add: 10 } });
    expect(r2.status).toBe('success');
    // before: 2, midPre: 3, innerPre: 4, leaf: 14, after: 1400
    expect(r2.result).toEqual({ n: 1400 });
    expect(calls).toEqual(['before', 'midPre', 'innerPre', 'leaf', 'leaf', 'after']);
  });

  it.each([
    ['the outer nested id', 'mid'],
    ['a dotted id', 'mid.inner.leaf'],
    ['no step (auto-detected)', undefined],
  ])('R20: three levels deep, resumable by %s', async (_name, step) => {
    const calls: string[] = [];
    const { outer } = deep(calls);
    engine({ outer });
    const run = await outer.createRun();
    await run.start({ inputData: { n: 1 } });
    const r = await run.resume({ ...(step === undefined ? {} : { step }), resumeData: { add: 10 } });
    expect(r.result).toEqual({ n: 1400 });
  });

  it('R21: two nested workflows in a row, each suspending: resume the first, then the second', async () => {
    const calls: string[] = [];
    const first = createWorkflow({ id: 'first', inputSchema: n, outputSchema: n }).then(pauser('s1', calls)).commit();
    const second = createWorkflow({ id: 'second', inputSchema: n, outputSchema: n }).then(pauser('s2', calls)).commit();
    const wf = createWorkflow({ id: 'twoNested', inputSchema: n, outputSchema: n }).then(first).then(second).commit();
    engine({ wf });
    const run = await wf.createRun();
    expect((await run.start({ inputData: { n: 0 } })).suspended).toEqual([['first', 's1']]);
    const r2 = await run.resume({ step: 'first', resumeData: { add: 1 } });
    expect(r2.status).toBe('suspended');
    expect(r2.suspended).toEqual([['second', 's2']]);
    const r3 = await run.resume({ step: 'second', resumeData: { add: 2 } });
    expect(r3.status).toBe('success');
    expect(r3.result).toEqual({ n: 3 });
    expect(calls).toEqual(['s1', 's1', 's2', 's2']);
  });

  it('R25: while suspended the stored run shows exactly one suspended dotted leaf; after the resume nothing is left suspended', async () => {
    const calls: string[] = [];
    const { outer } = deep(calls);
    engine({ outer });
    const run = await outer.createRun();
    await run.start({ inputData: { n: 1 } });
    const view = await outer.getWorkflowRunById(run.runId);
    const suspendedLeaves = Object.entries(view!.steps).filter(
      ([id, s]) =>
        id.includes('.') && s.status === 'suspended' && !Object.keys(view!.steps).some((o) => o.startsWith(`${id}.`)),
    );
    expect(suspendedLeaves.map(([id]) => id)).toEqual(['mid.inner.leaf']);
    expect(view!.suspended).toEqual([['mid', 'inner', 'leaf']]);
    await run.resume({ resumeData: { add: 1 } });
    const done = await outer.getWorkflowRunById(run.runId);
    expect(done!.status).toBe('success');
    expect(Object.values(done!.steps).filter((s) => s.status === 'suspended')).toEqual([]);
    expect(done!.suspended).toBeUndefined();
  });

  it('R7: a label raised inside a nested workflow resumes it from the parent', async () => {
    const inner = createWorkflow({ id: 'labelled', inputSchema: n, outputSchema: n })
      .then(pauser('deepS', [], 'approve'))
      .commit();
    const wf = createWorkflow({ id: 'labelParent', inputSchema: n, outputSchema: n }).then(inner).commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 }, outputOptions: { includeResumeLabels: true } });
    expect(Object.keys(r.resumeLabels!)).toEqual(['approve']);
    expect((await run.resume({ label: 'approve', resumeData: { add: 1 } })).result).toEqual({ n: 2 });
  });
});

describe('loops', () => {
  it('R24: a dountil whose body suspends runs one iteration per resume, its payload going up, until the condition holds', async () => {
    const payloads: number[] = [];
    const body = createStep({
      id: 'body',
      inputSchema: z.object({ value: z.number() }),
      outputSchema: z.object({ value: z.number() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        payloads.push(inputData.value);
        if (!resumeData) {
          await suspend({ value: inputData.value });
          return inputData;
        }
        return { value: inputData.value + 1 };
      },
    });
    const wf = createWorkflow({ id: 'loopSusp', inputSchema: z.object({ value: z.number() }), outputSchema: any })
      .dountil(body, async ({ inputData }) => inputData.value >= 3)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    let r = await run.start({ inputData: { value: 0 } });
    const seen: number[] = [];
    while (r.status === 'suspended') {
      seen.push(r.steps.body.payload.value);
      r = await run.resume({ resumeData: { ok: true } });
    }
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ value: 3 });
    expect(seen).toEqual([0, 1, 2]);
    expect(payloads).toEqual([0, 0, 1, 1, 2, 2]);
    expect(r.steps.body.metadata).toMatchObject({ iterationCount: 3 });
  });

  it('R24: resuming a nested workflow inside a loop with [nestedId, stepId] goes on looping until the condition holds', async () => {
    const inner = createWorkflow({ id: 'loopInner', inputSchema: n, outputSchema: n }).then(pauser('ask')).commit();
    const wf = createWorkflow({ id: 'loopNested', inputSchema: n, outputSchema: n })
      .dountil(inner, async ({ inputData }) => inputData.n >= 30)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    let r = await run.start({ inputData: { n: 0 } });
    let resumes = 0;
    while (r.status === 'suspended') {
      expect(r.suspended).toEqual([['loopInner', 'ask']]);
      r = await run.resume({ step: ['loopInner', 'ask'], resumeData: { add: 10 } });
      resumes++;
    }
    expect(r.result).toEqual({ n: 30 });
    expect(resumes).toBe(3);
  });
});

describe('foreach', () => {
  function items(calls: string[], label = false) {
    return createStep({
      id: 'item',
      inputSchema: n,
      outputSchema: n,
      resumeSchema: z.object({ add: z.number() }),
      execute: async ({ inputData, resumeData, suspend }) => {
        calls.push(`item${inputData.n}${resumeData ? '+' : ''}`);
        if (!resumeData) {
          await suspend({ n: inputData.n }, label ? { resumeLabel: `item-${inputData.n}` } : undefined);
          return inputData;
        }
        return { n: inputData.n + resumeData.add };
      },
    });
  }

  it('CF8: with concurrency 1 each plain resume resumes the one suspended item and goes on to the next', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'fe1', inputSchema: z.array(n), outputSchema: any })
      .foreach(items(calls))
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    let r = await run.start({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    expect(calls).toEqual(['item1']);
    expect(r.suspended).toEqual([['item']]);
    expect(r.steps.item.suspendPayload.__workflow_meta.foreachIndex).toBe(0);
    r = await run.resume({ resumeData: { add: 10 } });
    expect(r.status).toBe('suspended');
    expect(calls).toEqual(['item1', 'item1+', 'item2']);
    r = await run.resume({ resumeData: { add: 10 } });
    r = await run.resume({ resumeData: { add: 10 } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual([{ n: 11 }, { n: 12 }, { n: 13 }]);
    expect(calls).toEqual(['item1', 'item1+', 'item2', 'item2+', 'item3', 'item3+']);
  });

  it('CF8: with concurrency above 1 a plain resume resumes every suspended item', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'fe3', inputSchema: z.array(n), outputSchema: any })
      .foreach(items(calls), { concurrency: 3 })
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    expect(r.status).toBe('suspended');
    expect(calls.sort()).toEqual(['item1', 'item2', 'item3']);
    const r2 = await run.resume({ resumeData: { add: 1 } });
    expect(r2.status).toBe('success');
    expect(r2.result).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it('CF8: forEachIndex resumes just that item, in any order; items that succeeded never run again', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'feIdx', inputSchema: z.array(n), outputSchema: any })
      .foreach(items(calls), { concurrency: 3 })
      .commit();
    const weft = engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    let r = await run.resume({ step: 'item', forEachIndex: 2, resumeData: { add: 30 } });
    expect(r.status).toBe('suspended');
    const view = await weft.getRun(run.runId);
    expect(view!.status).toBe('suspended');
    r = await run.resume({ forEachIndex: 0, resumeData: { add: 10 } });
    expect(r.status).toBe('suspended');
    r = await run.resume({ forEachIndex: 1, resumeData: { add: 20 } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual([{ n: 11 }, { n: 22 }, { n: 33 }]);
    expect(calls.filter((c) => c.endsWith('+')).sort()).toEqual(['item1+', 'item2+', 'item3+']);
    expect(calls).toHaveLength(6);
  });

  it('CF8: a suspended item keeps its suspendPayload while a sibling is resumed', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'feKeep', inputSchema: z.array(n), outputSchema: any })
      .foreach(items(calls), { concurrency: 2 })
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: [{ n: 1 }, { n: 2 }] });
    const r = await run.resume({ forEachIndex: 0, resumeData: { add: 1 } });
    const meta = r.steps.item.suspendPayload.__workflow_meta;
    expect(meta.foreachIndex).toBe(1);
    expect(meta.foreachOutput[0]).toMatchObject({ status: 'success', output: { n: 2 } });
    expect(meta.foreachOutput[1]).toMatchObject({ status: 'suspended', suspendPayload: { n: 2 } });
  });

  it('CF8: per-item resume labels resume one item each', async () => {
    const calls: string[] = [];
    const wf = createWorkflow({ id: 'feLabel', inputSchema: z.array(n), outputSchema: any })
      .foreach(items(calls, true), { concurrency: 2 })
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: [{ n: 1 }, { n: 2 }], outputOptions: { includeResumeLabels: true } });
    expect(r.resumeLabels).toEqual({
      'item-1': { stepId: 'item', foreachIndex: 0 },
      'item-2': { stepId: 'item', foreachIndex: 1 },
    });
    const r2 = await run.resume({ label: 'item-2', resumeData: { add: 5 } });
    expect(r2.status).toBe('suspended');
    const r3 = await run.resume({ label: 'item-1', resumeData: { add: 7 } });
    expect(r3.result).toEqual([{ n: 8 }, { n: 7 }]);
  });

  it('CF8: forEachIndex of an item that is not suspended is refused and the run stays suspended', async () => {
    const wf = createWorkflow({ id: 'feBad', inputSchema: z.array(n), outputSchema: any })
      .foreach(items([]))
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: [{ n: 1 }, { n: 2 }] });
    await expect(run.resume({ forEachIndex: 1, resumeData: { add: 1 } })).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'STEP_NOT_SUSPENDED'),
    );
    expect((await wf.getWorkflowRunById(run.runId))!.status).toBe('suspended');
  });
});

describe('map', () => {
  it('R23: .map() before a suspended step: on resume the step gets the mapped input, and the map id shows in steps', async () => {
    const seen: unknown[] = [];
    const s = createStep({
      id: 's',
      inputSchema: z.object({ doubled: z.number() }),
      outputSchema: n,
      execute: async ({ inputData, resumeData, suspend }) => {
        seen.push(inputData);
        if (!resumeData) {
          await suspend({});
          return { n: 0 };
        }
        return { n: inputData.doubled + 1 };
      },
    });
    const wf = createWorkflow({ id: 'mapped', inputSchema: n, outputSchema: n })
      .map(async ({ inputData }) => ({ doubled: inputData.n * 2 }), { id: 'toDoubled' })
      .then(s)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 5 } });
    expect(r.steps.toDoubled).toMatchObject({ status: 'success', output: { doubled: 10 } });
    const r2 = await run.resume({ resumeData: { go: 1 } });
    expect(r2.result).toEqual({ n: 11 });
    expect(seen).toEqual([{ doubled: 10 }, { doubled: 10 }]);
    expect(r2.steps.toDoubled).toBeDefined();
  });
});
