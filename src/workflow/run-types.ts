// Public types of runs: the Run handle's arguments and results, stored-run views and list pages.
import type { RequestContext } from '../request-context.js';
import type { RunStatus } from '../storage/types.js';
import type { StepResult, WorkflowResult } from './types.js';
import type { TokenUsage, WatchEvent, WorkflowEvent } from '../events/event-types.js';

export interface OutputOptions {
  includeState?: boolean;
  includeResumeLabels?: boolean;
}

export interface StartArgs<TInput = any> {
  inputData?: TInput;
  initialState?: Record<string, unknown>;
  requestContext?: RequestContext<any> | Record<string, unknown>;
  /** Run one entry of the graph, then stop with status `paused`. */
  perStep?: boolean;
  outputOptions?: OutputOptions;
}

/** A step to address: a step or workflow object, an id, a dotted id, or a path of those. */
export type StepTarget = string | { id: string } | readonly (string | { id: string })[];

export interface ResumeArgs<TResume = any> {
  resumeData?: TResume;
  step?: StepTarget;
  label?: string;
  forEachIndex?: number;
  requestContext?: RequestContext<any> | Record<string, unknown>;
  perStep?: boolean;
  outputOptions?: OutputOptions;
}

export interface TimeTravelArgs<TInput = any> {
  step: StepTarget;
  inputData?: TInput;
  resumeData?: unknown;
  initialState?: Record<string, unknown>;
  context?: Record<string, Partial<StepResult> & { status?: string }>;
  nestedStepsContext?: Record<string, Record<string, Partial<StepResult> & { status?: string }>>;
  requestContext?: RequestContext<any> | Record<string, unknown>;
  perStep?: boolean;
  outputOptions?: OutputOptions;
}

export interface StreamArgs<TInput = any> extends StartArgs<TInput> {
  /** Close the stream when the run suspends (default true); with false it carries the resume's events too. */
  closeOnSuspend?: boolean;
}

/**
 * What `stream`, `resumeStream` and `timeTravelStream` return, synchronously. The object itself is
 * async-iterable too: `for await (const event of run.stream(...))` reads `fullStream`.
 */
export interface WorkflowRunOutput<TOutput = unknown> extends AsyncIterable<WorkflowEvent> {
  readonly runId: string;
  readonly workflowId: string;
  /** The run's events: a web ReadableStream, async-iterable (typed so without the DOM.AsyncIterable lib). */
  readonly fullStream: ReadableStream<WorkflowEvent> & AsyncIterable<WorkflowEvent>;
  /** Settles with the result without the stream being read; rejects when the start itself is refused. */
  readonly result: Promise<WorkflowResult<unknown, TOutput>>;
  /** The status as far as the events seen so far tell. */
  readonly status: RunStatus;
  /** Token usage once the run stops: all zeros, as workflow steps use no model (Mastra's field). */
  readonly usage: Promise<TokenUsage>;
  /** Reads the stream to its end, dropping its events. */
  consumeStream(options?: { onError?: (error: unknown) => void }): Promise<void>;
  /** Reads `fullStream`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<WorkflowEvent>;
  /** @deprecated Mastra's alias: use `fullStream.locked`. */
  readonly locked: boolean;
  /** @deprecated Mastra's alias: use `fullStream.cancel()`. */
  cancel(reason?: unknown): Promise<void>;
  /** @deprecated Mastra's alias: use `fullStream.getReader()`. */
  getReader(): ReadableStreamDefaultReader<WorkflowEvent>;
  /** @deprecated Mastra's alias: use `fullStream.pipeThrough()`. */
  pipeThrough<T>(transform: ReadableWritablePair<T, WorkflowEvent>, options?: StreamPipeOptions): ReadableStream<T>;
  /** @deprecated Mastra's alias: use `fullStream.pipeTo()`. */
  pipeTo(destination: WritableStream<WorkflowEvent>, options?: StreamPipeOptions): Promise<void>;
  /** @deprecated Mastra's alias: use `fullStream.tee()`. */
  tee(): [ReadableStream<WorkflowEvent>, ReadableStream<WorkflowEvent>];
  /** @deprecated Mastra's alias: use `fullStream`. */
  toReadableStream(): ReadableStream<WorkflowEvent>;
}

/** A stored run as `getWorkflowRunById` shows it. */
export interface WorkflowRunView {
  runId: string;
  workflowName: string;
  resourceId: string | null;
  createdAt: Date;
  updatedAt: Date;
  status: RunStatus;
  payload?: unknown;
  result?: unknown;
  error?: unknown;
  steps: Record<string, StepResult>;
  stepExecutionPath: string[];
  suspended?: string[][];
  suspendPayload?: Record<string, unknown>;
  resumeLabels?: Record<string, { stepId: string; foreachIndex?: number }>;
  state?: Record<string, unknown>;
  requestContext?: Record<string, unknown>;
  /** Each foreach's items by the foreach's step id, in index order (holes for items that never ran). */
  foreachItems?: Record<string, StepResult[]>;
  /** Earlier attempts that time travel replaced, oldest first: the step results as they were. */
  attempts: { attempt: number; startedAt: number; steps: Record<string, StepResult> }[];
  /** The last journal sequence number (events are numbered the same way). */
  lastSeq: number;
}

export interface RunListFilter {
  status?: RunStatus | RunStatus[];
  resourceId?: string;
  fromDate?: Date | number;
  toDate?: Date | number;
  /** Only the runs of this schedule's fires (`wf_<workflowId>` or `wf_<workflowId>__<id>`). */
  scheduleId?: string;
  page?: number;
  perPage?: number | false;
}

export interface RunListPage {
  runs: {
    runId: string;
    workflowName: string;
    resourceId: string | null;
    status: RunStatus;
    createdAt: Date;
    updatedAt: Date;
    /** The schedule whose fire started the run, for a scheduled run. */
    scheduleId?: string;
  }[];
  total: number;
}

/** The handle of one run. */
export interface Run<TInput = any, TOutput = any> {
  readonly runId: string;
  readonly workflowId: string;
  readonly resourceId: string | undefined;
  start(args?: StartArgs<TInput>): Promise<WorkflowResult<TInput, TOutput>>;
  startAsync(args?: StartArgs<TInput>): Promise<{ runId: string }>;
  stream(args?: StreamArgs<TInput>): WorkflowRunOutput<TOutput>;
  resume(args?: ResumeArgs): Promise<WorkflowResult<TInput, TOutput>>;
  resumeAsync(args?: ResumeArgs): Promise<{ runId: string }>;
  resumeStream(args?: ResumeArgs & { closeOnSuspend?: boolean }): WorkflowRunOutput<TOutput>;
  cancel(): Promise<void>;
  restart(args?: {
    requestContext?: RequestContext<any> | Record<string, unknown>;
  }): Promise<WorkflowResult<TInput, TOutput>>;
  timeTravel(args: TimeTravelArgs): Promise<WorkflowResult<TInput, TOutput>>;
  timeTravelStream(args: TimeTravelArgs & { closeOnSuspend?: boolean }): WorkflowRunOutput<TOutput>;
  /**
   * Calls `listener` with each step event of the run from now on, in this process, as Mastra's
   * `watch`: no `workflow-start`/`workflow-finish`, a `workflow-step-finish` after each step result.
   * Returns an unsubscribe function.
   */
  watch(listener: (event: WatchEvent) => unknown): () => void;
  /** Same as `watch`, resolving with the unwatch function. */
  watchAsync(listener: (event: WatchEvent) => unknown): Promise<() => void>;
  /** The output of this handle's `stream()` while its run is live, else undefined. */
  readonly streamOutput: WorkflowRunOutput<TOutput> | undefined;
  /** The run's events after `fromSeq` (stored ones first), then live ones until it stops. Works from any process. */
  observeStream(options?: { fromSeq?: number }): ReadableStream<WorkflowEvent>;
}
