// Tools as steps: real @mastra/core createTool tools, run by Weft's createStep(tool) and compared with
// Mastra 1.71: the tool's id and schemas, the workflow context tools get, suspend and resume, bad input;
// and the builder forms .agent() and .tool().
import { Mastra } from '@mastra/core';
import { RequestContext as MastraRequestContext } from '@mastra/core/request-context';
import * as mastra from '@mastra/core/workflows';
import { createTool } from '@mastra/core/tools';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, MemoryStorage, RequestContext, Weft, WeftError } from '../src/index.js';
import { mockAgent } from './support/mock-agent.js';

const ticket = z.object({ title: z.string() });
const routed = z.object({ queue: z.string(), seen: z.any() });

/** A tool that reports what its context held. */
function routeTool(calls: unknown[] = []) {
  return createTool({
    id: 'route',
    description: 'Routes a ticket to a queue',
    inputSchema: ticket,
    outputSchema: routed,
    execute: async (input, context) => {
      calls.push(input);
      const wf = context.workflow!;
      await wf.setState({ routed: true });
      return {
        queue: input.title.includes('crash') ? 'bugs' : 'support',
        seen: {
          runIdIsString: typeof wf.runId === 'string',
          workflowId: wf.workflowId,
          state: wf.state,
          tenant: context.requestContext?.get('tenant' as never),
          hasSignal: context.abortSignal instanceof AbortSignal,
        },
      };
    },
  });
}

const approvalTool = () =>
  createTool({
    id: 'approve',
    description: 'Waits for a person to approve',
    inputSchema: z.object({ queue: z.string() }),
    outputSchema: z.object({ approved: z.boolean(), queue: z.string(), asked: z.any() }),
    suspendSchema: z.object({ question: z.string() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    execute: async (input, context) => {
      const wf = context.workflow!;
      if (!wf.resumeData) return wf.suspend!({ question: `Send to ${input.queue}?` }) as never;
      return { approved: wf.resumeData.approved, queue: input.queue, asked: wf.suspendPayload };
    },
  });

function build(api: { createWorkflow: any; createStep: any }, tools: { route: unknown; approve: unknown }) {
  return api
    .createWorkflow({
      id: 'triage',
      inputSchema: ticket,
      outputSchema: z.any(),
      stateSchema: z.object({ routed: z.boolean().optional() }),
    })
    .then(api.createStep(tools.route))
    .map(async ({ inputData }: { inputData: { queue: string } }) => ({ queue: inputData.queue }))
    .then(api.createStep(tools.approve))
    .commit();
}

async function startAndResume(wf: any, requestContext: unknown = new RequestContext([['tenant', 'acme']])) {
  const run = await wf.createRun();
  const started = await run.start({ inputData: { title: 'App crash' }, initialState: {}, requestContext });
  const resumed = await run.resume({ step: 'approve', resumeData: { approved: true }, requestContext });
  return { started, resumed };
}

describe('createStep(tool)', () => {
  it("takes the tool's id, description and schemas", () => {
    const tool = approvalTool();
    const step = createStep(tool);
    expect(step.id).toBe('approve');
    expect(step.description).toBe('Waits for a person to approve');
    expect(step.inputSchema).toBe(tool.inputSchema);
    expect(step.outputSchema).toBe(tool.outputSchema);
    expect(step.suspendSchema).toBe(tool.suspendSchema);
    expect(step.resumeSchema).toBe(tool.resumeSchema);
  });

  it('runs with the workflow context Mastra gives tools, suspends and resumes as Mastra does', async () => {
    const onWeft = build({ createWorkflow, createStep }, { route: routeTool(), approve: approvalTool() });
    new Weft({ workflows: { onWeft }, storage: new MemoryStorage() });
    const host = new Mastra({
      workflows: { triage: build(mastra, { route: routeTool(), approve: approvalTool() }) },
      logger: false,
    });
    const weft = await startAndResume(onWeft);
    const reference = await startAndResume(
      host.getWorkflow('triage'),
      new MastraRequestContext([['tenant', 'acme']] as never),
    );
    await host.shutdown().catch(() => undefined);

    expect(weft.started.status).toBe('suspended');
    expect(weft.started.status).toBe(reference.started.status);
    expect(weft.started.suspendPayload).toEqual(reference.started.suspendPayload);
    expect(weft.started.suspendPayload).toEqual({ approve: { question: 'Send to bugs?' } });
    expect(weft.started.steps.route.output).toEqual(reference.started.steps.route.output);
    expect(weft.started.steps.route.output.seen).toMatchObject({
      runIdIsString: true,
      workflowId: 'triage',
      tenant: 'acme',
      hasSignal: true,
    });
    expect(weft.started.steps.route.output.seen.state).toBeTypeOf('object');
    expect(weft.resumed.status).toBe('success');
    expect(weft.resumed.result).toEqual(reference.resumed.result);
    expect(weft.resumed.result).toEqual({ approved: true, queue: 'bugs', asked: { question: 'Send to bugs?' } });
  });

  it("a resume that breaks the tool's resume schema is refused", async () => {
    const wf = build({ createWorkflow, createStep }, { route: routeTool(), approve: approvalTool() });
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    await run.start({ inputData: { title: 'x' }, initialState: {} });
    await expect(run.resume({ step: 'approve', resumeData: { approved: 'yes' } })).rejects.toThrow(/approved/);
  });

  it("input that breaks the tool's input schema fails the step without calling the tool", async () => {
    const calls: unknown[] = [];
    const wf = createWorkflow({ id: 'bad-input', inputSchema: z.any(), outputSchema: z.any() })
      .then(createStep(routeTool(calls)))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: { title: 42 } });
    expect(result.status).toBe('failed');
    expect(result.steps.route!.status).toBe('failed');
    expect(calls).toHaveLength(0);
  });

  it('output that breaks the output schema fails the step rather than passing the value on', async () => {
    const liar = createTool({
      id: 'liar',
      description: 'returns the wrong shape',
      inputSchema: z.object({}),
      outputSchema: z.object({ n: z.number() }),
      execute: async () => ({ n: 'not a number' }) as never,
    });
    const wf = createWorkflow({ id: 'bad-output', inputSchema: z.object({}), outputSchema: z.any() })
      .then(createStep(liar))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: {} });
    expect(result.status).toBe('failed');
    expect(result.steps.liar!.status).toBe('failed');
  });

  it('a tool without schemas cannot be a step, and the error says what it lacks', () => {
    const bare = createTool({ id: 'bare', description: 'no schemas', execute: async () => ({}) });
    expect(() => createStep(bare)).toThrow(/Tool "bare" cannot be a step: it needs an inputSchema and an outputSchema/);
    expect(() => createStep(bare)).toThrow(WeftError);
  });
});

describe('.agent() and .tool() on the builder', () => {
  it('add the agent and the tool as steps, under the id given in the step options', async () => {
    const wf = createWorkflow({ id: 'built', inputSchema: ticket, outputSchema: z.any(), stateSchema: z.any() })
      .tool(routeTool(), undefined, { id: 'router' })
      .map(async ({ inputData }) => ({ prompt: `Write a reply for the ${inputData.queue} queue` }))
      .agent(mockAgent('replier', { text: 'We are on it.' }))
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const result = await (await wf.createRun()).start({ inputData: { title: 'crash' }, initialState: {} });
    expect(result.status).toBe('success');
    expect(result.steps.router!.output).toMatchObject({ queue: 'bugs' });
    expect(result.result).toEqual({ text: 'We are on it.' });
  });

  it('refuse ids (there is no registry to look them up in) and plain steps, with errors saying so', () => {
    const wf = createWorkflow({ id: 'ids', inputSchema: z.any(), outputSchema: z.any() });
    expect(() => wf.agent('writer' as never)).toThrow(/got the id "writer": pass an agent object itself/);
    expect(() =>
      wf.tool(createStep({ id: 's', inputSchema: z.any(), outputSchema: z.any(), execute: () => 1 }) as never),
    ).toThrow(/expects a tool, got a plain step definition/);
  });
});
