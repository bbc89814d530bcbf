// createStep and cloneStep: typed step definitions with Standard Schema inputs and outputs.
import { WeftError } from '../errors.js';
import { isSchema } from '../schema/validate.js';
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
 * @example
 * const double = createStep({
 *   id: 'double',
 *   inputSchema: z.object({ n: z.number() }),
 *   outputSchema: z.object({ n: z.number() }),
 *   execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
 * });
 */
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
> {
  if (typeof params !== 'object' || params === null) {
    throw new WeftError(
      'INVALID_DEFINITION',
      'createStep expects an object with id, inputSchema, outputSchema and execute',
    );
  }
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
  return Object.freeze({ ...params }) as unknown as Step<TId, Infer<TIn>, Infer<TOut>, any, any>;
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
