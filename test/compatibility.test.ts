// Behaviours where Weft once differed from the reference (issue 12, points 1-8), on every store.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, WeftError, createStep, createWorkflow } from '../src/index.js';
import type { WorkflowEvent } from '../src/index.js';
import { storeCases } from './support/stores.js';
import { until } from './support/wait.js';

const num = z.object({ n: z.number() });
const any = z.any();

const engines: Weft[] = [];
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
});

async function readAll(stream: ReadableStream<WorkflowEvent>): Promise<WorkflowEvent[]> {
  const events: WorkflowEvent[] = [];
  for await (const e of stream as unknown as AsyncIterable<WorkflowEvent>) events.push(e);
  return events;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const store of await storeCases()) {
  describe(`on ${store.name}`, () => {
    async function engine(workflows: Record<string, unknown>): Promise<Weft> {
      const weft = new Weft({ workflows: workflows as never, storage: store.open(), recovery: false });
      engines.push(weft);
      await weft.init();
      return weft;
    }

    describe('state updates (point 1)', () => {
      const keyed = (id: string) =>
        createStep({
          id,
          inputSchema: any,
          outputSchema: any,
          execute: async ({ setState }) => {
            await setState({ [`k_${id}`]: 1 });
            return {};
          },
        });

      it('keeps every key set by parallel branches that end in the same tick, in the result, the events and storage', async () => {
        const wf = createWorkflow({ id: 'par-state', inputSchema: any, outputSchema: any })
          .parallel([keyed('a'), keyed('b'), keyed('c')])
          .commit();
        await engine({ wf });
        const run = await wf.createRun();
        const out = run.stream({ inputData: {}, initialState: {}, outputOptions: { includeState: true } });
        await readAll(out.fullStream);
        const result = await out.result;
        expect(result.status).toBe('success');
        expect(result.state).toEqual({ k_a: 1, k_b: 1, k_c: 1 });
        expect((await wf.getWorkflowRunById(run.runId))?.state).toEqual({ k_a: 1, k_b: 1, k_c: 1 });
      });

      it('applies read-modify-write updates of concurrent steps on the current state, not a stale copy', async () => {
        const bump = (id: string, ms: number) =>
          createStep({
            id,
            inputSchema: any,
            outputSchema: any,
            execute: async ({ state, setState }) => {
              await delay(ms);
              await setState({ k: state.k + 1 });
              return {};
            },
          });
        const wf = createWorkflow({ id: 'par-bump', inputSchema: any, outputSchema: any })
          .parallel([bump('a', 5), bump('b', 30), bump('c', 60)])
          .commit();
        await engine({ wf });
        const run = await wf.createRun();
        const r = await run.start({ inputData: {}, initialState: { k: 4161 }, outputOptions: { includeState: true } });
        expect(r.state).toEqual({ k: 4164 });
      });

      it('merges the updates of foreach items that run together', async () => {
        const item = createStep({
          id: 'item',
          inputSchema: num,
          outputSchema: any,
          execute: async ({ inputData, setState }) => {
            await setState({ [`k${inputData.n}`]: inputData.n });
            return inputData;
          },
        });
        const wf = createWorkflow({ id: 'each-state', inputSchema: any, outputSchema: any })
          .foreach(item, { concurrency: 4 })
          .commit();
        await engine({ wf });
        const r = await (
          await wf.createRun()
        ).start({
          inputData: [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
          initialState: {},
          outputOptions: { includeState: true },
        });
        expect(r.state).toEqual({ k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6 });
      });
    });

    describe('inputs of resumed and time-travelled steps (point 2)', () => {
      function gated(seen: unknown[]) {
        const b = createStep({
          id: 'b',
          inputSchema: num,
          outputSchema: any,
          resumeSchema: z.object({ ok: z.boolean() }),
          execute: async ({ inputData, resumeData, suspend }) => {
            seen.push(inputData);
            if (!resumeData) return suspend({});
            return inputData;
          },
        });
        return createWorkflow({ id: 'gated', inputSchema: any, outputSchema: any })
          .map(async () => ({ n: 1, x: 8 }))
          .then(b)
          .commit();
      }

      it('parses a resumed step input with its schema, as on its first execution', async () => {
        const seen: unknown[] = [];
        const wf = gated(seen);
        await engine({ wf });
        const run = await wf.createRun();
        await run.start({ inputData: {} });
        const r = await run.resume({ step: 'b', resumeData: { ok: true } });
        expect(seen).toEqual([{ n: 1 }, { n: 1 }]);
        expect(r.result).toEqual({ n: 1 });
        expect(r.steps.b.payload).toEqual({ n: 1 });
      });

      it('parses a time-travelled step input with its schema', async () => {
        const seen: unknown[] = [];
        const wf = gated(seen);
        await engine({ wf });
        const run = await wf.createRun();
        await run.start({ inputData: {} });
        await run.timeTravel({ step: 'b', resumeData: { ok: true } });
        expect(seen).toEqual([{ n: 1 }, { n: 1 }]);
      });
    });

    describe('time travel into a parallel block (point 3)', () => {
      function counted(counts: Record<string, number>) {
        const step = (id: string) =>
          createStep({
            id,
            inputSchema: any,
            outputSchema: any,
            execute: async () => {
              counts[id] = (counts[id] ?? 0) + 1;
              return { by: id, time: counts[id] };
            },
          });
        return createWorkflow({ id: 'tt-par', inputSchema: any, outputSchema: any })
          .then(step('a'))
          .parallel([step('p1'), step('p2'), step('p3')])
          .then(step('c'))
          .commit();
      }

      it.each(['p1', 'p2', 'p3'])('re-runs only %s and what follows the block', async (target) => {
        const counts: Record<string, number> = {};
        const wf = counted(counts);
        await engine({ wf });
        const run = await wf.createRun();
        await run.start({ inputData: {} });
        const r = await run.timeTravel({ step: target });
        expect(r.status).toBe('success');
        const expected: Record<string, number> = { a: 1, p1: 1, p2: 1, p3: 1, c: 2 };
        expected[target] = 2;
        expect(counts).toEqual(expected);
        expect(r.steps[target]?.output).toEqual({ by: target, time: 2 });
        for (const sibling of ['p1', 'p2', 'p3'].filter((s) => s !== target)) {
          expect(r.steps[sibling]).toMatchObject({ status: 'success', output: { by: sibling, time: 1 } });
        }
        expect(r.steps.c?.payload).toMatchObject({ [target]: { time: 2 } });
      });
    });

    describe('time travel of an active run (point 4)', () => {
      it('rejects at once while a step of the run is executing, and while it sleeps', async () => {
        let release!: () => void;
        const blocked = new Promise<void>((resolve) => (release = resolve));
        const started: string[] = [];
        const block = createStep({
          id: 'block',
          inputSchema: any,
          outputSchema: any,
          execute: async () => {
            started.push('block');
            await blocked;
            return {};
          },
        });
        const wf = createWorkflow({ id: 'tt-busy', inputSchema: any, outputSchema: any })
          .then(block)
          .sleep(60_000, { id: 'nap' })
          .commit();
        await engine({ wf });
        const run = await wf.createRun();
        const running = run.start({ inputData: {} });
        await expect.poll(() => started.length).toBe(1);
        const refused = await run.timeTravel({ step: 'block' }).catch((e: unknown) => e);
        expect(WeftError.is(refused, 'RUN_STILL_RUNNING')).toBe(true);
        expect((refused as Error).message).toContain('This workflow run is still running, cannot time travel');
        release();
        await expect.poll(async () => (await wf.getWorkflowRunById(run.runId))?.status).toBe('waiting');
        await expect(run.timeTravel({ step: 'block' })).rejects.toThrow(/still running/);
        await run.cancel();
        expect((await running).status).toBe('canceled');
      });
    });

    describe('bail (point 5)', () => {
      const bailing = createStep({
        id: 'stop',
        inputSchema: any,
        outputSchema: any,
        execute: async ({ bail }) => bail({ stopped: true }),
      });
      const after = createStep({ id: 'after', inputSchema: any, outputSchema: any, execute: async () => ({}) });

      it('leaves a step that ended the run with bail "success", with bailed beside it, in results, storage and events', async () => {
        const wf = createWorkflow({ id: 'bail-top', inputSchema: any, outputSchema: any })
          .then(bailing)
          .then(after)
          .commit();
        await engine({ wf });
        const run = await wf.createRun();
        const out = run.stream({ inputData: {} });
        const events = await readAll(out.fullStream);
        const r = await out.result;
        expect(r.status).toBe('success');
        expect(r.result).toEqual({ stopped: true });
        expect(r.steps.stop).toMatchObject({ status: 'success', bailed: true, output: { stopped: true } });
        expect(r.steps.after).toBeUndefined();
        const view = await wf.getWorkflowRunById(run.runId);
        expect(view?.steps.stop).toMatchObject({ status: 'success', output: { stopped: true } });
        const result = events.find((e) => e.type === 'workflow-step-result' && e.payload?.id === 'stop');
        expect(result?.payload?.status).toBe('bailed');
      });

      it('ends only its branch inside a parallel block: the block goes on with the bail value', async () => {
        const other = createStep({ id: 'other', inputSchema: any, outputSchema: any, execute: async () => ({ o: 1 }) });
        const wf = createWorkflow({ id: 'bail-par', inputSchema: any, outputSchema: any })
          .parallel([bailing, other])
          .then(after)
          .commit();
        await engine({ wf });
        const r = await (await wf.createRun()).start({ inputData: {} });
        expect(r.status).toBe('success');
        expect(r.steps.stop?.status).toBe('bailed');
        expect(r.steps.after).toMatchObject({
          status: 'success',
          payload: { stop: { stopped: true }, other: { o: 1 } },
        });
      });

      it('ends a workflow whose last block has a bailed branch with the branches that succeeded', async () => {
        const other = createStep({ id: 'other', inputSchema: any, outputSchema: any, execute: async () => ({ o: 1 }) });
        const inner = createWorkflow({ id: 'inner', inputSchema: any, outputSchema: any })
          .parallel([bailing, other])
          .commit();
        const wf = createWorkflow({ id: 'bail-last', inputSchema: any, outputSchema: any })
          .then(inner)
          .parallel([bailing, other])
          .commit();
        await engine({ wf });
        const r = await (await wf.createRun()).start({ inputData: {} });
        expect(r.steps.inner?.output).toEqual({ other: { o: 1 } });
        expect(r.result).toEqual({ other: { o: 1 } });
      });

      it('gives getStepResult nothing for a branch that bailed, as for any step that did not succeed', async () => {
        const other = createStep({ id: 'other', inputSchema: any, outputSchema: any, execute: async () => ({ o: 1 }) });
        const reads = createStep({
          id: 'reads',
          inputSchema: any,
          outputSchema: any,
          execute: async ({ getStepResult }) => ({
            stop: getStepResult('stop') ?? null,
            other: getStepResult('other'),
          }),
        });
        const wf = createWorkflow({ id: 'bail-read', inputSchema: any, outputSchema: any })
          .parallel([bailing, other])
          .then(reads)
          .commit();
        await engine({ wf });
        const r = await (await wf.createRun()).start({ inputData: {} });
        expect(r.result).toEqual({ stop: null, other: { o: 1 } });
      });
    });

    describe('loop iteration metadata (point 7)', () => {
      it('marks failed, bailed and suspended iterations and nested workflow bodies with their iterationCount', async () => {
        const flaky = createStep({
          id: 'flaky',
          inputSchema: num,
          outputSchema: num,
          execute: async ({ inputData }) => {
            if (inputData.n === 2) throw new Error('second iteration fails');
            return { n: inputData.n + 1 };
          },
        });
        const failing = createWorkflow({ id: 'loop-fail', inputSchema: num, outputSchema: num })
          .dountil(flaky, async () => false)
          .commit();
        const waits = createStep({
          id: 'waits',
          inputSchema: num,
          outputSchema: num,
          resumeSchema: z.object({ go: z.boolean() }),
          execute: async ({ inputData, resumeData, suspend }) =>
            inputData.n < 2 || resumeData ? { n: inputData.n + 1 } : (suspend({ at: inputData.n }) as never),
        });
        const suspending = createWorkflow({ id: 'loop-suspend', inputSchema: num, outputSchema: num })
          .dowhile(waits, async ({ iterationCount }) => iterationCount < 3)
          .commit();
        const stops = createStep({
          id: 'stops',
          inputSchema: num,
          outputSchema: num,
          execute: async ({ inputData, bail }) =>
            inputData.n === 3 ? (bail({ n: -1 }) as never) : { n: inputData.n + 1 },
        });
        const body = createWorkflow({ id: 'body', inputSchema: num, outputSchema: num }).then(stops).commit();
        const nested = createWorkflow({ id: 'loop-nested', inputSchema: num, outputSchema: num })
          .dountil(body, async ({ inputData }) => inputData.n < 0)
          .commit();
        const bailing = createWorkflow({ id: 'loop-bail', inputSchema: num, outputSchema: num })
          .dowhile(stops, async () => true)
          .commit();
        await engine({ failing, suspending, nested, bailing });

        const failed = await (await failing.createRun()).start({ inputData: { n: 1 } });
        expect(failed.status).toBe('failed');
        expect(failed.steps.flaky).toMatchObject({ status: 'failed', metadata: { iterationCount: 2 } });

        const run = await suspending.createRun();
        const out = run.stream({ inputData: { n: 1 } });
        const events = await readAll(out.fullStream);
        const suspended = await out.result;
        expect(suspended.steps.waits).toMatchObject({ status: 'suspended', metadata: { iterationCount: 2 } });
        const event = events.find((e) => e.type === 'workflow-step-suspended');
        expect(event?.payload?.metadata).toEqual({ iterationCount: 2 });
        const resumed = await run.resume({ resumeData: { go: true } });
        expect(resumed.steps.waits).toMatchObject({ status: 'suspended', metadata: { iterationCount: 3 } });

        const r = await (await nested.createRun()).start({ inputData: { n: 1 } });
        expect(r.status).toBe('success');
        expect(r.result).toEqual({ n: -1 });
        expect(r.steps.body).toMatchObject({ status: 'success', metadata: { iterationCount: 3 } });

        const bailed = await (await bailing.createRun()).start({ inputData: { n: 1 } });
        expect(bailed.result).toEqual({ n: -1 });
        expect(bailed.steps.stops).toMatchObject({ status: 'success', bailed: true, metadata: { iterationCount: 3 } });
      });
    });

    describe('stream kept open across a suspension (point 8)', () => {
      it('resolves its result with the run final stored outcome after a resume in the same process', async () => {
        const gate = createStep({
          id: 'gate',
          inputSchema: num,
          outputSchema: num,
          resumeSchema: z.object({ add: z.number() }),
          execute: async ({ inputData, resumeData, suspend }) =>
            resumeData ? { n: inputData.n + resumeData.add } : (suspend({}) as never),
        });
        const wf = createWorkflow({ id: 'open-stream', inputSchema: num, outputSchema: num }).then(gate).commit();
        await engine({ wf });
        const run = await wf.createRun();
        const out = run.stream({ inputData: { n: 1 }, closeOnSuspend: false });
        const reading = readAll(out.fullStream);
        await expect.poll(async () => (await wf.getWorkflowRunById(run.runId))?.status).toBe('suspended');
        await run.resume({ resumeData: { add: 2 } });
        const events = await reading;
        expect(events.at(-1)?.type).toBe('workflow-finish');
        const result = await out.result;
        expect(result.status).toBe('success');
        expect(result.result).toEqual({ n: 3 });
      });
    });
  });
}

describe('inputs of restarted steps (point 2)', () => {
  it('parses the input of a step run again after its owner stopped, as on its first execution', async () => {
    const storage = new MemoryStorage();
    const seen: unknown[] = [];
    let hang = true;
    const build = () =>
      createWorkflow({ id: 'restarted', inputSchema: any, outputSchema: any })
        .map(async () => ({ n: 1, x: 8 }))
        .then(
          createStep({
            id: 'b',
            inputSchema: num,
            outputSchema: any,
            execute: async ({ inputData }) => {
              seen.push(inputData);
              if (hang) await new Promise(() => undefined); // its owner froze here
              return inputData;
            },
          }),
        )
        .commit();
    const wfA = build();
    // The first instance stands for a process that froze inside `b`: it never renews its lease.
    const first = new Weft({ workflows: { wfA }, storage, recovery: false, ownershipCheckMs: 3_600_000 });
    engines.push(first);
    const runA = await wfA.createRun();
    void runA.start({ inputData: {} }).catch(() => undefined);
    await until(() => seen.length === 1);
    hang = false;
    const wfB = build();
    const second = new Weft({ workflows: { wfB }, storage, recovery: false });
    engines.push(second);
    const r = await (await wfB.createRun({ runId: runA.runId })).restart();
    expect(r.status).toBe('success');
    expect(seen).toEqual([{ n: 1 }, { n: 1 }]);
    expect(r.result).toEqual({ n: 1 });
  });
});

describe('retries of nested workflows', () => {
  it("tries a nested workflow that failed again, from its start, as often as its parent's retryConfig says", async () => {
    const calls: string[] = [];
    const first = createStep({
      id: 'first',
      inputSchema: any,
      outputSchema: any,
      execute: async () => {
        calls.push('first');
        return { ok: true };
      },
    });
    const flaky = createStep({
      id: 'flaky',
      inputSchema: any,
      outputSchema: any,
      execute: async () => {
        calls.push('flaky');
        if (calls.filter((c) => c === 'flaky').length === 1) throw new Error('first time fails');
        return { done: true };
      },
    });
    const inner = createWorkflow({ id: 'inner', inputSchema: any, outputSchema: any }).then(first).then(flaky).commit();
    const wf = createWorkflow({ id: 'outer', inputSchema: any, outputSchema: any, retryConfig: { attempts: 1 } })
      .then(inner)
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage(), recovery: false });
    engines.push(weft);
    const run = await wf.createRun();
    const out = run.stream({ inputData: {} });
    const events = await readAll(out.fullStream);
    const r = await out.result;
    expect(r.status).toBe('success');
    expect(r.result).toEqual({ done: true });
    expect(calls).toEqual(['first', 'flaky', 'first', 'flaky']);
    const starts = events.filter((e) => e.type === 'workflow-step-start').map((e) => e.payload?.id);
    expect(starts).toEqual(['inner', 'inner.first', 'inner.flaky', 'inner.first', 'inner.flaky']);
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view?.steps['inner.flaky']).toMatchObject({ status: 'success', output: { done: true } });
  });
});

describe('ids of unnamed maps (point 6)', () => {
  it('counts every map of the workflow from 0, named ones included, skipping ids in use', () => {
    const fn = async ({ inputData }: { inputData: unknown }) => inputData;
    const step = createStep({ id: 'mapping_ids_3', inputSchema: any, outputSchema: any, execute: fn });
    const wf = createWorkflow({ id: 'ids', inputSchema: any, outputSchema: any })
      .map(fn)
      .map(fn, { id: 'named' })
      .map(fn)
      .then(step)
      .map(fn)
      .commit();
    const ids = wf.serializedStepGraph.map((n) => ('step' in n ? (n.step as { id: string }).id : n.type));
    expect(ids).toEqual(['mapping_ids_0', 'named', 'mapping_ids_2', 'mapping_ids_3', 'mapping_ids_4']);
  });
});
