// createStep(tool): a tool (Mastra's `createTool`, or any object marked as one) as a step, called with the context tools get in workflows.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { WeftError } from '../errors.js';
import { isSchema } from '../schema/validate.js';
import type { ExecuteContext, Step } from './types.js';

/** The marker Mastra's `Tool` carries (a global symbol, so no import of Mastra is needed to see it). */
const TOOL_MARKER: unique symbol = Symbol.for('mastra.core.tool.Tool') as never;

/** What a tool's `execute` receives beside its input, in a workflow (as Mastra gives it). */
export interface ToolExecutionContext<TState = any, TResume = any, TSuspend = any> {
  requestContext: ExecuteContext['requestContext'];
  abortSignal: AbortSignal;
  mastra?: unknown;
  resumeData: TResume | undefined;
  suspendPayload: TSuspend | undefined;
  workflow: {
    runId: string;
    workflowId: string;
    state: TState;
    setState: ExecuteContext['setState'];
    suspend: ExecuteContext['suspend'];
    resumeData: TResume | undefined;
    suspendPayload: TSuspend | undefined;
  };
}

/** A tool as `createStep` takes it: Mastra's `createTool` result, or any object with the same fields and marker. */
export interface ToolLike<TId extends string = string, TIn = any, TOut = any> {
  id: TId;
  description?: string;
  inputSchema?: StandardSchemaV1<any, TIn>;
  outputSchema?: StandardSchemaV1<any, TOut>;
  resumeSchema?: StandardSchemaV1;
  suspendSchema?: StandardSchemaV1;
  /** Returns the output (or what `context.workflow.suspend()` gave, when it suspends). */
  execute?: (input: TIn, context: any) => Promise<TOut | void> | TOut | void;
}

/** The options of `createStep(tool, options)`. */
export interface ToolStepOptions {
  retries?: number;
  metadata?: Record<string, unknown>;
  [option: string]: unknown;
}

/** True for an object `createStep` runs as a tool: one that carries Mastra's tool marker. */
export function isToolLike(value: unknown): value is ToolLike {
  return typeof value === 'object' && value !== null && TOOL_MARKER in value;
}

/**
 * The step `createStep(tool, options)` makes: the tool's id, description and schemas (input, output,
 * suspend, resume), executing `tool.execute(inputData, context)` with `context.workflow` holding the
 * run id, workflow id, state, `setState`, `suspend`, the resume data and the earlier suspend payload.
 * A tool that suspends is resumed like any step; input that breaks the tool's input schema fails the
 * step before the tool is called.
 */
export function createToolStep(tool: ToolLike, options: ToolStepOptions = {}): Step {
  const id = tool.id;
  if (!isSchema(tool.inputSchema) || !isSchema(tool.outputSchema)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `Tool "${String(id)}" cannot be a step: it needs an inputSchema and an outputSchema (Standard Schemas); it has ${[
        isSchema(tool.inputSchema) ? undefined : 'no inputSchema',
        isSchema(tool.outputSchema) ? undefined : 'no outputSchema',
      ]
        .filter(Boolean)
        .join(' and ')}`,
      { stepId: String(id) },
    );
  }
  if (typeof tool.execute !== 'function') {
    throw new WeftError('INVALID_DEFINITION', `Tool "${id}" cannot be a step: it has no execute function`, {
      stepId: id,
    });
  }
  const execute = tool.execute.bind(tool);
  const step = {
    id,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    resumeSchema: tool.resumeSchema,
    suspendSchema: tool.suspendSchema,
    retries: options.retries,
    metadata: options.metadata,
    component: 'TOOL',
    execute: (ctx: ExecuteContext) => {
      const context: ToolExecutionContext = {
        mastra: ctx.mastra,
        requestContext: ctx.requestContext,
        abortSignal: ctx.abortSignal,
        resumeData: ctx.resumeData,
        suspendPayload: ctx.suspendData,
        workflow: {
          runId: ctx.runId,
          workflowId: ctx.workflowId,
          state: ctx.state,
          setState: ctx.setState,
          suspend: ctx.suspend,
          resumeData: ctx.resumeData,
          suspendPayload: ctx.suspendData,
        },
      };
      return execute(ctx.inputData, context);
    },
  };
  return Object.freeze(step) as unknown as Step;
}
