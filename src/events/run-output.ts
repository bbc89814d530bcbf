// The object stream(), resumeStream() and timeTravelStream() return: a live event stream plus the result.
import { serializeError } from '../journal/serialize-error.js';
import type { RunStatus } from '../storage/types.js';
import type { WorkflowResult } from '../workflow/types.js';
import type { WorkflowRunOutput } from '../workflow/run-types.js';
import { EventStream } from './event-stream.js';
import type { TokenUsage, WorkflowEvent } from './event-types.js';
import { ZERO_USAGE } from '../journal/to-events.js';

/** What the output needs from the engine instance. */
export interface EventSource {
  subscribe(runId: string, listener: (event: WorkflowEvent) => void): () => void;
  /** Notes that a stream relays the run's events (watchers then get its writer events, as in Mastra); returns the release. */
  streamRun(runId: string): () => void;
}

const STATUS_OF: Partial<Record<WorkflowEvent['type'], RunStatus>> = {
  'workflow-step-suspended': 'suspended',
  'workflow-canceled': 'canceled',
  'workflow-paused': 'paused',
};

/**
 * Subscribes to the run's events, then calls `begin` (which starts or resumes the run). Events
 * are relayed once `begin` reports that it claimed the run, so a caller that loses the claim to
 * another never shows that other's events. The stream never applies back-pressure to the run:
 * a slow reader only grows its own queue.
 */
export function createRunOutput<TOutput>(
  source: EventSource,
  runId: string,
  workflowId: string,
  begin: (claimed: () => void) => Promise<WorkflowResult<any, any>>,
  closeOnSuspend: boolean,
  /** Reads the run's result once a stream kept open across a suspension sees the run end. */
  reload?: () => Promise<WorkflowResult<any, any>>,
): WorkflowRunOutput<TOutput> {
  let closed = false;
  let seen = 0;
  let status: RunStatus = 'running';
  let relaying = false;
  /** Tokens the run's agent steps used while this stream carried it (its workflow-finish events say). */
  let usage: TokenUsage | undefined;
  // Only a stream kept open across a suspension waits for the run's end.
  let ended: (() => void) | undefined;
  const runEnded = closeOnSuspend || !reload ? undefined : new Promise<void>((resolve) => (ended = resolve));
  const events = new EventStream(() => close());
  let unstream: (() => void) | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unstream?.();
    events.end();
  };
  const push = (event: WorkflowEvent): void => {
    if (closed || !relaying) return;
    // Kept open across a suspension: that stop is not the end, one workflow-finish comes at the end.
    const final = event.type === 'workflow-finish' ? (event.payload?.workflowStatus as RunStatus) : undefined;
    if (final !== undefined) usage = addUsage(usage, event.payload?.output?.usage);
    if (final === 'suspended' && !closeOnSuspend) return;
    seen++;
    events.push(event);
    const s = STATUS_OF[event.type];
    if (s) status = s;
    if (event.type === 'workflow-step-result' && event.payload?.status === 'failed') status = 'failed';
    if (final !== undefined) {
      status = final;
      close();
      ended?.();
    }
  };
  const unsubscribe = source.subscribe(runId, push);
  const result = begin(() => {
    relaying = true;
    unstream = source.streamRun(runId);
  }).then(
    async (r) => {
      if (r.status === 'suspended' && runEnded && reload) {
        // The result is the run's final one, after the resumes this stream goes on carrying.
        await runEnded;
        return (await reload()) as WorkflowResult<unknown, TOutput>;
      }
      if (!closed && !(r.status === 'suspended' && !closeOnSuspend)) close();
      return r as WorkflowResult<unknown, TOutput>;
    },
    (error: unknown) => {
      if (!closed) {
        relaying = true;
        const serialized = serializeError(error);
        if (seen === 0) push({ type: 'workflow-start', runId, from: 'WORKFLOW', seq: 0, payload: { workflowId } });
        push({
          type: 'workflow-finish',
          runId,
          from: 'WORKFLOW',
          seq: 0,
          payload: { workflowStatus: 'failed', metadata: { error: serialized, errorMessage: serialized.message } },
        });
        close();
      }
      throw error;
    },
  );
  result.catch(() => undefined); // the caller may read only the stream
  return new RunOutput(
    runId,
    workflowId,
    events.stream,
    result,
    () => status,
    () => usage,
  );
}

/**
 * The output object. Its own methods are the stream's, for programs that use it as one (Mastra's
 * `WorkflowRunOutput` allows it): `for await (const event of run.stream(...))` reads `fullStream`.
 */
class RunOutput<TOutput> implements WorkflowRunOutput<TOutput> {
  constructor(
    readonly runId: string,
    readonly workflowId: string,
    readonly fullStream: WorkflowRunOutput<TOutput>['fullStream'],
    readonly result: Promise<WorkflowResult<unknown, TOutput>>,
    private readonly readStatus: () => RunStatus,
    private readonly readUsage: () => TokenUsage | undefined = () => undefined,
  ) {}

  get status(): RunStatus {
    return this.readStatus();
  }

  get usage(): Promise<TokenUsage> {
    const settled = (): TokenUsage => ({ ...ZERO_USAGE, ...this.readUsage() });
    return this.result.then(settled, settled);
  }

  /** Reads the stream to its end without keeping its events; `onError` gets a failure to read. */
  async consumeStream(options?: { onError?: (error: unknown) => void }): Promise<void> {
    const reader = this.fullStream.getReader();
    try {
      while (!(await reader.read()).done);
    } catch (error) {
      options?.onError?.(error);
    } finally {
      reader.releaseLock();
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WorkflowEvent> {
    return this.fullStream[Symbol.asyncIterator]() as AsyncIterableIterator<WorkflowEvent>;
  }

  get locked(): boolean {
    return this.fullStream.locked;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.fullStream.cancel(reason);
  }

  getReader(): ReadableStreamDefaultReader<WorkflowEvent> {
    return this.fullStream.getReader();
  }

  pipeThrough<T>(transform: ReadableWritablePair<T, WorkflowEvent>, options?: StreamPipeOptions): ReadableStream<T> {
    return this.fullStream.pipeThrough(transform, options);
  }

  pipeTo(destination: WritableStream<WorkflowEvent>, options?: StreamPipeOptions): Promise<void> {
    return this.fullStream.pipeTo(destination, options);
  }

  tee(): [ReadableStream<WorkflowEvent>, ReadableStream<WorkflowEvent>] {
    return this.fullStream.tee();
  }

  toReadableStream(): ReadableStream<WorkflowEvent> {
    return this.fullStream;
  }
}

/** Adds the usage a `workflow-finish` reports to what the stream saw before (a kept-open stream sees several). */
function addUsage(sum: TokenUsage | undefined, reported: TokenUsage | undefined): TokenUsage | undefined {
  if (!reported || reported.totalTokens + reported.inputTokens + reported.outputTokens === 0) return sum;
  if (!sum) return { ...reported };
  for (const field of Object.keys(sum) as (keyof TokenUsage)[]) sum[field] += reported[field] ?? 0;
  return sum;
}
