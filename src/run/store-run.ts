// Storing a new run: a pending row of its workflow, or the stored run of that id.
import { WeftError } from '../errors.js';
import type { StoredRun, WeftStorage } from '../storage/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { RunServices } from './run-services.js';

/**
 * Stores a new pending run of `workflow`, or finds the stored run of that id, in one statement;
 * refuses a stored run of another workflow (WORKFLOW_MISMATCH).
 */
export async function storeRun(
  services: Pick<RunServices, 'clock'> & { storage: Pick<WeftStorage, 'createRun'> },
  workflow: Workflow,
  runId: string,
  resourceId: string | undefined,
): Promise<StoredRun> {
  const row = await services.storage.createRun({
    runId,
    workflowId: workflow.id,
    resourceId: resourceId ?? null,
    createdAt: services.clock.now(),
  });
  checkWorkflowOf(row, workflow);
  return row;
}

/** Refuses a stored run of another workflow than `workflow` (WORKFLOW_MISMATCH). */
export function checkWorkflowOf(row: StoredRun, workflow: Workflow): void {
  if (row.workflowId !== workflow.id) {
    throw new WeftError(
      'WORKFLOW_MISMATCH',
      `Run "${row.runId}" belongs to workflow "${row.workflowId}", not "${workflow.id}"`,
      { runId: row.runId, workflowId: workflow.id },
    );
  }
}
