// The rest of Mastra's Workflow, Run and stream-output surface, as a Mastra program calls it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage, Weft, createStep, createWorkflow } from '../src/index.js';
import type { WeftStorage, WorkflowEvent } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { askingStep, numSchema, numStep } from './support/step-factories.js';
import { until } from './support/wait.js';

const num = numSchema;
const dir = mkdtempSync(join(tmpdir(), 'weft-surface-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inc = numStep('inc');

describe('suspend and bail as return values', () => {
  it('return await suspend() suspends the step, and its resume returns the output', async () => {
    const ask = askingStep('ask');
    const wf = createWorkflow({ id: 'ask-wf', inputSchema: num, outputSchema: num }).then(ask).then(inc).commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const first = await run.start({ inputData: { n: 1 } });
    expect(first.status).toBe('suspended');
    expect(first.steps.ask).toMatchObject({ status: 'suspended', suspendPayload: { asking: 1 } });
    const done = await run.resume({ resumeData: { add: 10 } });
    expect(done.status).toBe('success');
    expect(done.result).toEqual({ n: 12 });
  });

  it('return bail(value) ends the run with that value as its result', async () => {
    const stop = createStep({
      id: 'stop',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData, bail }) => (inputData.n > 5 ? bail({ n: -1 }) : inputData),
    });
    const wf = createWorkflow({ id: 'bail-wf', inputSchema: num, outputSchema: num }).then(stop).then(inc).commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const bailed = await (await wf.createRun()).start({ inputData: { n: 9 } });
    expect(bailed.status).toBe('success');
    expect(bailed.result).toEqual({ n: -1 });
    expect(bailed.steps.inc).toBeUndefined();
    const through = await (await wf.createRun()).start({ inputData: { n: 1 } });
    expect(through.result).toEqual({ n: 2 });
  });
});

describe('the stream output', () => {
  const wf = () => createWorkflow({ id: 'streamed', inputSchema: num, outputSchema: num }).then(inc).then(inc).commit();

  it('is itself async-iterable: for await over the output reads the same events as fullStream', async () => {
    const a = wf();
    new Weft({ workflows: { a }, storage: new MemoryStorage() });
    const direct: string[] = [];
    const output = (await a.createRun()).stream({ inputData: { n: 1 } });
    for await (const chunk of output) direct.push(chunk.type);
    const viaFull: string[] = [];
    for await (const chunk of (await a.createRun()).stream({ inputData: { n: 1 } }).fullStream)
      viaFull.push(chunk.type);
    expect(direct).toEqual(viaFull);
    expect(direct).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-finish',
    ]);
    expect((await output.result).result).toEqual({ n: 3 });
    expect(output.fullStream.locked).toBe(false);
  });

  it('has consumeStream, usage and the stream methods Mastra keeps as aliases', async () => {
    const b = wf();
    new Weft({ workflows: { b }, storage: new MemoryStorage() });
    const consumed = (await b.createRun()).stream({ inputData: { n: 1 } });
    await consumed.consumeStream();
    expect(consumed.status).toBe('success');
    expect(await consumed.usage).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      cachedInputTokens: 0,
      cacheCreationInputTokens: 0,
      reasoningTokens: 0,
    });
    const read = (await b.createRun()).stream({ inputData: { n: 1 } });
    const reader = read.getReader();
    expect(read.locked).toBe(true);
    expect((await reader.read()).value?.type).toBe('workflow-start');
    reader.releaseLock();
    const [left, right] = read.tee();
    const types = async (s: ReadableStream<WorkflowEvent>): Promise<string[]> => {
      const out: string[] = [];
      for await (const e of s as ReadableStream<WorkflowEvent> & AsyncIterable<WorkflowEvent>) out.push(e.type);
      return out;
    };
    const [l, r] = await Promise.all([types(left), types(right)]);
    expect(l).toEqual(r);
    expect(l.at(-1)).toBe('workflow-finish');
    expect(read.toReadableStream()).toBe(read.fullStream);
  });

  it('run.streamOutput is the live output of stream(), until the run stops', async () => {
    const c = wf();
    new Weft({ workflows: { c }, storage: new MemoryStorage() });
    const run = await c.createRun();
    expect(run.streamOutput).toBeUndefined();
    const output = run.stream({ inputData: { n: 1 } });
    expect(run.streamOutput).toBe(output);
    await output.result;
    await until(() => run.streamOutput === undefined);
  });
});

describe('Workflow and Run methods of Mastra', () => {
  it('run.watchAsync resolves with the unwatch function', async () => {
    const wf = createWorkflow({ id: 'watch-async', inputSchema: num, outputSchema: num }).then(inc).commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const seen: string[] = [];
    const unwatch = await run.watchAsync((event) => seen.push(event.type));
    await run.start({ inputData: { n: 1 } });
    unwatch();
    expect(seen).toContain('workflow-step-result');
    const count = seen.length;
    const again = await wf.createRun({ runId: run.runId });
    await again.watchAsync(() => seen.push('late'));
    expect(seen).toHaveLength(count);
  });

  it.each(['memory', 'sqlite'] as const)(
    'restartAllActiveWorkflowRuns continues every running run of the workflow whose owner is gone (%s)',
    async (store) => {
      const path = join(dir, `${randomUUID()}.db`);
      const memory = new MemoryStorage();
      // Two instances over one store: the same MemoryStorage, or two SqliteStorage on one file (as two processes).
      const storage = (): WeftStorage => (store === 'memory' ? memory : new SqliteStorage({ path }));
      let hang = true;
      const executed: { id: string; restart: boolean }[] = [];
      const build = () => {
        const slow = createStep({
          id: 'slow',
          inputSchema: num,
          outputSchema: num,
          execute: async ({ inputData, restart }) => {
            executed.push({ id: 'slow', restart });
            if (hang) await new Promise(() => undefined);
            return { n: inputData.n * 10 };
          },
        });
        return createWorkflow({ id: 'restartable', inputSchema: num, outputSchema: num }).then(inc).then(slow).commit();
      };
      // The first instance stands for a process that froze inside `slow`: it never renews its leases.
      const frozen = build();
      new Weft({
        workflows: { frozen },
        storage: storage(),
        recovery: false,
        leaseMs: 60_000,
        ownershipCheckMs: 3_600_000,
      });
      const runs = [await frozen.createRun(), await frozen.createRun()];
      for (const [i, run] of runs.entries()) void run.start({ inputData: { n: i } }).catch(() => undefined);
      await until(() => executed.length === 2);
      hang = false;

      const wf = build();
      const weft = new Weft({ workflows: { wf }, storage: storage(), recovery: false });
      expect((await wf.listActiveWorkflowRuns()).total).toBe(2);
      expect((await weft.listActiveWorkflowRuns()).total).toBe(2);
      await wf.restartAllActiveWorkflowRuns();
      expect((await wf.listActiveWorkflowRuns()).total).toBe(0);
      for (const [i, run] of runs.entries()) {
        const view = await wf.getWorkflowRunById(run.runId);
        expect(view?.status).toBe('success');
        expect(view?.result).toEqual({ n: (i + 1) * 10 });
      }
      expect(executed.filter((e) => e.restart)).toHaveLength(2);
      await weft.restartAllActiveWorkflowRuns(); // nothing left to restart
      await weft.close();
    },
  );

  it('exposes steps, metadata and retryConfig as Mastra does', () => {
    const inner = createWorkflow({ id: 'inner', inputSchema: num, outputSchema: num }).then(inc).commit();
    const other = createStep({ ...inc, id: 'other' });
    const wf = createWorkflow({
      id: 'described',
      inputSchema: num,
      outputSchema: num,
      metadata: { team: 'billing' },
      retryConfig: { attempts: 2 },
    })
      .then(inc)
      .map(async ({ inputData }) => inputData, { id: 'same' })
      .parallel([other, inner])
      .sleep(1)
      .commit();
    expect(Object.keys(wf.steps)).toEqual(['inc', 'same', 'other', 'inner']);
    expect(wf.steps.inner).toBe(inner);
    expect(wf.metadata).toEqual({ team: 'billing' });
    expect(wf.retryConfig).toEqual({ attempts: 2, delay: 0 });
    expect(inner.retryConfig).toEqual({ attempts: 0, delay: 0 });
  });
});
