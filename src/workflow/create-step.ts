// createStep and cloneStep: typed step definitions with Standard Schema inputs and outputs.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { WeftError } from '../errors.js';
import { isSchema } from '../schema/validate.js';
import { createAgentStep, isAgentLike, type AgentLike, type AgentStepOptions } from './agent-step.js';
import { createToolStep, isToolLike, type ToolLike, type ToolStepOptions } from './tool-step.js';
import type { AnySchema, ExecuteContext, Infer, InnerOutput, Step } from './types.js';

/** The parameters of `createStep`. */
export interface StepParams<
  TId extends string,
  TIn extends AnySchema,
  TOut extends AnySchema,
  TResume extends AnySchema | undefined,
  TSuspend extends AnySchema | undefined,
  TState extends AnySchema | undefined,
> {
  id: TId;
  description?: string;
  inputSchema: TIn;
  outputSchema: TOut;
  resumeSchema?: TResume;
  suspendSchema?: TSuspend;
  stateSchema?: TState;
  requestContextSchema?: AnySchema;
  /** Retries of this step after a failure; overrides the workflow's `retryConfig.attempts`. */
  retries?: number;
  metadata?: Record<string, unknown>;
  execute: (
    ctx: ExecuteContext<
      Infer<TIn>,
      TResume extends AnySchema ? Infer<TResume> : unknown,
      TSuspend extends AnySchema ? Infer<TSuspend> : unknown,
      TState extends AnySchema ? Infer<TState> : any
    >,
  ) => Promise<Infer<TOut> | InnerOutput> | Infer<TOut> | InnerOutput;
}

const ID_PATTERN = /^[^./\s[\]@]+$/;

/** Checks an id used as a step or workflow id: non-empty, and free of the characters that build paths. */
export function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `Invalid ${what} id ${JSON.stringify(id)}: expected a non-empty string without spaces or any of . / [ ] @`,
    );
  }
  return id;
}

function checkSchema(value: unknown, field: string, stepId: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (!isSchema(value)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `Step "${stepId}": ${field} must be a Standard Schema (zod, valibot, arktype, ...), got ${value === undefined ? 'nothing' : typeof value}`,
      { stepId },
    );
  }
}

/**
 * Defines a step: an id, schemas for its input and output (and optionally for resume, suspend,
 * state and request context), and the function that does the work.
 *
 * Also takes an agent (Mastra's `Agent`, or any object with an id, `stream` and `generate`): the
 * step's input is `{ prompt }`, its output `{ text }` (or the object of `structuredOutput.schema`),
 * and the agent's chunks are streamed live as `workflow-step-output` events; or a tool (Mastra's
 * `createTool`): the tool's id and schemas, called as `execute(input, { workflow, requestContext, ... })`.
 *
 * @example
 * const double = createStep({
 *   id: 'double',
 *   inputSchema: z.object({ n: z.number() }),
 *   outputSchema: z.object({ n: z.number() }),
 *   execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
 * });
 * const draft = createStep(writerAgent); // input { prompt }, output { text }
 */
export function createStep<TId extends string, TOut>(
  agent: AgentLike<TId>,
  options: AgentStepOptions<TOut> & { structuredOutput: { schema: StandardSchemaV1<any, TOut> } },
): Step<TId, { prompt: string }, TOut>;
export function createStep<TId extends string>(
  agent: AgentLike<TId>,
  options?: AgentStepOptions,
): Step<TId, { prompt: string }, { text: string }>;
export function createStep<
  TId extends string,
  TIn extends AnySchema,
  TOut extends AnySchema,
  TResume extends AnySchema | undefined = undefined,
  TSuspend extends AnySchema | undefined = undefined,
  TState extends AnySchema | undefined = undefined,
>(
  params: StepParams<TId, TIn, TOut, TResume, TSuspend, TState>,
): Step<
  TId,
  Infer<TIn>,
  Infer<TOut>,
  TResume extends AnySchema ? Infer<TResume> : unknown,
  TSuspend extends AnySchema ? Infer<TSuspend> : unknown
>;
export function createStep<TId extends string, TIn, TOut>(
  tool: ToolLike<TId, TIn, TOut>,
  options?: ToolStepOptions,
): Step<TId, TIn, TOut>;
export function createStep(params: unknown, options?: Record<string, unknown>): Step {
  if (isAgentLike(params)) return checkStep(createAgentStep(params, options));
  if (isToolLike(params)) return checkStep(createToolStep(params, options));
  if (typeof params !== 'object' || params === null) {
    throw new WeftError(
      'INVALID_DEFINITION',
      'createStep expects an object with id, inputSchema, outputSchema and execute, an agent or a tool',
    );
  }
  return checkStep(Object.freeze({ ...(params as Step) }));
}

/** Checks a step definition (id, schemas, execute, retries) and returns it. */
function checkStep(params: Step): Step {
  const id = checkId(params.id, 'step');
  checkSchema(params.inputSchema, 'inputSchema', id, true);
  checkSchema(params.outputSchema, 'outputSchema', id, true);
  checkSchema(params.resumeSchema, 'resumeSchema', id, false);
  checkSchema(params.suspendSchema, 'suspendSchema', id, false);
  checkSchema(params.stateSchema, 'stateSchema', id, false);
  checkSchema(params.requestContextSchema, 'requestContextSchema', id, false);
  if (typeof params.execute !== 'function') {
    throw new WeftError('INVALID_DEFINITION', `Step "${id}": execute must be a function`, { stepId: id });
  }
  if (params.retries !== undefined && (!Number.isInteger(params.retries) || params.retries < 0)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `Step "${id}": retries must be a whole number >= 0, got ${params.retries}`,
      {
        stepId: id,
      },
    );
  }
  return params;
}

/**
 * A copy of a step under a new id, so the same logic can appear twice in a workflow with its
 * own result.
 *
 * @example
 * wf.then(inc).then(cloneStep(inc, { id: 'inc2' }))
 */
export function cloneStep<TId extends string, S extends Step>(step: S, options: { id: TId }): S & { id: TId } {
  const id = checkId(options?.id, 'step');
  return Object.freeze({ ...step, id }) as S & { id: TId };
}
