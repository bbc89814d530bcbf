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

let makeDefaultHost: ((workflow: Workflow) => WorkflowHost) | undefined;

/** Installs how an unregistered workflow gets its private in-memory engine (done by the `Weft` module). */
export function setDefaultHostFactory(factory: (workflow: Workflow) => WorkflowHost): void {
  makeDefaultHost = factory;
}

/** A private in-memory engine for a workflow that was never registered with a `Weft`. */
export function defaultHost(workflow: Workflow): WorkflowHost {
  if (!makeDefaultHost) throw new Error('weft: the engine module is not loaded; import from "weft"');
  return makeDefaultHost(workflow);
}
