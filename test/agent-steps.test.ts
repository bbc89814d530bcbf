// Agents as steps: a real @mastra/core Agent on a mock model, run by Weft's createStep(agent) and compared
// with Mastra 1.71's: input { prompt }, output { text } or the structured object, chunks streamed live with
// Mastra's event shape, request context and cancel reaching the model, usage kept with the step.
import * as mastra from '@mastra/core/workflows';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, MemoryStorage, RequestContext, Weft, type WorkflowEvent } from '../src/index.js';
import { mockAgent } from './support/mock-agent.js';
import { promptText } from './support/mock-model.js';
import { until } from './support/wait.js';

const promptIn = z.object({ prompt: z.string() });

/** The chunks of `workflow-step-output` events, with the ids and times that differ per run taken out. */
function chunksOf(events: { type: string; payload?: any }[]) {
  return events
    .filter((e) => e.type === 'workflow-step-output')
    .map((e) => {
      const { output } = e.payload;
      return {
        envelope: { type: e.type, from: (e as { from?: string }).from, stepName: e.payload.stepName },
        type: output.type,
        from: output.from,
        text: output.type === 'text-delta' ? output.payload.text : undefined,
        hasAgentRunId: typeof output.runId === 'string' && output.runId !== e.payload.runId,
      };
    });
}

async function streamed(run: { stream(args: any): { fullStream: AsyncIterable<any>; result: Promise<any> } }) {
  const out = run.stream({ inputData: { prompt: 'Say hello' } });
  const events: any[] = [];
  for await (const e of out.fullStream) events.push(e);
  return { events, result: await out.result };
}

describe('createStep(agent)', () => {
  it('makes a step with the agent id, input { prompt } and output { text }, and streams the same chunks as Mastra', async () => {
    const onMastra = mastra
      .createWorkflow({ id: 'ask', inputSchema: promptIn, outputSchema: z.any() })
      .then(mastra.createStep(mockAgent('writer')))
      .commit();
    const weftStep = createStep(mockAgent('writer'));
    expect(weftStep.id).toBe('writer');
    expect(weftStep.description).toBe('The writer agent');
    const onWeft = createWorkflow({ id: 'ask', inputSchema: promptIn, outputSchema: z.any() }).then(weftStep).commit();
    new Weft({ workflows: { onWeft }, storage: new MemoryStorage() });

    const expected = await streamed(await onMastra.createRun());
    const actual = await streamed(await onWeft.createRun());
    expect(actual.result.status).toBe('success');
    expect(actual.result.result).toEqual({ text: 'Hello world' });
    expect(actual.result.result).toEqual(expected.result.result);
    expect(actual.result.steps.writer.output).toEqual(expected.result.steps.writer.output);
    const chunks = chunksOf(actual.events);
    expect(chunks).toEqual(chunksOf(expected.events));
    expect(chunks.map((c) => c.type)).toEqual([
      'start',
      'step-start',
      'text-start',
      ...['Hel', 'lo ', 'wor', 'ld'].map(() => 'text-delta'),
      'text-end',
      'step-finish',
      'finish',
    ]);
    expect(chunks[0]!.envelope).toEqual({ type: 'workflow-step-output', from: 'USER', stepName: 'writer' });
    const delta = actual.events.find((e) => e.payload?.output?.type === 'text-delta');
    expect(delta.payload.runId).toBe(actual.result.runId ?? delta.runId);
    expect(delta.payload.output.payload).toEqual({ id: 't1', text: 'Hel' });
  });

  it('relays each chunk while the model is still answering, not once it has finished', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const agent = mockAgent('slow', { text: 'abcdef', beforePiece: (i) => (i === 1 ? held : undefined) });
    const wf = createWorkflow({ id: 'live', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(agent))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const out = (await wf.createRun()).stream({ inputData: { prompt: 'go' } });
    const reader = out.fullStream.getReader();
    const seen: WorkflowEvent[] = [];
    // The model holds its second piece until the first has been seen by the reader.
    for (;;) {
      const { value } = await reader.read();
      seen.push(value!);
      if (value!.type === 'workflow-step-output' && value!.payload.output.type === 'text-delta') break;
    }
    expect(seen.at(-1)!.payload.output.payload.text).toBe('abc');
    expect(seen.some((e) => e.type === 'workflow-step-result')).toBe(false);
    release();
    while (!(await reader.read()).done);
    expect((await out.result).result).toEqual({ text: 'abcdef' });
  });

  it('gives the structured object as output when structuredOutput is set, and its schema becomes the output schema', async () => {
    const schema = z.object({ label: z.enum(['bug', 'question']), urgency: z.number() });
    const answer = JSON.stringify({ label: 'bug', urgency: 3 });
    const weftStep = createStep(mockAgent('triage', { text: answer }), { structuredOutput: { schema } });
    expect(weftStep.outputSchema).toBe(schema);
    const wf = createWorkflow({ id: 'classify', inputSchema: promptIn, outputSchema: schema }).then(weftStep).commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: { prompt: 'It crashes' } });

    const onMastra = mastra
      .createWorkflow({ id: 'classify', inputSchema: promptIn, outputSchema: schema })
      .then(mastra.createStep(mockAgent('triage', { text: answer }), { structuredOutput: { schema } } as never))
      .commit();
    const expected: any = await (await onMastra.createRun()).start({ inputData: { prompt: 'It crashes' } });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ label: 'bug', urgency: 3 });
    expect(result.result).toEqual(expected.result);
  });

  it("passes the workflow's request context and the agent options to the agent", async () => {
    const calls: any[] = [];
    const agent = mockAgent('polite', {
      onCall: (call) => calls.push(call),
      instructions: ({ requestContext }: { requestContext: RequestContext }) =>
        `Answer in a ${String(requestContext.get('tone'))} tone.`,
    });
    const wf = createWorkflow({ id: 'toned', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(agent, { modelSettings: { temperature: 0.25 } }))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (
      await wf.createRun()
    ).start({ inputData: { prompt: 'Hi there' }, requestContext: new RequestContext([['tone', 'dry']]) });
    expect(result.status).toBe('success');
    expect(calls).toHaveLength(1);
    expect(promptText(calls[0])).toContain('Answer in a dry tone.');
    expect(promptText(calls[0])).toContain('Hi there');
    expect(calls[0].temperature).toBe(0.25);
  });

  it('a model that throws fails the step and the run with its error, after one call', async () => {
    let calls = 0;
    const agent = mockAgent('broken', { onCall: () => calls++, fail: () => new Error('model overloaded') });
    const wf = createWorkflow({ id: 'fails', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(agent))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: { prompt: 'x' } });
    expect(result.status).toBe('failed');
    expect(result.steps.broken!.status).toBe('failed');
    expect(String((result as { error?: { message?: string } }).error?.message)).toContain('model overloaded');
    expect(calls).toBe(1);
  });

  it('retries: N calls the model again after a failure', async () => {
    let calls = 0;
    const agent = mockAgent('flaky', {
      onCall: () => calls++,
      fail: (n) => (n === 0 ? new Error('timeout') : undefined),
    });
    const wf = createWorkflow({ id: 'retried', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(agent, { retries: 1 }))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: { prompt: 'x' } });
    expect(result.status).toBe('success');
    expect(calls).toBe(2);
  });

  it('cancel() during the stream aborts the model call through its abort signal, and the run ends canceled', async () => {
    let signal: AbortSignal | undefined;
    const agent = mockAgent('long', {
      text: 'a'.repeat(30),
      onCall: (call) => (signal = call.abortSignal),
      beforePiece: (i) => (i >= 2 ? new Promise((resolve) => setTimeout(resolve, 50)) : undefined),
    });
    const wf = createWorkflow({ id: 'stoppable', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(agent))
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const out = run.stream({ inputData: { prompt: 'go' } });
    const deltas: unknown[] = [];
    const reading = (async () => {
      for await (const e of out.fullStream)
        if (e.type === 'workflow-step-output' && e.payload.output.type === 'text-delta') deltas.push(e);
    })();
    await until(() => deltas.length >= 2);
    await run.cancel();
    await reading;
    expect(signal?.aborted).toBe(true);
    expect((await out.result).status).toBe('canceled');
    expect((await weft.getRun(run.runId))!.status).toBe('canceled');
  });

  it("records the model's usage with the step in stored-run views, and the run's total tokens; run.start()'s result keeps Mastra's step shape", async () => {
    const wf = createWorkflow({ id: 'two-agents', inputSchema: promptIn, outputSchema: z.any() })
      .then(createStep(mockAgent('first', { usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } })))
      .map(async ({ inputData }) => ({ prompt: `Improve: ${inputData.text}` }))
      .then(
        createStep(
          mockAgent('second', { modelId: 'mock-2', usage: { inputTokens: 20, outputTokens: 8, totalTokens: 28 } }),
        ),
      )
      .commit();
    const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const result = await run.start({ inputData: { prompt: 'x' } });
    expect(result.status).toBe('success');
    expect(Object.keys(result.steps.first!)).not.toContain('usage');
    const view = (await weft.getRun(run.runId))!;
    expect(view.steps.first!.usage).toEqual({
      inputTokens: 10,
      outputTokens: 5,
      totalTokens: 15,
      modelId: 'mock-1',
      provider: 'mock',
      finishReason: 'stop',
    });
    expect(view.steps.second!.usage).toMatchObject({ inputTokens: 20, outputTokens: 8, modelId: 'mock-2' });
    expect(view.usage).toEqual({ inputTokens: 30, outputTokens: 13, totalTokens: 43 });
  });

  it("reports in a stream's workflow-finish and usage the tokens of the agent steps it carried, as Mastra does", async () => {
    const usage = { inputTokens: 7, outputTokens: 5, totalTokens: 12 };
    const define = (api: { createWorkflow: any; createStep: any }) => {
      const gate = api.createStep({
        id: 'gate',
        inputSchema: promptIn,
        outputSchema: promptIn,
        resumeSchema: z.object({ ok: z.boolean() }),
        execute: async ({ inputData, resumeData, suspend }: any) => (resumeData ? inputData : suspend({})),
      });
      return api
        .createWorkflow({ id: 'ask-twice', inputSchema: promptIn, outputSchema: z.any() })
        .then(api.createStep(mockAgent('a1', { usage })))
        .map(async ({ inputData }: any) => ({ prompt: inputData.text }))
        .then(gate)
        .then(api.createStep(mockAgent('a2', { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } })))
        .commit();
    };
    const finishOf = async (out: { fullStream: AsyncIterable<any>; usage: Promise<unknown> }) => {
      let finish: any;
      for await (const e of out.fullStream) if (e.type === 'workflow-finish') finish = e.payload;
      return { finish, usage: await out.usage };
    };
    const onMastra = define(mastra);
    const expected = await finishOf((await onMastra.createRun()).stream({ inputData: { prompt: 'hi' } }) as never);
    const onWeft = define({ createWorkflow, createStep });
    new Weft({ workflows: { onWeft }, storage: new MemoryStorage() });
    const run = await onWeft.createRun();
    const first = await finishOf(run.stream({ inputData: { prompt: 'hi' } }) as never);
    expect(first.finish.workflowStatus).toBe('suspended');
    expect(first.finish.output.usage).toEqual(expected.finish.output.usage);
    expect(first.usage).toEqual(expected.usage);
    expect(first.usage).toMatchObject(usage);
    // The resumed stream carries the second agent only (Mastra cannot resume this run without storage).
    const second = await finishOf(run.resumeStream({ step: 'gate', resumeData: { ok: true } }) as never);
    expect(second.finish.workflowStatus).toBe('success');
    expect(second.finish.output.usage).toMatchObject({ inputTokens: 3, outputTokens: 2, totalTokens: 5 });
    expect(second.usage).toMatchObject({ inputTokens: 3, outputTokens: 2, totalTokens: 5 });
  });
});
