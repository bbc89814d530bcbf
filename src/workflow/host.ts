// The seam between a workflow object and the engine instance that runs it.
import type { Run, RunListFilter, RunListPage, WorkflowRunView } from '../run/run-types.js';
import type { Workflow } from './create-workflow.js';

/** What a workflow asks of the engine instance it is bound to (a `Weft`). */
export interface WorkflowHost {
  createRun(workflow: Workflow, options: { runId?: string; resourceId?: string }): Promise<Run>;
  getWorkflowRunById(
    workflow: Workflow,
    runId: string,
    options: { withNestedWorkflows?: boolean; fields?: string[] },
  ): Promise<WorkflowRunView | null>;
  listWorkflowRuns(workflow: Workflow, filter: RunListFilter): Promise<RunListPage>;
  deleteWorkflowRunById(workflow: Workflow, runId: string): Promise<void>;
  /** Restarts the workflow's running and waiting runs; resolves once they stop. */
  restartActiveRuns(workflow: Workflow): Promise<void>;
}

/**
 * A private in-memory engine for a workflow that was never registered with a `Weft`, made when the
 * workflow is first used (importing a module installs nothing): the engine module is loaded then, so
 * this layer does not import the one above it statically.
 */
export async function defaultHost(workflow: Workflow): Promise<WorkflowHost> {
  const { privateHost } = await import('../run/private-host.js');
  return privateHost(workflow);
}
