// Suspend and resume of plain steps: catalogue behaviours R1-R15 and R26-R28, and Weft's stricter claims.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MemoryStorage,
  RequestContext,
  Weft,
  WeftError,
  createStep,
  createWorkflow,
  type JournalEntry,
  type NewRun,
  type RunChange,
  type RunCondition,
  type PruneFilter,
  type RunFilter,
  type StoredRun,
  type WeftStorage,
} from '../src/index.js';

const n = z.object({ n: z.number() });

/** a (+1) → b (suspends until resumed with `add`) → c (formats). */
function approvalWorkflow(calls: string[] = []) {
  const a = createStep({
    id: 'a',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData }) => {
      calls.push('a');
      return { n: inputData.n + 1 };
    },
  });
  const b = createStep({
    id: 'b',
    inputSchema: n,
    outputSchema: n,
    resumeSchema: z.object({ add: z.number() }),
    suspendSchema: z.object({ reason: z.string() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      calls.push('b');
      if (!resumeData) {
        await suspend({ reason: 'need add' });
        return { n: -1 };
      }
      return { n: inputData.n + resumeData.add };
    },
  });
  const c = createStep({
    id: 'c',
    inputSchema: n,
    outputSchema: z.object({ out: z.string() }),
    execute: async ({ inputData }) => {
      calls.push('c');
      return { out: `n=${inputData.n}` };
    },
  });
  const wf = createWorkflow({ id: 'approval', inputSchema: n, outputSchema: z.object({ out: z.string() }) })
    .then(a)
    .then(b)
    .then(c)
    .commit();
  return { wf, a, b, c };
}

function engine<W extends Record<string, any>>(workflows: W, storage: WeftStorage = new MemoryStorage()): Weft {
  return new Weft({ workflows, storage, recovery: false });
}

async function rejection(p: Promise<unknown>): Promise<WeftError> {
  try {
    await p;
  } catch (error) {
    if (WeftError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('suspend', () => {
  it('R1: a step that suspends leaves the run suspended, with its suspendPayload, and later steps absent', async () => {
    const calls: string[] = [];
    const { wf } = approvalWorkflow(calls);
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: { n: 1 } });
    expect(r.status).toBe('suspended');
    expect(r.steps.b.status).toBe('suspended');
    expect(r.steps.b.suspendPayload).toEqual({ reason: 'need add' });
    expect(typeof r.steps.b.suspendedAt).toBe('number');
    expect(r.steps.c).toBeUndefined();
    expect(r.suspended).toEqual([['b']]);
    expect(r.suspendPayload).toEqual({ b: { reason: 'need add' } });
    expect(calls).toEqual(['a', 'b']);
    expect(r.result).toBeUndefined();
  });

  it('R2: suspend() with no payload also suspends', async () => {
    const s = createStep({
      id: 's',
      inputSchema: z.object({}),
      outputSchema: z.object({ ok: z.boolean() }),
      execute: async ({ resumeData, suspend }) => {
        if (resumeData === undefined) {
          await suspend();
          return { ok: false };
        }
        return { ok: true };
      },
    });
    const wf = createWorkflow({ id: 'bare', inputSchema: z.object({}), outputSchema: z.object({ ok: z.boolean() }) })
      .then(s)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: {} });
    expect(r.status).toBe('suspended');
    expect(r.steps.s.status).toBe('suspended');
    expect((await run.resume({ resumeData: 'go' })).result).toEqual({ ok: true });
  });

  it('R3: a suspend payload that matches suspendSchema comes back unchanged; one that does not fails the run', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const r = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(r.steps.b.suspendPayload).toEqual({ reason: 'need add' });

    const bad = createStep({
      id: 'bad',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      suspendSchema: z.object({ reason: z.string() }),
      execute: async ({ suspend }) => {
        await suspend({ reason: 42 } as never);
        return {};
      },
    });
    const wf2 = createWorkflow({ id: 'badSuspend', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(bad)
      .commit();
    engine({ wf2 });
    const r2 = await (await wf2.createRun()).start({ inputData: {} });
    expect(r2.status).toBe('failed');
    expect(r2.error?.message).toMatch(/Step suspend data validation failed/);
  });
});

describe('resume', () => {
  it('R4: resume runs the suspended step again with resumeData and goes on to the end; the entry keeps suspend fields and gains resume fields', async () => {
    const calls: string[] = [];
    const { wf, b } = approvalWorkflow(calls);
    engine({ wf });
    const run = await wf.createRun();
    const first = await run.start({ inputData: { n: 1 } });
    const r = await run.resume({ step: b, resumeData: { add: 5 } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ out: 'n=7' });
    expect(r.steps.b.status).toBe('success');
    expect(r.steps.b.output).toEqual({ n: 7 });
    expect(r.steps.b.resumePayload).toEqual({ add: 5 });
    expect(typeof r.steps.b.resumedAt).toBe('number');
    expect(r.steps.b.suspendPayload).toEqual({ reason: 'need add' });
    expect(r.steps.b.suspendedAt).toBe(first.steps.b.suspendedAt);
    expect(r.steps.c.output).toEqual({ out: 'n=7' });
    expect(calls).toEqual(['a', 'b', 'b', 'c']);
  });

  it.each([
    ['a step object', (s: { b: unknown }) => s.b],
    ['an id', () => 'b'],
    ['a path array of ids', () => ['b']],
    ['a path array of step objects', (s: { b: unknown }) => [s.b]],
    ['the entry of result.suspended', (_s: unknown, suspended: string[][]) => suspended[0]],
  ])('R5: resume accepts the step as %s', async (_name, pick) => {
    const { wf, b } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    const first = await run.start({ inputData: { n: 1 } });
    const step = (pick as (s: { b: unknown }, suspended: string[][]) => any)({ b }, first.suspended!);
    const r = await run.resume({ step, resumeData: { add: 1 } });
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ out: 'n=3' });
  });

  it('R6: with exactly one suspended step, resume without `step` finds it', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    expect((await run.resume({ resumeData: { add: 2 } })).result).toEqual({ out: 'n=4' });
  });

  it('R6: with several suspended steps, resume without `step` rejects naming them', async () => {
    const mk = (id: string) =>
      createStep({
        id,
        inputSchema: z.object({}),
        outputSchema: z.object({ id: z.string() }),
        execute: async ({ resumeData, suspend }) => {
          if (!resumeData) await suspend({});
          return { id };
        },
      });
    const wf = createWorkflow({ id: 'twoSusp', inputSchema: z.object({}), outputSchema: z.any() })
      .parallel([mk('p1'), mk('p2')])
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: {} });
    const e = await rejection(run.resume({ resumeData: { ok: 1 } }));
    expect(e.code).toBe('MULTIPLE_SUSPENDED_STEPS');
    expect(e.message).toContain(
      'Multiple suspended steps found: [p1], [p2]. Please specify which step to resume using the "step" parameter.',
    );
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('suspended');
  });

  it('R7: a resume label resumes the step that gave it, and includeResumeLabels lists it', async () => {
    const mk = (id: string) =>
      createStep({
        id,
        inputSchema: z.object({}),
        outputSchema: z.object({ got: z.any() }),
        execute: async ({ resumeData, suspend }) => {
          if (resumeData === undefined) await suspend({}, { resumeLabel: `label-${id}` });
          return { got: resumeData };
        },
      });
    const wf = createWorkflow({ id: 'labels', inputSchema: z.object({}), outputSchema: z.any() })
      .parallel([mk('p1'), mk('p2')])
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.start({ inputData: {}, outputOptions: { includeResumeLabels: true } });
    expect(r.resumeLabels).toEqual({ 'label-p1': { stepId: 'p1' }, 'label-p2': { stepId: 'p2' } });
    const r2 = await run.resume({ label: 'label-p2', resumeData: 'two' });
    expect(r2.status).toBe('suspended');
    expect(r2.suspended).toEqual([['p1']]);
    expect(r2.steps.p2.output).toEqual({ got: 'two' });
    const r3 = await run.resume({ label: 'label-p1', resumeData: 'one' });
    expect(r3.status).toBe('success');
    expect(r3.result).toEqual({ p1: { got: 'one' }, p2: { got: 'two' } });
  });

  it('R7 (Weft differs): an unknown resume label is an error RESUME_LABEL_NOT_FOUND and the run stays suspended', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const e = await rejection(run.resume({ label: 'nope', resumeData: { add: 1 } }));
    expect(e.code).toBe('RESUME_LABEL_NOT_FOUND');
    expect(e.message).toContain('"nope"');
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('suspended');
    expect((await run.resume({ resumeData: { add: 1 } })).status).toBe('success');
  });

  it('R8: resume of a run that is not suspended rejects with RUN_NOT_SUSPENDED and the actual status', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    await run.resume({ resumeData: { add: 1 } });
    const e = await rejection(run.resume({ resumeData: { add: 1 } }));
    expect(e.code).toBe('RUN_NOT_SUSPENDED');
    expect(e.message).toContain('This workflow run was not suspended');
    expect(e.actualStatus).toBe('success');
    expect(e.runId).toBe(run.runId);
  });

  it('R9: resume naming a step that is not suspended rejects listing the suspended ones; the right step still works', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const e = await rejection(run.resume({ step: 'a', resumeData: { add: 1 } }));
    expect(e.code).toBe('STEP_NOT_SUSPENDED');
    expect(e.message).toBe('This workflow step "a" was not suspended. Available suspended steps: [b]');
    expect((await run.resume({ step: 'b', resumeData: { add: 1 } })).status).toBe('success');
  });

  it('R10: resumeData that fails resumeSchema rejects before anything changes; a later valid resume works', async () => {
    const calls: string[] = [];
    const { wf } = approvalWorkflow(calls);
    const weft = engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const before = await weft.getRun(run.runId);
    const e = await rejection(run.resume({ resumeData: { add: 'five' } }));
    expect(e.code).toBe('INVALID_RESUME_DATA');
    expect(e.message).toMatch(/Invalid resume data: \n- add: /);
    const after = await weft.getRun(run.runId);
    expect(after?.status).toBe('suspended');
    expect(after?.lastSeq).toBe(before?.lastSeq);
    expect(calls).toEqual(['a', 'b']);
    const missing = await rejection(run.resume({}));
    expect(missing.code).toBe('INVALID_RESUME_DATA');
    expect((await run.resume({ resumeData: { add: 5 } })).result).toEqual({ out: 'n=7' });
  });

  it('R11: defaults in resumeSchema fill in missing fields of an empty resumeData', async () => {
    const s = createStep({
      id: 's',
      inputSchema: z.object({}),
      outputSchema: z.object({ approved: z.boolean(), by: z.string() }),
      resumeSchema: z.object({ approved: z.boolean().default(true), by: z.string().default('system') }),
      execute: async ({ resumeData, suspend }) => {
        if (!resumeData) {
          await suspend({});
          return { approved: false, by: '' };
        }
        return resumeData;
      },
    });
    const wf = createWorkflow({ id: 'defaults', inputSchema: z.object({}), outputSchema: z.any() })
      .then(s)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: {} });
    const r = await run.resume({ resumeData: {} });
    expect(r.result).toEqual({ approved: true, by: 'system' });
    expect(r.steps.s.resumePayload).toEqual({ approved: true, by: 'system' });
  });

  it('R12/R13: on resume the step gets its own suspendData and its stored input, not the resumeData; result.input is the workflow input', async () => {
    const seen: { inputData: unknown; suspendData: unknown; resumeData: unknown }[] = [];
    const s = createStep({
      id: 's',
      inputSchema: n,
      outputSchema: n,
      suspendSchema: z.object({ ticket: z.string() }),
      resumeSchema: z.object({ add: z.number() }),
      execute: async ({ inputData, suspendData, resumeData, suspend }) => {
        seen.push({ inputData, suspendData, resumeData });
        if (!resumeData) {
          await suspend({ ticket: 'T-1' });
          return { n: 0 };
        }
        return { n: inputData.n + resumeData.add };
      },
    });
    const double = createStep({
      id: 'double',
      inputSchema: n,
      outputSchema: n,
      execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
    });
    const wf = createWorkflow({ id: 'sd', inputSchema: n, outputSchema: n }).then(double).then(s).commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 3 } });
    const r = await run.resume({ resumeData: { add: 1 } });
    expect(seen).toEqual([
      { inputData: { n: 6 }, suspendData: undefined, resumeData: undefined },
      { inputData: { n: 6 }, suspendData: { ticket: 'T-1' }, resumeData: { add: 1 } },
    ]);
    expect(r.steps.s.payload).toEqual({ n: 6 });
    expect(r.input).toEqual({ n: 3 });
    expect(r.steps.input).toEqual({ n: 3 });
    expect(r.result).toEqual({ n: 7 });
  });

  it('R14: state set before a suspend is seen by the resumed step and by later steps', async () => {
    const stateSchema = z.object({ count: z.number(), note: z.string().optional() });
    const seen: unknown[] = [];
    const s = createStep({
      id: 's',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      stateSchema,
      execute: async ({ state, setState, resumeData, suspend }) => {
        seen.push({ at: 's', state: { ...state } }); // a copy: `state` is the run's live state
        if (!resumeData) {
          await setState({ ...state, count: state.count + 1 });
          await suspend({});
          return {};
        }
        await setState({ ...state, note: 'resumed' });
        return {};
      },
    });
    const t = createStep({
      id: 't',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      stateSchema,
      execute: async ({ state }) => {
        seen.push({ at: 't', state: { ...state } });
        return {};
      },
    });
    const wf = createWorkflow({ id: 'st', inputSchema: z.object({}), outputSchema: z.object({}), stateSchema })
      .then(s)
      .then(t)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: {}, initialState: { count: 1 } });
    const r = await run.resume({ resumeData: { go: true }, outputOptions: { includeState: true } });
    expect(seen).toEqual([
      { at: 's', state: { count: 1 } },
      { at: 's', state: { count: 2 } },
      { at: 't', state: { count: 2, note: 'resumed' } },
    ]);
    expect(r.state).toEqual({ count: 2, note: 'resumed' });
  });

  it('R15: requestContext values from the start and set by a step before a suspend are seen after the resume; values passed to resume win', async () => {
    const seen: Record<string, unknown>[] = [];
    const s = createStep({
      id: 's',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async ({ requestContext, resumeData, suspend }) => {
        seen.push(Object.fromEntries(requestContext.entries()));
        if (!resumeData) {
          requestContext.set('setByStep', 'yes');
          await suspend({});
        }
        return {};
      },
    });
    const t = createStep({
      id: 't',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async ({ requestContext }) => {
        seen.push(Object.fromEntries(requestContext.entries()));
        return {};
      },
    });
    const wf = createWorkflow({ id: 'rc', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(s)
      .then(t)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({
      inputData: {},
      requestContext: new RequestContext([
        ['tenant', 'acme'],
        ['user', 'ann'],
      ]),
    });
    await run.resume({ resumeData: { ok: true }, requestContext: new RequestContext([['user', 'bob']]) });
    expect(seen[0]).toEqual({ tenant: 'acme', user: 'ann' });
    expect(seen[1]).toEqual({ tenant: 'acme', user: 'bob', setByStep: 'yes' });
    expect(seen[2]).toEqual({ tenant: 'acme', user: 'bob', setByStep: 'yes' });
  });

  it('R26 (Weft differs): of two concurrent resumes one wins, the loser gets RUN_ALREADY_CLAIMED, and later steps run once', async () => {
    const calls: string[] = [];
    const { wf } = approvalWorkflow(calls);
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const settled = await Promise.allSettled([
      run.resume({ resumeData: { add: 1 } }),
      run.resume({ resumeData: { add: 2 } }),
    ]);
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(WeftError.is(lost[0]!.reason, 'RUN_ALREADY_CLAIMED')).toBe(true);
    expect(calls.filter((c) => c === 'c')).toHaveLength(1);
    expect(calls.filter((c) => c === 'b')).toHaveLength(2);
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('success');
  });

  it('R26 (Weft differs): concurrent resumes from two engine instances over one storage: one wins, later steps run once', async () => {
    const storage = new MemoryStorage();
    const calls: string[] = [];
    const one = approvalWorkflow(calls);
    const two = approvalWorkflow(calls);
    engine({ wf: one.wf }, storage);
    engine({ wf: two.wf }, storage);
    const run = await one.wf.createRun({ runId: 'shared' });
    await run.start({ inputData: { n: 1 } });
    const other = await two.wf.createRun({ runId: 'shared' });
    const settled = await Promise.allSettled([
      run.resume({ resumeData: { add: 1 } }),
      other.resume({ resumeData: { add: 1 } }),
    ]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const lost = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(WeftError.is(lost?.reason, 'RUN_ALREADY_CLAIMED')).toBe(true);
    expect(calls.filter((c) => c === 'c')).toHaveLength(1);
  });

  it('R26: a resume rejected for bad data releases nothing it had claimed; a later valid resume works', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const [bad, good] = await Promise.allSettled([
      run.resume({ resumeData: { add: 'x' } }),
      run.resume({ resumeData: { add: 1 } }),
    ]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
  });

  it('R27: a resume issued while the start is still on its way to the suspension waits for it', async () => {
    const slow = createStep({
      id: 'slow',
      inputSchema: z.object({}),
      outputSchema: z.object({ v: z.string() }),
      execute: async ({ resumeData, suspend }) => {
        if (!resumeData) {
          await new Promise((r) => setTimeout(r, 50));
          await suspend({});
          return { v: '' };
        }
        return { v: String(resumeData) };
      },
    });
    const wf = createWorkflow({ id: 'slowSusp', inputSchema: z.object({}), outputSchema: z.any() })
      .then(slow)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const started = run.start({ inputData: {} });
    const resumed = run.resume({ resumeData: 'late' });
    expect((await started).status).toBe('suspended');
    expect((await resumed).result).toEqual({ v: 'late' });
  });

  it('R27: a resume of a finished run returns at once with the error', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    await run.resume({ resumeData: { add: 1 } });
    const t0 = Date.now();
    expect((await rejection(run.resume({ resumeData: { add: 1 } }))).code).toBe('RUN_NOT_SUSPENDED');
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('R27: a resume of a run that never started waits a bounded time, then rejects with the status it last saw', async () => {
    const { wf } = approvalWorkflow();
    engine({ wf });
    const run = await wf.createRun();
    const t0 = Date.now();
    const e = await rejection(run.resume({ resumeData: { add: 1 } }));
    expect(e.code).toBe('RUN_NOT_SUSPENDED');
    expect(e.actualStatus).toBe('pending');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('R28: when the final write of a resume fails, the error reaches the caller and no other outcome is written', async () => {
    const storage = new FailingStorage(new MemoryStorage());
    const { wf } = approvalWorkflow();
    engine({ wf }, storage);
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    storage.failFinalWrite = new Error('disk full');
    await expect(run.resume({ resumeData: { add: 1 } })).rejects.toThrow('disk full');
    expect(storage.finalWrites).toBe(1);
    const row = await storage.getRun(run.runId);
    expect(row?.status).toBe('running');
    const journal = await storage.readJournal(run.runId);
    expect(journal.filter((e) => e.type === 'run-end').map((e) => JSON.parse(e.data).status)).toEqual(['suspended']);
  });

  it('a second start of the same run is refused with RUN_ALREADY_CLAIMED and changes nothing', async () => {
    const calls: string[] = [];
    const { wf } = approvalWorkflow(calls);
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const e = await rejection(run.start({ inputData: { n: 1 } }));
    expect(e.code).toBe('RUN_ALREADY_CLAIMED');
    expect(calls).toEqual(['a', 'b']);
    expect((await wf.getWorkflowRunById(run.runId))?.status).toBe('suspended');
  });

  it('two concurrent starts of the same run: one runs, the other is refused', async () => {
    const calls: string[] = [];
    const { wf } = approvalWorkflow(calls);
    engine({ wf });
    const run = await wf.createRun();
    const settled = await Promise.allSettled([run.start({ inputData: { n: 1 } }), run.start({ inputData: { n: 1 } })]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(calls).toEqual(['a', 'b']);
  });
});

/** Storage that can fail the write that ends a run with a final status. */
class FailingStorage implements WeftStorage {
  readonly kind = 'failing';
  failFinalWrite: Error | undefined;
  finalWrites = 0;
  constructor(private readonly inner: WeftStorage) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  createRun(run: NewRun): Promise<StoredRun> {
    return this.inner.createRun(run);
  }
  getRun(runId: string): Promise<StoredRun | null> {
    return this.inner.getRun(runId);
  }
  listRuns(filter?: RunFilter): Promise<{ runs: StoredRun[]; total: number }> {
    return this.inner.listRuns(filter);
  }
  deleteRun(runId: string): Promise<boolean> {
    return this.inner.deleteRun(runId);
  }
  pruneRuns(filter: PruneFilter): Promise<number> {
    return this.inner.pruneRuns(filter);
  }
  async updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ) {
    if (this.failFinalWrite && change.status === 'success') {
      this.finalWrites++;
      throw this.failFinalWrite;
    }
    return this.inner.updateRun(runId, condition, change, entries);
  }
  appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    return this.inner.appendJournal(runId, epoch, entries);
  }
  readJournal(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<JournalEntry[]> {
    return this.inner.readJournal(runId, options);
  }
  renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]> {
    return this.inner.renewLeases(owner, runIds, expiresAt);
  }
  listExpiredRuns(now: number, limit: number): Promise<StoredRun[]> {
    return this.inner.listExpiredRuns(now, limit);
  }
  syncSchedules: WeftStorage['syncSchedules'] = (...args) => this.inner.syncSchedules(...args);
  listSchedules: WeftStorage['listSchedules'] = (...args) => this.inner.listSchedules(...args);
  getSchedule: WeftStorage['getSchedule'] = (...args) => this.inner.getSchedule(...args);
  claimScheduleFire: WeftStorage['claimScheduleFire'] = (...args) => this.inner.claimScheduleFire(...args);
  setSchedulePaused: WeftStorage['setSchedulePaused'] = (...args) => this.inner.setSchedulePaused(...args);
  deleteSchedule: WeftStorage['deleteSchedule'] = (...args) => this.inner.deleteSchedule(...args);
  listScheduleFires: WeftStorage['listScheduleFires'] = (...args) => this.inner.listScheduleFires(...args);
}
