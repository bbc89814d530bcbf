// What run.watch() delivers: the events Mastra's watch gives, made from the run's live events.
import type { WorkflowEvent } from './event-types.js';

/** A watch callback; a promise it returns is not waited for, and its rejection is reported. */
export type WatchListener = (event: WorkflowEvent) => unknown;

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
 * metadata: {} }` (no `stepCallId` for a sleep or a foreach, as in Mastra). A step's writer events (`workflow-step-output`, `data-*`) come only while `streamed()`
 * says a stream relays the run: Mastra's steps write them to a stream's writer, which a run started
 * with `start()` does not have. Mastra publishes a step's finish just after its result, so branches of a parallel
 * block that end together show their results first, then their finishes. Here a branch's finish
 * waits for its sibling branches still running (at most `HOLD_MS`), and any other event delivers
 * the finishes waiting before it.
 */
export function watchEvents(
  listener: WatchListener,
  onError: (error: unknown) => void,
  streamed: () => boolean,
): Watcher {
  let held: WorkflowEvent[] = [];
  const running = new Set<string>();
  const withoutCallId = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const deliver = (event: WorkflowEvent): void => {
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
    for (const finish of now) deliver(finish);
  };
  return {
    push(event) {
      const key = keyOf(event);
      // Mastra's sleeps and foreach steps finish without a call id.
      if (event.type === 'workflow-step-waiting' || event.type === 'workflow-step-progress') {
        withoutCallId.add(event.payload?.id as string);
      }
      if (event.type === 'workflow-step-start' || event.type === 'workflow-step-waiting') {
        if (key !== undefined) running.add(key);
      } else if (key !== undefined) {
        running.delete(key);
      }
      if (event.type !== 'workflow-step-result') {
        releaseAll();
        if (event.type === 'workflow-start' || event.type === 'workflow-finish') return;
        if ((event.type === 'workflow-step-output' || event.type.startsWith('data-')) && !streamed()) return;
        deliver(event);
        return;
      }
      deliver(event);
      const id = event.payload?.id as string;
      held.push(finishOf(event, !withoutCallId.delete(id)));
      if (held.some((finish) => hasRunningSibling(keyOf(finish), running))) {
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

function finishOf(result: WorkflowEvent, withCallId: boolean): WorkflowEvent {
  const { id, stepCallId } = result.payload as { id: string; stepCallId?: string };
  return {
    type: 'workflow-step-finish',
    runId: result.runId,
    from: 'WORKFLOW',
    seq: result.seq,
    payload: withCallId && stepCallId !== undefined ? { id, stepCallId, metadata: {} } : { id, metadata: {} },
  };
}
