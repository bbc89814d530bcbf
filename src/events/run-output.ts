// The object stream(), resumeStream() and timeTravelStream() return: a live event stream plus the result.
import { serializeError } from '../engine/serialize-error.js';
import type { RunStatus } from '../storage/types.js';
import type { WorkflowResult } from '../workflow/types.js';
import type { WorkflowRunOutput } from '../run/run-types.js';
import { EventStream } from './event-stream.js';
import type { WorkflowEvent } from './event-types.js';

/** What the output needs from the engine instance. */
export interface EventSource {
  subscribe(runId: string, listener: (event: WorkflowEvent) => void): () => void;
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
  // Only a stream kept open across a suspension waits for the run's end.
  let ended: (() => void) | undefined;
  const runEnded = closeOnSuspend || !reload ? undefined : new Promise<void>((resolve) => (ended = resolve));
  const events = new EventStream(() => close());
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    events.end();
  };
  const push = (event: WorkflowEvent): void => {
    if (closed || !relaying) return;
    // Kept open across a suspension: that stop is not the end, one workflow-finish comes at the end.
    const final = event.type === 'workflow-finish' ? (event.payload?.workflowStatus as RunStatus) : undefined;
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
  const result = begin(() => (relaying = true)).then(
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
  return {
    runId,
    workflowId,
    fullStream: events.stream,
    result,
    get status() {
      return status;
    },
  };
}
