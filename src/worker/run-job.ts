// Executing one queue job on a worker: start or resume its run, and tell a claim conflict from a failure.
import { WeftError } from '../errors.js';
import type { Weft } from '../run/weft.js';
import type { RunStatus, StoredRun } from '../storage/types.js';
import { storedRunHandle } from '../run/weft.js';
import { checkWorkflowOf } from '../run/store-run.js';
import type { WeftJob } from './job-payload.js';

/** What a worker did with one job. */
export interface WorkerRunReport {
  action: WeftJob['action'];
  runId: string;
  workflowId: string;
  /**
   * The run's status when this worker's execution stopped; `skipped` when there was nothing to
   * do (another worker or caller claimed the run first, or it finished), `handed-over` when the
   * worker shut down while the run still executed, or when storage failed after the run was claimed
   * (`OUTCOME_UNKNOWN`): recovery, on this worker or another, continues the run.
   */
  outcome: RunStatus | 'skipped' | 'handed-over';
  /** Why the job was skipped, or the run's error message when it failed. */
  detail?: string;
  durationMs: number;
}

/** Errors that another attempt of the same job would hit again: the job is done, with an error logged. */
const PERMANENT = new Set<string>([
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_MISMATCH',
  'INVALID_ARGUMENT',
  'INVALID_INPUT',
  'INVALID_INITIAL_STATE',
  'INVALID_REQUEST_CONTEXT',
  'INVALID_RESUME_DATA',
  'STEP_NOT_FOUND',
  'STEP_NOT_SUSPENDED',
  'MULTIPLE_SUSPENDED_STEPS',
  'RESUME_LABEL_NOT_FOUND',
  'RUN_NOT_FOUND',
]);

/** Errors that mean someone else owns or owned the run: the engine's compare-and-set already kept it exactly-once. */
const CONFLICT = new Set<string>(['RUN_ALREADY_CLAIMED', 'RUN_NOT_SUSPENDED', 'RUN_OWNERSHIP_LOST']);

type Settled = { outcome: RunStatus; detail?: string } | { outcome: 'skipped'; detail: string };

/** Why a job has nothing to do, judged from the stored run; null when it should execute. */
function staleReason(row: StoredRun, job: WeftJob): string | null {
  if (job.action === 'start') return row.status === 'pending' ? null : `the run is already "${row.status}"`;
  if (row.epoch !== job.epoch) return `the run was already resumed (now "${row.status}")`;
  return row.status === 'suspended' ? null : `the run is "${row.status}", not suspended`;
}

async function execute(weft: Weft, workflowId: string, job: WeftJob): Promise<Settled> {
  const row = await weft.storage.getRun(job.runId);
  if (!row) return { outcome: 'skipped', detail: 'the run was deleted' };
  const stale = staleReason(row, job);
  if (stale !== null) return { outcome: 'skipped', detail: stale };
  const workflow = weft.getWorkflow(workflowId);
  checkWorkflowOf(row, workflow);
  // The row was just read: the handle is made from it, without storing or reading the run again.
  const run = storedRunHandle(weft, workflow, row);
  const result =
    job.action === 'start'
      ? await run.start({
          inputData: job.inputData,
          ...(job.initialState !== undefined ? { initialState: job.initialState } : {}),
          ...(job.requestContext !== undefined ? { requestContext: job.requestContext } : {}),
          ...(job.perStep ? { perStep: true } : {}),
        })
      : await run.resume({
          resumeData: job.resumeData,
          ...(job.step !== undefined ? { step: job.step } : {}),
          ...(job.label !== undefined ? { label: job.label } : {}),
          ...(job.forEachIndex !== undefined ? { forEachIndex: job.forEachIndex } : {}),
          ...(job.requestContext !== undefined ? { requestContext: job.requestContext } : {}),
          ...(job.perStep ? { perStep: true } : {}),
        });
  const error = (result as { error?: { message?: unknown } }).error;
  return {
    outcome: result.status as RunStatus,
    ...(typeof error?.message === 'string' ? { detail: error.message } : {}),
  };
}

/**
 * Starts or resumes the job's run and waits until it stops here. A claim conflict (another
 * worker or caller was first) or a run already past this job ends as `skipped`, so a retried or
 * duplicated job is harmless. An error no retry can fix is logged and ends the job; any other
 * (storage unreachable, ...) is thrown for graphile-worker to retry. When `abortSignal` fires
 * (shutdown), the job ends at once as `handed-over`: the run keeps its lease until this process
 * exits, then another worker's recovery continues it.
 */
export async function runJob(
  weft: Weft,
  workflowId: string,
  job: WeftJob,
  abortSignal: AbortSignal,
): Promise<WorkerRunReport> {
  const began = Date.now();
  const report = (
    settled: Omit<WorkerRunReport, 'action' | 'runId' | 'workflowId' | 'durationMs'>,
  ): WorkerRunReport => ({
    action: job.action,
    runId: job.runId,
    workflowId,
    ...settled,
    durationMs: Date.now() - began,
  });
  const executing = execute(weft, workflowId, job);
  let stopWaiting: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    stopWaiting = whenAborted(abortSignal, () => resolve('aborted'));
  });
  try {
    const settled = await Promise.race([executing, aborted]);
    if (settled === 'aborted') {
      executing.catch(() => undefined);
      return report({ outcome: 'handed-over', detail: 'the worker is shutting down' });
    }
    return report(settled);
  } catch (error) {
    if (WeftError.is(error) && CONFLICT.has(error.code)) return report({ outcome: 'skipped', detail: error.message });
    // Claimed, then storage failed: recovery continues the run (here or on another worker); a retry of the job would skip.
    if (WeftError.is(error, 'OUTCOME_UNKNOWN')) return report({ outcome: 'handed-over', detail: error.message });
    if (WeftError.is(error) && PERMANENT.has(error.code)) {
      weft.logger.error(`weft worker: cannot ${job.action} run "${job.runId}"; the job is dropped`, error);
      return report({ outcome: 'skipped', detail: error.message });
    }
    throw error;
  } finally {
    stopWaiting?.();
  }
}

/** The jobs waiting on each shutdown signal: graphile-worker gives all of a worker's jobs the same one. */
const waitingOn = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` when `signal` aborts (at once if it has); returns a function that stops waiting.
 * One listener per signal, whatever the number of jobs in flight: a listener per job exceeded Node's
 * limit of 10 (MaxListenersExceededWarning) at the default concurrency.
 */
function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let waiting = waitingOn.get(signal);
  if (!waiting) {
    const callbacks = new Set<() => void>();
    waitingOn.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        waitingOn.delete(signal);
        for (const call of callbacks) call();
      },
      { once: true },
    );
    waiting = callbacks;
  }
  const set = waiting;
  set.add(callback);
  return () => set.delete(callback);
}
