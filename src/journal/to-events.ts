// Journal entries → stream events. Live runs and replays use this one mapping, so they agree.
import { inForeachItem, itemDepth } from './step-keys.js';
import type { EntryDataMap, EntryType } from './entries.js';
import type { TokenUsage, WorkflowEvent } from '../events/event-types.js';

/** Usage of a run: zero (shared by every event; never mutated). */
export const ZERO_USAGE: Readonly<TokenUsage> = {
  inputTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
  cachedInputTokens: 0,
  cacheCreationInputTokens: 0,
  reasoningTokens: 0,
};

/** What a step's start recorded, repeated in the events of its end (as the reference's payloads do). */
export interface StepStartFields {
  payload?: unknown;
  startedAt?: number;
  resumePayload?: unknown;
  resumedAt?: number;
}

function ev(
  type: WorkflowEvent['type'],
  runId: string,
  seq: number,
  payload: unknown,
  from: 'WORKFLOW' | 'USER' = 'WORKFLOW',
): WorkflowEvent {
  return { type, runId, from, seq, payload };
}

/**
 * The event one journal entry stands for, or undefined for internal entries such as branch choices.
 * `started` is what the step's start recorded, for the result and suspended events of its end.
 */
export function entryToEvent<T extends EntryType>(
  type: T,
  data: EntryDataMap[T],
  seq: number,
  runId: string,
  workflowId: string,
  started?: StepStartFields,
): WorkflowEvent | undefined {
  switch (type) {
    case 'run-start':
    case 'run-resume':
    case 'run-restart':
    case 'run-time-travel':
      return ev('workflow-start', runId, seq, { workflowId });
    case 'step-start': {
      const d = data as EntryDataMap['step-start'];
      // Foreach items, and the steps of a nested workflow run as one, show only as progress (as in the reference).
      if (d.item !== undefined || inForeachItem(d.key)) return undefined;
      const payload: Record<string, unknown> = {
        stepName: d.id,
        id: d.id,
        stepCallId: `${runId}:${d.key}`,
        payload: d.payload,
        startedAt: d.startedAt,
        status: d.status ?? 'running',
      };
      if (d.resumePayload !== undefined) payload.resumePayload = d.resumePayload;
      if (d.resumedAt !== undefined) payload.resumedAt = d.resumedAt;
      if (d.metadata !== undefined) payload.metadata = d.metadata;
      return ev(d.status === 'waiting' ? 'workflow-step-waiting' : 'workflow-step-start', runId, seq, payload);
    }
    case 'step-end': {
      const d = data as EntryDataMap['step-end'];
      if (d.item !== undefined) {
        if (itemDepth(d.key) > 1) return undefined; // inside an outer foreach item
        const progress: Record<string, unknown> = {
          stepName: d.id,
          id: d.id,
          completedCount: d.progress?.completedCount ?? 0,
          totalCount: d.progress?.totalCount ?? 0,
          currentIndex: d.item,
          iterationStatus: d.status,
        };
        if (d.status === 'success') progress.iterationOutput = d.output;
        return ev('workflow-step-progress', runId, seq, progress);
      }
      if (inForeachItem(d.key)) return undefined;
      const payload: Record<string, unknown> = { stepName: d.id, id: d.id, stepCallId: `${runId}:${d.key}` };
      if (started) {
        payload.payload = started.payload;
        payload.startedAt = started.startedAt;
        if (started.resumePayload !== undefined) payload.resumePayload = started.resumePayload;
        if (started.resumedAt !== undefined) payload.resumedAt = started.resumedAt;
      }
      // A bail shows as `bailed` in the stream, as in the reference, whatever the step's status became.
      payload.status = d.bailed ? 'bailed' : d.status;
      payload.endedAt = d.endedAt;
      if (d.status === 'suspended') {
        payload.suspendPayload = d.suspendPayload;
        payload.suspendedAt = d.suspendedAt;
        if (d.metadata !== undefined) payload.metadata = d.metadata;
        return ev('workflow-step-suspended', runId, seq, payload);
      }
      if ('output' in d) payload.output = d.output;
      if (d.error !== undefined) payload.error = d.error;
      if (d.metadata !== undefined) payload.metadata = d.metadata;
      return ev('workflow-step-result', runId, seq, payload);
    }
    case 'step-output': {
      const d = data as EntryDataMap['step-output'];
      return ev('workflow-step-output', runId, seq, { stepName: d.id, output: d.output, runId }, 'USER');
    }
    case 'custom': {
      const d = data as EntryDataMap['custom'];
      const { type: customType, ...rest } = d;
      return { ...rest, type: customType as WorkflowEvent['type'], runId, from: 'WORKFLOW', seq };
    }
    case 'run-cancel':
      return ev('workflow-canceled', runId, seq, {});
    case 'run-pause':
      return ev('workflow-paused', runId, seq, {});
    case 'run-end': {
      const d = data as EntryDataMap['run-end'];
      const payload: Record<string, unknown> = {
        workflowStatus: d.status,
        metadata: d.error ? { error: d.error, errorMessage: d.error.message } : {},
        output: { usage: d.usage ?? ZERO_USAGE },
      };
      if (d.status === 'success') payload.finalWorkflowResult = d.result;
      return ev('workflow-finish', runId, seq, payload);
    }
    default:
      return undefined;
  }
}
