// What run.watch() delivers: the events Mastra's watch gives, made from the run's live events.
import type { WatchEvent, WorkflowEvent } from './event-types.js';

/** A watch callback; a promise it returns is not waited for, and its rejection is reported. */
export type WatchListener = (event: WatchEvent) => unknown;

/** What the watcher needs to know of the run. */
export interface WatchedRun {
  /** True while a stream output relays the run (its steps' writer events reach watchers then). */
  streamed(): boolean;
  /** Whether the step at this key is a sleep or a foreach, whose events Mastra gives without a call id. */
  kindAt(key: string): 'sleep' | 'foreach' | 'step';
}

/** The live events of a run turned into watch events; `stop` drops what is still held. */
export interface Watcher {
  push(event: WorkflowEvent): void;
  stop(): void;
}

/** How long a step finish waits at most for the parallel branches that run beside it. */
const HOLD_MS = 50;

/**
 * As Mastra's `watch`: every event but `workflow-start` and `workflow-finish` (which Mastra's stream
 * output adds), and after each `workflow-step-result` a `workflow-step-finish` `{ id, stepCallId,
 * metadata: {} }`. A step's writer events (`workflow-step-output`, `data-*`) come only while a stream
 * relays the run: Mastra's steps write them to a stream's writer, which a run started with `start()`
 * does not have. Mastra publishes a step's finish just after its result, so branches of a parallel
 * block that end together show their results first, then their finishes. Here a branch's finish
 * waits for its sibling branches still running (at most `HOLD_MS`), and any other event delivers
 * the finishes waiting before it.
 */
export function watchEvents(listener: WatchListener, onError: (error: unknown) => void, run: WatchedRun): Watcher {
  /** Finishes waiting for their sibling branches, with their steps' keys. */
  let held: { finish: WatchEvent; key: string | undefined }[] = [];
  const running = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const deliver = (event: WatchEvent): void => {
    if (stopped) return;
    try {
      const returned = listener(event);
      if (returned instanceof Promise) returned.catch(onError);
    } catch (error) {
      onError(error);
    }
  };
  const releaseAll = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const now = held;
    held = [];
    for (const { finish } of now) deliver(finish);
  };
  return {
    push(event) {
      const key = keyOf(event);
      if (event.type === 'workflow-step-start' || event.type === 'workflow-step-waiting') {
        if (key !== undefined) running.add(key);
      } else if (key !== undefined) {
        running.delete(key);
      }
      if (event.type !== 'workflow-step-result') {
        releaseAll();
        if (event.type === 'workflow-start' || event.type === 'workflow-finish') return;
        const written = event.type === 'workflow-step-output' || event.type.startsWith('data-');
        if (written && !run.streamed()) return;
        deliver(toWatchEvent(event, key === undefined ? 'step' : run.kindAt(key)));
        return;
      }
      const kind = key === undefined ? 'step' : run.kindAt(key);
      deliver(toWatchEvent(event, kind));
      held.push({ finish: finishOf(event, kind), key });
      if (held.some((waiting) => hasRunningSibling(waiting.key, running))) {
        timer ??= setTimeout(releaseAll, HOLD_MS);
      } else {
        releaseAll();
      }
    },
    stop() {
      stopped = true;
      held = [];
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The step's key in its run (`stepCallId` is `<runId>:<key>`). */
function keyOf(event: WorkflowEvent): string | undefined {
  const callId = event.payload?.stepCallId as string | undefined;
  return callId?.slice(event.runId.length + 1);
}

/** True when the key is a branch of a parallel block (`<node>.<branch>`) and another branch of it runs. */
function hasRunningSibling(key: string | undefined, running: ReadonlySet<string>): boolean {
  const block = key?.match(/^(.*\.)\d+$/)?.[1];
  if (block === undefined) return false;
  for (const other of running) {
    if (other.startsWith(block) && /^\d+$/.test(other.slice(block.length))) return true;
  }
  return false;
}

/** Fields of a sleep's or a foreach's result in Mastra's watch (it has no call id, input or start). */
const BARE_RESULT = ['id', 'status', 'output', 'error', 'endedAt'];

/** The event in Mastra's watch shape: the stream event's payload without `stepName` and the fields Mastra's lacks. */
function toWatchEvent(event: WorkflowEvent, kind: 'sleep' | 'foreach' | 'step'): WatchEvent {
  const { type, runId, from, seq: _seq, payload, ...rest } = event;
  if (type === 'workflow-step-output') return { type, runId, from, payload };
  if (type.startsWith('data-')) return { ...rest, type };
  if (payload === undefined || type === 'workflow-canceled' || type === 'workflow-paused') return { type, payload };
  const { stepName: _stepName, ...shaped } = payload as Record<string, unknown>;
  if (type === 'workflow-step-suspended') delete shaped.endedAt;
  if (kind !== 'step') {
    if (type === 'workflow-step-result') {
      for (const field of Object.keys(shaped)) if (!BARE_RESULT.includes(field)) delete shaped[field];
    } else if (type === 'workflow-step-suspended') {
      // A foreach's item suspended: Mastra shows the item's suspension alone.
      const { __workflow_meta: _meta, ...suspendPayload } = (shaped.suspendPayload ?? {}) as Record<string, unknown>;
      return {
        type,
        payload: { id: shaped.id, status: shaped.status, suspendPayload, suspendedAt: shaped.suspendedAt },
      };
    } else {
      delete shaped.stepCallId;
    }
  }
  return { type, payload: shaped };
}

function finishOf(result: WorkflowEvent, kind: 'sleep' | 'foreach' | 'step'): WatchEvent {
  const { id, stepCallId } = result.payload as { id: string; stepCallId?: string };
  const payload = kind === 'step' && stepCallId !== undefined ? { id, stepCallId, metadata: {} } : { id, metadata: {} };
  return { type: 'workflow-step-finish', payload };
}
