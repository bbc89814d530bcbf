// The row of a run as createRun stores it, for the adapters.
import type { NewRun, StoredRun } from './types.js';

/** The row `createRun` stores for `run`: pending, epoch 0, nothing else set. */
export function pendingRunRow(run: NewRun): StoredRun {
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    resourceId: run.resourceId,
    status: 'pending',
    epoch: 0,
    createdAt: run.createdAt,
    updatedAt: run.createdAt,
    leaseOwner: null,
    leaseExpiresAt: null,
    wakeAt: null,
    input: null,
    outcome: null,
  };
}
