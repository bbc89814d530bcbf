// Follows a run's events from any process: stored events after a seq, then live ones.
import type { EntryDataMap } from '../journal/entries.js';
import { readEntry } from '../journal/encoding.js';
import type { JournalEntry, WeftStorage } from '../storage/types.js';
import type { WorkflowEvent } from './event-types.js';
import { entryToEvent, type StepStartFields } from '../journal/to-events.js';

/** What observing needs from the engine instance. */
export interface ObserveSource {
  storage: WeftStorage;
  /** Opens storage (migrations, recovery) if nothing has yet. */
  init(): Promise<void>;
  subscribe(runId: string, listener: (event: WorkflowEvent) => void): () => void;
}

const POLL_MS = 100;
const STOPPED = new Set(['success', 'failed', 'canceled', 'suspended', 'paused']);

/**
 * A stream of the run's events with `seq > afterSeq`: first what storage holds, then what comes,
 * each exactly once, until the run stops (finishes, suspends or pauses) or the reader cancels.
 * New entries are noticed through local listeners, the storage notifier, and a slow poll.
 */
export function observeRun(source: ObserveSource, runId: string, afterSeq: number): ReadableStream<WorkflowEvent> {
  let last = afterSeq;
  let done = false;
  let wake: (() => void) | undefined;
  const cleanups: (() => void)[] = [];
  const nudge = (): void => wake?.();
  return new ReadableStream<WorkflowEvent>({
    async start(controller) {
      await source.init();
      cleanups.push(source.subscribe(runId, nudge));
      if (source.storage.notifier) cleanups.push(source.storage.notifier.subscribe(runId, nudge));
      const row = await source.storage.getRun(runId);
      if (!row) {
        controller.close();
        return;
      }
      const workflowId = row.workflowId;
      // The journal is read from its start: a step's end event repeats what its start recorded.
      let read = 0;
      const starts = new Map<string, StepStartFields>();
      const emit = (entries: JournalEntry[]): void => {
        for (const e of entries) {
          if (e.seq <= read) continue;
          read = e.seq;
          const { type, data } = readEntry(e, runId);
          const key = (data as { key?: string }).key;
          if (type === 'step-start' && key !== undefined) starts.set(key, data as EntryDataMap['step-start']);
          if (e.seq <= last) continue;
          last = e.seq;
          const started = type === 'step-end' && key !== undefined ? starts.get(key) : undefined;
          const ev = entryToEvent(type, data, e.seq, runId, workflowId, started);
          if (ev) controller.enqueue(ev);
          if (e.type === 'run-end') done = true;
        }
      };
      void (async () => {
        try {
          while (!done) {
            emit(await source.storage.readJournal(runId, { afterSeq: read }));
            if (done) break;
            const current = await source.storage.getRun(runId);
            if (
              !current ||
              (STOPPED.has(current.status) &&
                (await source.storage.readJournal(runId, { afterSeq: read })).length === 0)
            )
              break;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, POLL_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
          controller.close();
        } catch (error) {
          controller.error(error);
        } finally {
          for (const c of cleanups) c();
        }
      })();
    },
    cancel() {
      done = true;
      wake?.();
      for (const c of cleanups) c();
    },
  });
}
