// A run's stored journal entries shown to its live listeners as stream events: the journal writer's announce callback.
import type { Announce } from '../journal/writer.js';
import type { RunProjection } from '../journal/projection.js';
import type { StepEndData } from '../journal/entries.js';
import { entryToEvent } from '../journal/to-events.js';
import type { WorkflowEvent } from './event-types.js';

/** Finds the listeners of a run, if any (a map lookup: free when nobody listens). */
export type ListenerLookup = (runId: string) => ReadonlySet<(event: WorkflowEvent) => void> | undefined;

/**
 * The announce callback of a run's journal writer: when somebody listens as an entry is added, makes
 * its event (with what its step's start recorded, from the projection) and, once the entry is
 * stored, shows it to the listeners of that moment. Nobody listening, it builds nothing.
 */
export function announceToListeners(
  runId: string,
  workflowId: string,
  listeners: ListenerLookup,
  projection: RunProjection,
): Announce {
  return (type, data, seq) => {
    const set = listeners(runId);
    if (!set || set.size === 0) return undefined;
    const started = type === 'step-end' ? projection.records.get((data as StepEndData).key) : undefined;
    const event = entryToEvent(type, data, seq, runId, workflowId, started);
    if (!event) return undefined;
    return () => {
      const now = listeners(runId);
      if (!now) return;
      for (const listener of now) {
        try {
          listener(event);
        } catch {
          // A listener's failure never touches the run.
        }
      }
    };
  };
}
