// stream / resumeStream and the per-run event log: catalogue behaviours E1-E11 and E13-E15, replay from a seq.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MemoryStorage,
  Weft,
  WeftError,
  createStep,
  createWorkflow,
  type WatchEvent,
  type WorkflowEvent,
} from '../src/index.js';

const n = z.object({ n: z.number() });

function engine<W extends Record<string, any>>(workflows: W): Weft {
  return new Weft({ workflows, storage: new MemoryStorage(), recovery: false });
}

async function collect(stream: ReadableStream<WorkflowEvent>): Promise<WorkflowEvent[]> {
  const events: WorkflowEvent[] = [];
  for await (const e of stream as unknown as AsyncIterable<WorkflowEvent>) events.push(e);
  return events;
}

function expectEnvelopes(events: WorkflowEvent[], runId: string): void {
  for (const e of events) {
    expect(e.runId).toBe(runId);
    expect(['WORKFLOW', 'USER']).toContain(e.from);
    expect(typeof e.seq).toBe('number');
  }
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
}

const inc = createStep({
  id: 'inc',
  inputSchema: n,
  outputSchema: n,
  execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
});
const dbl = createStep({
  id: 'dbl',
  inputSchema: n,
  outputSchema: n,
  execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
});

/** a (writes a progress chunk) → b (suspends) → c. */
function threeSteps() {
  const a = createStep({
    id: 'a',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData, writer }) => {
      await writer.write({ type: 'custom-progress', pct: 50 });
      return { n: inputData.n + 1 };
    },
  });
  const b = createStep({
    id: 'b',
    inputSchema: n,
    outputSchema: n,
    resumeSchema: z.object({ add: z.number() }),
    execute: async ({ inputData, resumeData, suspend, writer }) => {
      if (!resumeData) {
        await suspend({ reason: 'need add' });
        return { n: 0 };
      }
      await writer.custom({ type: 'data-resumed', data: { add: resumeData.add } });
      return { n: inputData.n + resumeData.add };
    },
  });
  const c = createStep({
    id: 'c',
    inputSchema: n,
    outputSchema: z.object({ out: z.string() }),
    execute: async ({ inputData }) => ({ out: `n=${inputData.n}` }),
  });
  return createWorkflow({ id: 'wfs', inputSchema: n, outputSchema: z.object({ out: z.string() }) })
    .then(a)
    .then(b)
    .then(c)
    .commit();
}

describe('stream', () => {
  it('E1: stream() returns synchronously {fullStream, result, status, runId, workflowId}; two steps give exactly 6 events', async () => {
    const wf = createWorkflow({ id: 'two', inputSchema: n, outputSchema: n }).then(inc).then(dbl).commit();
    engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 1 } });
    expect(out.runId).toBe(run.runId);
    expect(out.workflowId).toBe('two');
    expect(out.status).toBe('running');
    expect(out.fullStream).toBeInstanceOf(ReadableStream);
    const events = await collect(out.fullStream);
    expect(events.map((e) => e.type)).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-finish',
    ]);
    expectEnvelopes(events, run.runId);
    expect(events.every((e) => e.from === 'WORKFLOW')).toBe(true);
    expect(new Set(events.map((e) => e.seq)).size).toBe(6);
    expect(events[1]!.payload).toMatchObject({ id: 'inc', stepName: 'inc', payload: { n: 1 }, status: 'running' });
    expect(typeof events[1]!.payload.startedAt).toBe('number');
    expect(events[2]!.payload).toMatchObject({ id: 'inc', status: 'success', output: { n: 2 } });
    expect(typeof events[2]!.payload.endedAt).toBe('number');
    expect(events[5]!.payload).toMatchObject({
      workflowStatus: 'success',
      metadata: {},
      output: { usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } },
      finalWorkflowResult: { n: 4 },
    });
    const result = await out.result;
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 4 });
    expect(out.status).toBe('success');
  });

  it('E1: result settles without the stream being read', async () => {
    const wf = createWorkflow({ id: 'unread', inputSchema: n, outputSchema: n }).then(inc).commit();
    engine({ wf });
    const run = await wf.createRun();
    const r = await run.stream({ inputData: { n: 1 } }).result;
    expect(r.result).toEqual({ n: 2 });
  });

  it('E1: result rejects when the start is refused (invalid input); the stream ends with a failed workflow-finish', async () => {
    const wf = createWorkflow({ id: 'badIn', inputSchema: n, outputSchema: n }).then(inc).commit();
    engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 'x' } as never });
    const events = await collect(out.fullStream);
    await expect(out.result).rejects.toSatisfy((e: unknown) => WeftError.is(e, 'INVALID_INPUT'));
    expect(events.map((e) => e.type)).toEqual(['workflow-start', 'workflow-finish']);
    expect(events[1]!.payload.workflowStatus).toBe('failed');
    expect(events[1]!.payload.metadata.errorMessage).toMatch(/Invalid input data/);
    expectEnvelopes(events, run.runId);
  });

  it('E2: workflow-step-finish never reaches fullStream', async () => {
    const wf = createWorkflow({ id: 'nofinish', inputSchema: n, outputSchema: n }).then(inc).commit();
    engine({ wf });
    const events = await collect((await wf.createRun()).stream({ inputData: { n: 1 } }).fullStream);
    expect(events.some((e) => (e.type as string) === 'workflow-step-finish')).toBe(false);
  });

  it('E3/E7/E10: exact events of a→b(suspends)→c, then resumeStream streams the rest', async () => {
    const wf = threeSteps();
    engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 1 } });
    const events = await collect(out.fullStream);
    expect(events.map((e) => [e.type, e.payload?.id ?? e.payload?.stepName])).toEqual([
      ['workflow-start', undefined],
      ['workflow-step-start', 'a'],
      ['workflow-step-output', 'a'],
      ['workflow-step-result', 'a'],
      ['workflow-step-start', 'b'],
      ['workflow-step-suspended', 'b'],
      ['workflow-finish', undefined],
    ]);
    expectEnvelopes(events, run.runId);
    expect(events[0]!.payload).toEqual({ workflowId: 'wfs' });
    expect(events[2]).toMatchObject({
      from: 'USER',
      payload: { stepName: 'a', output: { type: 'custom-progress', pct: 50 }, runId: run.runId },
    });
    expect(events[4]!.payload).toMatchObject({ payload: { n: 2 }, status: 'running' });
    expect(events[5]!.payload).toMatchObject({ status: 'suspended', suspendPayload: { reason: 'need add' } });
    expect(typeof events[5]!.payload.suspendedAt).toBe('number');
    expect(events[6]!.payload).toMatchObject({ workflowStatus: 'suspended', metadata: {} });
    const suspended = await out.result;
    expect(suspended.status).toBe('suspended');
    expect(out.status).toBe('suspended');

    const resumed = run.resumeStream({ step: 'b', resumeData: { add: 5 } });
    expect(resumed.runId).toBe(run.runId);
    const rest = await collect(resumed.fullStream);
    expect(rest.map((e) => [e.type, e.payload?.id])).toEqual([
      ['workflow-start', undefined],
      ['workflow-step-start', 'b'],
      ['data-resumed', undefined],
      ['workflow-step-result', 'b'],
      ['workflow-step-start', 'c'],
      ['workflow-step-result', 'c'],
      ['workflow-finish', undefined],
    ]);
    expectEnvelopes(rest, run.runId);
    expect(rest[0]!.seq).toBeGreaterThan(events[6]!.seq);
    expect(rest[1]!.payload).toMatchObject({
      payload: { n: 2 },
      startedAt: events[4]!.payload.startedAt,
      resumePayload: { add: 5 },
    });
    expect(typeof rest[1]!.payload.resumedAt).toBe('number');
    expect(rest[2]).toMatchObject({ type: 'data-resumed', data: { add: 5 }, from: 'WORKFLOW' });
    expect(rest[3]!.payload).toMatchObject({ status: 'success', output: { n: 7 } });
    expect(rest[4]!.payload).toMatchObject({ payload: { n: 7 } });
    expect(rest[6]!.payload).toMatchObject({ workflowStatus: 'success', finalWorkflowResult: { out: 'n=7' } });
    expect((await resumed.result).result).toEqual({ out: 'n=7' });
  });

  it('step result and suspended events repeat the step payload and startedAt (and resume fields), live and replayed alike', async () => {
    const wf = threeSteps();
    engine({ wf });
    const run = await wf.createRun();
    const events = await collect(run.stream({ inputData: { n: 1 } }).fullStream);
    const start = (id: string, from: WorkflowEvent[]) =>
      from.find((e) => e.type === 'workflow-step-start' && e.payload.id === id)!;
    const resultA = events.find((e) => e.type === 'workflow-step-result')!;
    expect(resultA.payload).toMatchObject({
      stepName: 'a',
      payload: { n: 1 },
      startedAt: start('a', events).payload.startedAt,
      status: 'success',
    });
    const suspendedB = events.find((e) => e.type === 'workflow-step-suspended')!;
    expect(suspendedB.payload).toMatchObject({
      stepName: 'b',
      payload: { n: 2 },
      startedAt: start('b', events).payload.startedAt,
    });
    const rest = await collect(run.resumeStream({ resumeData: { add: 5 } }).fullStream);
    const resultB = rest.find((e) => e.type === 'workflow-step-result' && e.payload.id === 'b')!;
    expect(resultB.payload).toMatchObject({ payload: { n: 2 }, resumePayload: { add: 5 }, output: { n: 7 } });
    expect(resultB.payload.resumedAt).toBe(start('b', rest).payload.resumedAt);
    // A reconnect from a seq after the steps' starts still gets these fields.
    expect(await collect(run.observeStream({ fromSeq: resultA.seq - 1 }))).toEqual([
      ...events.filter((e) => e.seq >= resultA.seq),
      ...rest,
    ]);
  });

  it('E4: with closeOnSuspend false the same stream carries the resume events and ends once with workflow-finish; result is the final one', async () => {
    const wf = threeSteps();
    engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 1 }, closeOnSuspend: false });
    const reading = collect(out.fullStream);
    const resumed = await run.resume({ resumeData: { add: 5 } });
    expect(resumed.status).toBe('success');
    const events = await reading;
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'workflow-finish')).toHaveLength(1);
    expect(types.at(-1)).toBe('workflow-finish');
    expect(events.at(-1)!.payload.workflowStatus).toBe('success');
    expect(types).toContain('workflow-step-suspended');
    expect(events.filter((e) => e.type === 'workflow-step-result').map((e) => e.payload.id)).toEqual(['a', 'b', 'c']);
    expectEnvelopes(events, run.runId);
    const result = await out.result;
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ out: 'n=7' });
  });

  it('E5: a sleep emits workflow-step-waiting then a step result passing its input through', async () => {
    const wf = createWorkflow({ id: 'sleepy', inputSchema: n, outputSchema: n }).then(inc).sleep(20).then(dbl).commit();
    engine({ wf });
    const events = await collect((await wf.createRun()).stream({ inputData: { n: 1 } }).fullStream);
    const waiting = events.find((e) => e.type === 'workflow-step-waiting')!;
    expect(waiting.payload).toMatchObject({ status: 'waiting', payload: { n: 2 } });
    const sleepId = waiting.payload.id as string;
    expect(events.some((e) => e.type === 'workflow-step-start' && e.payload.id === sleepId)).toBe(false);
    const result = events.find((e) => e.type === 'workflow-step-result' && e.payload.id === sleepId)!;
    expect(result.payload).toMatchObject({ status: 'success', output: { n: 2 } });
    expect(events.at(-1)!.payload.finalWorkflowResult).toEqual({ n: 4 });
  });

  it('E6: perStep streaming: start, step-start, step-result, workflow-paused, then workflow-finish paused', async () => {
    const wf = createWorkflow({ id: 'perstep', inputSchema: n, outputSchema: n }).then(inc).then(dbl).commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({ inputData: { n: 1 }, perStep: true });
    const events = await collect(out.fullStream);
    expect(events.map((e) => e.type)).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-paused',
      'workflow-finish',
    ]);
    expect(events[3]!.payload).toEqual({});
    expect(events[4]!.payload.workflowStatus).toBe('paused');
    expect((await out.result).status).toBe('paused');
  });

  it('E7: writer.write gives workflow-step-output and writer.custom a top-level data-* event', async () => {
    const talk = createStep({
      id: 'talk',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async ({ writer }) => {
        await writer.write('plain text');
        await writer.custom({ type: 'data-progress', data: { pct: 10 } });
        return {};
      },
    });
    const wf = createWorkflow({ id: 'talker', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(talk)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const events = await collect(run.stream({ inputData: {} }).fullStream);
    const output = events.find((e) => e.type === 'workflow-step-output')!;
    expect(output).toMatchObject({ from: 'USER', payload: { stepName: 'talk', output: 'plain text' } });
    const custom = events.find((e) => e.type === 'data-progress')!;
    expect(custom).toMatchObject({ type: 'data-progress', runId: run.runId, from: 'WORKFLOW', data: { pct: 10 } });
    expect(typeof custom.seq).toBe('number');
  });

  it('E9: foreach emits one workflow-step-progress per item, the last with completedCount = totalCount', async () => {
    const item = createStep({
      id: 'item',
      inputSchema: n,
      outputSchema: n,
      execute: async ({ inputData }) => ({ n: inputData.n * 10 }),
    });
    const wf = createWorkflow({ id: 'fe', inputSchema: z.array(n), outputSchema: z.array(n) })
      .foreach(item, { concurrency: 2 })
      .commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    const events = await collect(out.fullStream);
    const progress = events.filter((e) => e.type === 'workflow-step-progress');
    expect(progress).toHaveLength(3);
    expect(progress.map((e) => e.payload.completedCount)).toEqual([1, 2, 3]);
    expect(
      progress.every(
        (e) => e.payload.totalCount === 3 && e.payload.iterationStatus === 'success' && e.payload.id === 'item',
      ),
    ).toBe(true);
    expect(progress.map((e) => e.payload.currentIndex).sort()).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.type === 'workflow-step-start')).toHaveLength(1);
    expect((await out.result).result).toEqual([{ n: 10 }, { n: 20 }, { n: 30 }]);
  });

  it('E9: a failing foreach item gives a progress event with iterationStatus failed', async () => {
    const item = createStep({
      id: 'item',
      inputSchema: n,
      outputSchema: n,
      execute: async ({ inputData }) => {
        if (inputData.n === 2) throw new Error('bad item');
        return inputData;
      },
    });
    const wf = createWorkflow({ id: 'feFail', inputSchema: z.array(n), outputSchema: z.array(n) })
      .foreach(item)
      .commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    const progress = (await collect(out.fullStream)).filter((e) => e.type === 'workflow-step-progress');
    expect(progress.map((e) => e.payload.iterationStatus)).toEqual(['success', 'failed']);
    expect((await out.result).status).toBe('failed');
  });

  it('E10: resumeStream naming a step that is not suspended makes result reject with "was not suspended"', async () => {
    const wf = threeSteps();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const out = run.resumeStream({ step: 'a', resumeData: { add: 1 } });
    const events = await collect(out.fullStream);
    await expect(out.result).rejects.toThrow(
      'This workflow step "a" was not suspended. Available suspended steps: [b]',
    );
    expect(events.at(-1)!.type).toBe('workflow-finish');
  });

  it('E11: a failing step in a stream gives result.status failed with the message and custom fields', async () => {
    class HttpError extends Error {
      constructor(
        message: string,
        readonly statusCode: number,
        readonly responseHeaders: Record<string, string>,
      ) {
        super(message);
        this.name = 'HttpError';
      }
    }
    const boom = createStep({
      id: 'boom',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async () => {
        throw new HttpError('kaboom', 503, { 'retry-after': '1' });
      },
    });
    const wf = createWorkflow({ id: 'failing', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(boom)
      .commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({ inputData: {} });
    const events = await collect(out.fullStream);
    const r = await out.result;
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({
      name: 'HttpError',
      message: 'kaboom',
      statusCode: 503,
      responseHeaders: { 'retry-after': '1' },
    });
    expect(events.find((e) => e.type === 'workflow-step-result')!.payload).toMatchObject({
      status: 'failed',
      error: { message: 'kaboom' },
    });
    expect(events.at(-1)!.payload).toMatchObject({ workflowStatus: 'failed' });
    expect(out.status).toBe('failed');
  });

  it('E13: stream() again on a live run returns the same output and does not start a second execution', async () => {
    let calls = 0;
    const slow = createStep({
      id: 'slow',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 30));
        return {};
      },
    });
    const wf = createWorkflow({ id: 'again', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(slow)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const one = run.stream({ inputData: {} });
    const two = run.stream({ inputData: {} });
    expect(two).toBe(one);
    expect((await one.result).status).toBe('success');
    expect(calls).toBe(1);
  });

  it('E13: two concurrent resumeStream() calls each close their own stream with a workflow-finish; one wins', async () => {
    const wf = threeSteps();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const one = run.resumeStream({ resumeData: { add: 1 } });
    const two = run.resumeStream({ resumeData: { add: 2 } });
    const [e1, e2] = await Promise.all([collect(one.fullStream), collect(two.fullStream)]);
    expect(e1.at(-1)!.type).toBe('workflow-finish');
    expect(e2.at(-1)!.type).toBe('workflow-finish');
    // The loser shows none of the winner's events: its stream is its own refused start and finish.
    const loser = e1.at(-1)!.payload.workflowStatus === 'failed' ? e1 : e2;
    expect(loser.map((e) => e.type)).toEqual(['workflow-start', 'workflow-finish']);
    expect(loser[1]!.payload.metadata.errorMessage).toMatch(/claimed it first/);
    const settled = await Promise.allSettled([one.result, two.result]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const lost = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')!;
    expect(WeftError.is(lost.reason, 'RUN_ALREADY_CLAIMED')).toBe(true);
  });

  it('a second stream() of a finished run is refused: result rejects with RUN_ALREADY_CLAIMED and the stream shows none of the old events', async () => {
    const wf = createWorkflow({ id: 'twice', inputSchema: n, outputSchema: n }).then(inc).commit();
    engine({ wf });
    const run = await wf.createRun();
    await run.stream({ inputData: { n: 1 } }).result;
    const again = run.stream({ inputData: { n: 1 } });
    const events = await collect(again.fullStream);
    await expect(again.result).rejects.toSatisfy((e: unknown) => WeftError.is(e, 'RUN_ALREADY_CLAIMED'));
    expect(events.map((e) => e.type)).toEqual(['workflow-start', 'workflow-finish']);
    expect(events[1]!.payload.workflowStatus).toBe('failed');
  });

  it('E15: initialState with includeState gives the whole state, keys a step schema does not name included', async () => {
    const s = createStep({
      id: 's',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      stateSchema: z.object({ count: z.number() }),
      execute: async ({ state, setState }) => {
        await setState({ count: state.count + 1 });
        return {};
      },
    });
    const wf = createWorkflow({
      id: 'fullState',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      stateSchema: z.object({ count: z.number(), other: z.string() }),
    })
      .then(s)
      .commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({
      inputData: {},
      initialState: { count: 1, other: 'kept' },
      outputOptions: { includeState: true },
    });
    expect((await out.result).state).toEqual({ count: 2, other: 'kept' });
  });
});

describe('event log', () => {
  it('replays stored events from a seq: a consumer that dropped out and reconnects gets every later event exactly once', async () => {
    const wf = threeSteps();
    const weft = engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 1 } });
    const reader = out.fullStream.getReader();
    const firstThree: WorkflowEvent[] = [];
    for (let i = 0; i < 3; i++) firstThree.push((await reader.read()).value!);
    await reader.cancel(); // the consumer drops out
    await out.result;
    const all = await collect(run.observeStream({ fromSeq: 0 }));
    const later = await collect(run.observeStream({ fromSeq: firstThree.at(-1)!.seq }));
    expect([...firstThree, ...later]).toEqual(all);
    expect(new Set(later.map((e) => e.seq)).size).toBe(later.length);
    expect(all.at(-1)!.type).toBe('workflow-finish');

    // And across the resume: a reconnect carries on past the suspension into the resumed events.
    const resumed = run.resumeStream({ resumeData: { add: 1 } });
    const live = await collect(resumed.fullStream);
    const fromWeft = await collect(weft.observeRun(run.runId, { afterSeq: all.at(-1)!.seq }));
    expect(fromWeft).toEqual(live);
  });

  it('a stream observed while the run is live gets every event once and ends with workflow-finish, like stream() itself', async () => {
    const gate = { open: (): void => undefined };
    const opened = new Promise<void>((r) => (gate.open = r));
    const wait = createStep({
      id: 'wait',
      inputSchema: n,
      outputSchema: n,
      execute: async ({ inputData }) => {
        await opened;
        return inputData;
      },
    });
    const wf = createWorkflow({ id: 'twoStreams', inputSchema: n, outputSchema: n })
      .then(inc)
      .then(wait)
      .then(dbl)
      .commit();
    engine({ wf });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { n: 1 } });
    const main = collect(out.fullStream);
    await new Promise((r) => setTimeout(r, 10));
    const observers = [collect(run.observeStream()), collect(run.observeStream())];
    gate.open();
    const [a, b, c] = await Promise.all([main, ...observers]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    for (const events of [a!, b!, c!]) expect(events.filter((e) => e.type === 'workflow-finish')).toHaveLength(1);
  });

  it('run.watch(cb) gets the step events of the run, each result followed by a step finish, until unwatched', async () => {
    const wf = createWorkflow({ id: 'watched', inputSchema: n, outputSchema: n }).then(inc).then(dbl).commit();
    engine({ wf });
    const run = await wf.createRun();
    const seen: WatchEvent[] = [];
    const unwatch = run.watch((e) => seen.push(e));
    await run.start({ inputData: { n: 1 } });
    unwatch();
    expect(seen.map((e) => e.type)).toEqual([
      'workflow-step-start',
      'workflow-step-result',
      'workflow-step-finish',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-step-finish',
    ]);
    expect(seen[2]!.payload).toEqual({ id: 'inc', stepCallId: seen[1]!.payload.stepCallId, metadata: {} });
    const run2 = await wf.createRun();
    await run2.start({ inputData: { n: 1 } });
    expect(seen).toHaveLength(6);
  });

  it('a slow consumer does not slow the run', async () => {
    const many = createStep({
      id: 'many',
      inputSchema: z.object({}),
      outputSchema: z.object({}),
      execute: async ({ writer }) => {
        for (let i = 0; i < 200; i++) await writer.write({ i });
        return {};
      },
    });
    const wf = createWorkflow({ id: 'slowReader', inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(many)
      .commit();
    engine({ wf });
    const out = (await wf.createRun()).stream({ inputData: {} });
    const reader = out.fullStream.getReader();
    await reader.read(); // reads one event, then stalls
    const t0 = Date.now();
    const r = await Promise.race([
      out.result,
      new Promise((_r, reject) => setTimeout(() => reject(new Error('run waited for the reader')), 2000)),
    ]);
    expect((r as { status: string }).status).toBe('success');
    expect(Date.now() - t0).toBeLessThan(2000);
    let count = 1;
    while (!(await reader.read()).done) count++;
    expect(count).toBe(200 + 4);
  });
  it('stores at most maxOutputEntries writer events per run, across its start and its resumes', async () => {
    const chatty = createStep({
      id: 'chatty',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: z.object({ n: z.number() }),
      resumeSchema: z.object({ ok: z.boolean() }),
      execute: async ({ inputData, resumeData, suspend, writer }) => {
        await writer.write({ note: 'one' });
        await writer.custom({ type: 'data-note', data: 'two' });
        if (!resumeData) return suspend({}) as never;
        return inputData;
      },
    });
    const wf = createWorkflow({
      id: 'chatty-wf',
      inputSchema: z.object({ n: z.number() }),
      outputSchema: z.object({ n: z.number() }),
    })
      .then(chatty)
      .commit();
    const storage = new MemoryStorage();
    const weft = new Weft({ workflows: { wf }, storage, maxOutputEntries: 3 });
    const run = await wf.createRun();
    const live: string[] = [];
    const stop = weft.subscribe(run.runId, (e) => {
      if (e.type === 'workflow-step-output' || e.type === 'data-note') live.push(e.type);
    });
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
    expect((await run.resume({ resumeData: { ok: true } })).status).toBe('success');
    stop();
    expect(live).toHaveLength(4); // listeners get every event
    const stored = (await storage.readJournal(run.runId)).filter(
      (e) => e.type === 'step-output' || e.type === 'custom',
    );
    expect(stored).toHaveLength(3);
    await weft.close();
  });
});
