// Public types of definitions and results: steps, their execute context, step and run results.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { RequestContext } from '../request-context.js';
import type { RunStatus } from '../storage/types.js';

/** Any Standard Schema (zod 3.24+/4, valibot, arktype, ...). */
export type AnySchema = StandardSchemaV1<any, any>;
/** The value type a schema produces. */
export type Infer<S> = S extends StandardSchemaV1<any, infer O> ? O : unknown;
/** The value type a schema accepts (before defaults are applied). */
export type InferInput<S> = S extends StandardSchemaV1<infer I, any> ? I : unknown;

/** Status of one step's result. */
export type StepStatus = 'success' | 'failed' | 'suspended' | 'running' | 'waiting' | 'paused' | 'canceled' | 'bailed';

/** Writes events from inside a step: `write` gives a `workflow-step-output`, `custom` a top-level `data-*` event. */
export interface StepWriter {
  write(chunk: unknown): Promise<void>;
  custom(event: { type: string; data?: unknown; [key: string]: unknown }): Promise<void>;
}

declare const SUSPEND_BRAND: unique symbol;

/** Key of the type-only member through which a workflow's type tells its input type. */
export declare const WORKFLOW_INPUT: unique symbol;

/** A workflow as its input type is read from it (`Workflow` has this member in its type only). */
interface HasWorkflowInput<TInput> {
  readonly [WORKFLOW_INPUT]: TInput;
}

/** What `getInitData<T>()` returns: the input type of a workflow `T`, else `T` itself. */
export type InitData<T> = T extends HasWorkflowInput<infer TInput> ? TInput : T;

/**
 * What `suspend()` and `bail()` return: `void`, branded so that `execute`'s return type accepts
 * it beside the step's output (`return await suspend({...})`, `return bail(value)`), as in Mastra.
 * The step's output is then the suspension or the bailed value, not this.
 */
export type InnerOutput = void & { readonly [SUSPEND_BRAND]: never };

/** Options of `suspend`: labels that `resume({ label })` can name. */
export interface SuspendOptions {
  resumeLabel?: string | string[];
}

/** What `execute` receives. */
export interface ExecuteContext<TInput = any, TResume = any, TSuspend = any, TState = any> {
  inputData: TInput;
  resumeData: TResume | undefined;
  suspendData: TSuspend | undefined;
  /**
   * Suspends the step; the run becomes `suspended` until `resume`. The payload is required when
   * the step has a `suspendSchema`, as in Mastra.
   */
  suspend: unknown extends TSuspend
    ? (payload?: TSuspend, options?: SuspendOptions) => Promise<InnerOutput>
    : (payload: TSuspend, options?: SuspendOptions) => Promise<InnerOutput>;
  /** Ends the whole run at once with status `success` and this value as its result. */
  bail(value: unknown): InnerOutput;
  /** Cancels the run. */
  abort(): void;
  abortSignal: AbortSignal;
  getStepResult<T = any>(step: string | { id: string }): T | undefined;
  /** The run's input; `getInitData<typeof workflow>()` gives the workflow's input type. */
  getInitData<T = any>(): InitData<T>;
  state: TState;
  setState(state: Partial<TState>): Promise<void>;
  requestContext: RequestContext<any>;
  writer: StepWriter;
  runId: string;
  workflowId: string;
  resourceId: string | undefined;
  /** 0 on the first attempt, then 1, 2, ... on retries. */
  retryCount: number;
  /** True when this step is run again because its run was restarted after an interruption. */
  restart: boolean;
  /** On a resume: `{ steps, resumePayload, label? }`. */
  resume?: { steps: string[]; resumePayload: unknown; label?: string };
  /** The engine instance the run belongs to. */
  weft?: unknown;
  /** Same object as `weft`, under the name Mastra programs use. */
  mastra?: unknown;
  engine: Record<string, never>;
}

/** A step definition. Create one with `createStep`. */
export interface Step<
  TId extends string = string,
  TInput = any,
  TOutput = any,
  TResume = any,
  TSuspend = any,
  TState = any,
> {
  readonly id: TId;
  readonly description?: string;
  readonly inputSchema: AnySchema;
  readonly outputSchema: AnySchema;
  readonly resumeSchema?: AnySchema;
  readonly suspendSchema?: AnySchema;
  readonly stateSchema?: AnySchema;
  readonly requestContextSchema?: AnySchema;
  readonly retries?: number;
  readonly metadata?: Record<string, unknown>;
  readonly execute: (
    ctx: ExecuteContext<TInput, TResume, TSuspend, TState>,
  ) => Promise<TOutput | InnerOutput> | TOutput | InnerOutput;
}

/** One step's entry in a result. Times are epoch ms. */
export interface StepResult<TOutput = unknown> {
  status: StepStatus;
  payload?: unknown;
  output?: TOutput;
  error?: unknown;
  startedAt: number;
  endedAt?: number;
  suspendPayload?: unknown;
  suspendedAt?: number;
  resumePayload?: unknown;
  resumedAt?: number;
  suspendOutput?: unknown;
  nonRetryable?: boolean;
  /** The step ended by calling `bail()` (its status is then `success`, or `bailed` inside a parallel or branch block). */
  bailed?: boolean;
  metadata?: Record<string, unknown>;
  /** For a sleep: when it ends (epoch ms). Shown in stored-run views. */
  wakeAt?: number;
  /**
   * Every attempt of a step that was retried, oldest first: the failed ones, then the last (whose
   * status is the step's). Shown in stored-run views; absent for a step tried once.
   */
  tries?: StepTryView[];
}

/** One attempt of a retried step, as stored-run views show it. */
export interface StepTryView {
  /** 1 for the first attempt. */
  attempt: number;
  status: StepStatus;
  startedAt: number;
  endedAt?: number;
  error?: unknown;
}

/** An error as stored and returned: name, message, own fields and cause chain, no stack. */
export interface SerializedError {
  name: string;
  message: string;
  cause?: unknown;
  [key: string]: unknown;
}

/** What every result has, whatever its status. */
export interface WorkflowResultBase<TInput = unknown> {
  runId: string;
  input: TInput;
  steps: Record<string, StepResult | any>;
  stepExecutionPath: string[];
  resumeLabels?: Record<string, { stepId: string; foreachIndex?: number }>;
  state?: Record<string, unknown>;
}

/**
 * What `start`, `resume`, `restart` and `timeTravel` resolve to: narrowed by `status`, as in
 * Mastra (`if (r.status === 'success') r.result`). A field of another status reads `undefined`.
 */
export type WorkflowResult<TInput = unknown, TOutput = unknown> =
  | (WorkflowResultBase<TInput> & {
      status: 'success';
      result: TOutput;
      error?: undefined;
      suspended?: undefined;
      suspendPayload?: undefined;
    })
  | (WorkflowResultBase<TInput> & {
      status: 'failed';
      error: SerializedError;
      result?: undefined;
      suspended?: undefined;
      suspendPayload?: undefined;
    })
  | (WorkflowResultBase<TInput> & {
      status: 'suspended';
      /** The suspended steps' paths, e.g. `[['outer', 'inner']]`. */
      suspended: [string[], ...string[][]];
      /** Each suspended step's payload, keyed by its top-level step id. */
      suspendPayload: Record<string, unknown>;
      result?: undefined;
      error?: undefined;
    })
  | (WorkflowResultBase<TInput> & {
      status: Exclude<RunStatus, 'success' | 'failed' | 'suspended'>;
      result?: undefined;
      error?: undefined;
      suspended?: undefined;
      suspendPayload?: undefined;
    });

/** Options of `createWorkflow`. */
export interface WorkflowOptions {
  /** Validate step inputs against their schemas (default true). */
  validateInputs?: boolean;
  onStart?: (info: CallbackInfo) => void | Promise<void>;
  onFinish?: (info: CallbackInfo) => void | Promise<void>;
  onError?: (info: CallbackInfo) => void | Promise<void>;
}

/** What the callbacks receive. */
export interface CallbackInfo {
  status: RunStatus;
  runId: string;
  workflowId: string;
  resourceId: string | undefined;
  result?: unknown;
  error?: SerializedError;
  steps: Record<string, StepResult>;
  state: Record<string, unknown>;
  stepExecutionPath: string[];
  requestContext: RequestContext<any>;
  getInitData<T = any>(): T;
  logger: Logger;
  weft?: unknown;
  mastra?: unknown;
}

/** The logger Weft writes to. `console` fits. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Condition of `.branch`, `.dowhile`, `.dountil`. */
export type ConditionFn = (ctx: ConditionContext) => boolean | Promise<boolean>;

/** What a condition receives. */
export interface ConditionContext {
  inputData: any;
  iterationCount: number;
  state: any;
  requestContext: RequestContext<any>;
  runId: string;
  workflowId: string;
  getStepResult<T = any>(step: string | { id: string }): T | undefined;
  getInitData<T = any>(): T;
  abort(): void;
  abortSignal: AbortSignal;
}
