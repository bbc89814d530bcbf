// Steps executed by any worker: what the executor hands a dispatcher, and what comes back.
//
// The run's own execution (the coordinator) keeps everything that makes a step durable: its start
// and end entries, input and output validation, retries, state merging, foreach progress and
// concurrency. Only the call of `execute` goes out: the attempt is stored for any worker, which
// calls it with a context rebuilt from the run's journal (`execute-attempt.ts`) and stores what it
// returned and asked for. The coordinator then settles the step as if `execute` had run here.
import type { EntryDataMap } from '../journal/entries.js';
import type { StepUsage } from '../workflow/step-usage.js';

/** One attempt of a step, to be executed by any worker: what its context is made of. */
export interface DispatchedAttempt {
  /** Unique per attempt: the step's dispatch id and the attempt's number (`<id>:<n>`). */
  attemptId: string;
  runId: string;
  workflowId: string;
  /** The coordinator's epoch: a worker reads the run's journal once per epoch. */
  epoch: number;
  /** The step's key (a foreach item `2[7]`, a parallel branch `2.1`, inside nested workflows `4/2[7]`). */
  key: string;
  inputData: unknown;
  /** The run's state when the attempt was dispatched. */
  state: Record<string, unknown>;
  requestContext: Record<string, unknown>;
  retryCount: number;
  /** The step was interrupted by a crash and runs again. */
  restarting: boolean;
}

/** What one attempt did: its value (or error), what it asked for, and what it wrote, in order. */
export interface AttemptResult {
  /** `execute` threw: `value` is the serialized error. */
  threw?: true;
  value: unknown;
  suspended?: { payload: unknown; labels?: string[] };
  bailed?: { value: unknown };
  stateUpdate?: Record<string, unknown>;
  /** The step called `abort()`: the run is canceled, its value still its output. */
  aborted?: true;
  usage?: StepUsage;
  /** `writer.write` and `writer.custom` calls, in order. */
  writes?: { type: 'step-output' | 'custom'; data: EntryDataMap['step-output'] | EntryDataMap['custom'] }[];
}

/** Where a run's step attempts go when they are executed by any worker. */
export interface StepDispatch {
  /** A new dispatch id, unique across processes. */
  newId(): string;
  /** Stores the attempt for any worker; settles with what it did once a worker executed it. */
  attempt(attempt: DispatchedAttempt): Promise<AttemptResult>;
  /**
   * The run's execution here (at `epoch`) stopped: its attempts are no longer waited for, and with
   * `cancel` (the run was canceled, not handed over to go on elsewhere) they are canceled wherever they
   * execute, unless the run was taken over past `epoch` without being canceled (its new owner awaits them).
   */
  stop(runId: string, epoch: number, cancel: boolean): void;
  /** The step's outcome is stored in the journal: its attempts may be forgotten. */
  recorded(dispatchId: string): void;
}
