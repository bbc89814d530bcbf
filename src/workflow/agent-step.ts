// createStep(agent): an agent (Mastra's `Agent` or any object of its shape) as a step that streams its answer live.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { WeftError } from '../errors.js';
import type { AnySchema, ExecuteContext, Step } from './types.js';
import { cleanUsage, RECORD_USAGE, type StepUsage } from './step-usage.js';

/** What an agent's `stream()` gives: its chunks, its text, and what it knows once finished. */
export interface AgentStreamOutput {
  /** The chunks (`start`, `step-start`, `text-start`, `text-delta`, ..., `finish`), as an async iterable. */
  fullStream: unknown;
  /** The whole answer; rejects when the model failed. */
  text: PromiseLike<string>;
  object?: PromiseLike<unknown>;
  usage?: PromiseLike<unknown>;
  finishReason?: PromiseLike<unknown>;
}

/**
 * An agent, as `createStep` recognises it: an id (or a name), `stream` and `generate`, and no
 * `execute`. Mastra's `Agent` is one; so is any object of the same shape.
 */
export interface AgentLike<TId extends string = string> {
  id: TId;
  name?: string;
  stream(prompt: any, options?: any): PromiseLike<AgentStreamOutput> | AgentStreamOutput;
  generate(...args: any[]): unknown;
  getDescription?(): string;
}

/** The options of `createStep(agent, options)`: the step's own, the rest passed to `agent.stream()`. */
export interface AgentStepOptions<TOutput = unknown> {
  /** The step's output becomes the object the agent produces for this schema (also the step's output schema). */
  structuredOutput?: { schema: StandardSchemaV1<any, TOutput>; [option: string]: unknown };
  /** Retries of the step after a failure (each calls the model again). */
  retries?: number;
  metadata?: Record<string, unknown>;
  /** Called with the agent's finish result, as in Mastra. */
  onFinish?: (result: any) => unknown;
  /** Anything else (model settings, `maxSteps`, `instructions`, ...) goes to `agent.stream()` as given. */
  [option: string]: unknown;
}

/** True for an object `createStep` runs as an agent. */
export function isAgentLike(value: unknown): value is AgentLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const named = (typeof v.id === 'string' && v.id !== '') || (typeof v.name === 'string' && v.name !== '');
  return named && typeof v.stream === 'function' && typeof v.generate === 'function' && v.execute === undefined;
}

/** A Standard Schema of an object whose listed keys are strings (with a JSON Schema for forms). */
function stringFields(...keys: string[]): AnySchema {
  const jsonSchema = {
    type: 'object',
    properties: Object.fromEntries(keys.map((k) => [k, { type: 'string' }])),
    required: keys,
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'weft',
      validate: (value: unknown) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          return { issues: [{ message: `Expected an object with ${keys.join(', ')}, received ${typeof value}` }] };
        }
        const issues = keys
          .filter((k) => typeof (value as Record<string, unknown>)[k] !== 'string')
          .map((k) => ({
            message: `Expected string, received ${typeof (value as Record<string, unknown>)[k]}`,
            path: [k],
          }));
        return issues.length > 0 ? { issues } : { value };
      },
      jsonSchema: { input: () => jsonSchema, output: () => jsonSchema },
    },
  } as AnySchema;
}

const PROMPT_SCHEMA = stringFields('prompt');
const TEXT_SCHEMA = stringFields('text');

const STEP_OPTIONS = new Set(['retries', 'metadata', 'scorers', 'onFinish']);

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The model's failure as an Error (a chunk carries it as a plain record). */
function asError(failure: unknown): Error {
  if (failure instanceof Error) return failure;
  const record = typeof failure === 'object' && failure !== null ? (failure as Record<string, unknown>) : {};
  const error = new Error(typeof record.message === 'string' ? record.message : String(failure));
  if (typeof record.name === 'string') error.name = record.name;
  return error;
}

/** The usage an agent's finish result (or its stream output) reports. */
async function usageOf(finish: any, output: AgentStreamOutput): Promise<StepUsage | undefined> {
  const tokens = finish?.totalUsage ?? finish?.usage ?? (await output.usage);
  const finishReason = finish?.finishReason ?? (await output.finishReason);
  const model = finish?.model;
  return cleanUsage({
    ...(typeof tokens === 'object' && tokens !== null ? tokens : {}),
    modelId: model?.modelId ?? finish?.response?.modelId,
    provider: model?.provider,
    finishReason,
  });
}

/**
 * The step `createStep(agent, options)` makes: input `{ prompt }`, output `{ text }` (or the object
 * of `structuredOutput.schema`). It runs `agent.stream(prompt, options)` with the run's request
 * context and abort signal, writes every chunk to the step's writer as it arrives (so streams show
 * `workflow-step-output` events while the model is still answering), and records the model's usage
 * with the step's result.
 */
export function createAgentStep(agent: AgentLike, options: AgentStepOptions = {}): Step {
  if (typeof options !== 'object' || options === null) {
    throw new WeftError('INVALID_DEFINITION', `createStep(agent): options must be an object, got ${typeof options}`);
  }
  const id = agent.id || agent.name!;
  const schema = options.structuredOutput?.schema;
  const agentOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!STEP_OPTIONS.has(key)) agentOptions[key] = value;
  const step = {
    id,
    description: typeof agent.getDescription === 'function' ? agent.getDescription() : undefined,
    inputSchema: PROMPT_SCHEMA,
    outputSchema: schema ?? TEXT_SCHEMA,
    retries: options.retries,
    metadata: options.metadata,
    component: 'AGENT',
    execute: async (ctx: ExecuteContext<{ prompt: string }>) => {
      let finish: any;
      const output = await agent.stream(ctx.inputData.prompt, {
        ...agentOptions,
        requestContext: ctx.requestContext,
        abortSignal: ctx.abortSignal,
        onFinish: (result: unknown) => {
          finish = result;
          return options.onFinish?.(result);
        },
      });
      if (!isAsyncIterable(output?.fullStream)) {
        throw new WeftError(
          'INVALID_DEFINITION',
          `Agent step "${id}": agent.stream() must give an object with fullStream (an async iterable of chunks) and text`,
          { stepId: id },
        );
      }
      let failure: unknown;
      for await (const chunk of output.fullStream) {
        await ctx.writer.write(chunk);
        if ((chunk as { type?: unknown })?.type === 'error') failure ??= (chunk as { payload?: any }).payload?.error;
      }
      // A model that failed ends its stream with an `error` chunk (Mastra's output also keeps it as `error`).
      failure = (output as { error?: unknown }).error ?? failure;
      if (failure !== undefined) throw asError(failure);
      const text = await output.text;
      const usage = await usageOf(finish, output);
      if (usage)
        (ctx as unknown as Partial<Record<typeof RECORD_USAGE, (u: StepUsage) => void>>)[RECORD_USAGE]?.(usage);
      if (!schema) return { text };
      const object = finish?.object ?? (await output.object);
      if (object === undefined) {
        throw new Error(
          `Agent step '${id}' declared structuredOutput.schema but the agent finished without producing an object.`,
        );
      }
      return object;
    },
  };
  return Object.freeze(step) as unknown as Step;
}
