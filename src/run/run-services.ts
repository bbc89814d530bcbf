// What the run lifecycle needs of its engine instance, and no more: storage, time, logging, leases, this process's runs.
import type { ExecutionServices } from '../engine/execution.js';
import type { StepDispatch, WeftStorage } from '../storage/types.js';
import type { LocalRuns } from './local-runs.js';
import type { SuspendedRuns } from './suspended-runs.js';

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
   * The journals of runs that suspended here lately, from which a resume here plans without reading the
   * run back; none for a store that keeps values in this process (reading it costs nothing) or that does
   * not check `RunCondition.updatedAt`.
   */
  readonly suspended: SuspendedRuns | undefined;
  /**
   * Where step attempts go to be executed by any worker (made on first use), when the storage is shared
   * by workers: a restarted step that was dispatched is collected there, never executed again here.
   */
  stepDispatch(): StepDispatch | undefined;
  /** The workflows whose runs executing here dispatch their foreach items and parallel branches (`runWorker({ fanOut })`). */
  readonly fanOut: Set<string>;
  /** Opens storage (and starts recovery) if nothing has yet. */
  init(): Promise<void>;
}
