// The seam between a workflow object and the engine instance that runs it.
import type { Run, RunListFilter, RunListPage, WorkflowRunView } from './run-types.js';

/** What a workflow (`W`: `Workflow`) asks of the engine instance it is bound to (a `Weft`). */
export interface WorkflowHost<W> {
  createRun(workflow: W, options: { runId?: string; resourceId?: string }): Promise<Run>;
  getWorkflowRunById(
    workflow: W,
    runId: string,
    options: { withNestedWorkflows?: boolean; fields?: string[] },
  ): Promise<WorkflowRunView | null>;
  listWorkflowRuns(workflow: W, filter: RunListFilter): Promise<RunListPage>;
  deleteWorkflowRunById(workflow: W, runId: string): Promise<void>;
  /** Restarts the workflow's running and waiting runs; resolves once they stop. */
  restartActiveRuns(workflow: W): Promise<void>;
}

/**
 * A private in-memory engine for a workflow that was never registered with a `Weft`, made when the
 * workflow is first used: importing a module installs nothing. The engine module is loaded then, the
 * one import of this layer that reaches above it (a dynamic one, allowed by name in the layer rules).
 */
export async function defaultHost<W>(workflow: W): Promise<WorkflowHost<W>> {
  const { privateHost } = await import('../run/private-host.js');
  return privateHost(workflow as never) as unknown as WorkflowHost<W>;
}
