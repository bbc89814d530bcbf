// What the run lifecycle needs of its engine instance, and no more: storage, time, logging, leases, this process's runs.
import type { ExecutionServices } from '../engine/execution.js';
import type { StepDispatch } from '../engine/step-dispatch.js';
import type { WeftStorage } from '../storage/types.js';
import type { LocalRuns } from './local-runs.js';

/**
 * The services a run's handle, its plans and the pipeline that executes them are given (by `Weft`, which
 * builds one per instance). The executor's own needs (`logger`, `clock`, `instance`, `setWaiting`) are
 * a part of it, so an execution is handed the same object.
 */
export interface RunServices extends ExecutionServices {
  readonly storage: WeftStorage;
  /** The owner its leases name. */
  readonly instanceId: string;
  /** How long a lease lasts without renewal. */
  readonly leaseMs: number;
  /** Most `writer.write`/`custom` entries stored per run. */
  readonly maxOutputEntries: number;
  /** The runs executing in this process, their handles and live listeners. */
  readonly local: LocalRuns;
  /**
   * Where the runs of a workflow executing here send their foreach items and parallel branches, to be
   * executed by any worker; set by a worker that fans them out (`runWorker({ fanOut })`), else none.
   */
  dispatchFor?: ((workflowId: string) => StepDispatch | undefined) | undefined;
  /** Opens storage (and starts recovery) if nothing has yet. */
  init(): Promise<void>;
}
