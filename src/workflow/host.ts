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

let makeDefaultHost: ((workflow: never) => WorkflowHost<never>) | undefined;

/**
 * Installs how an unregistered workflow gets its private in-memory engine. The package entry does it
 * (`src/index.ts`, with `run/private-host.ts`): this layer does not import the engine's.
 */
export function setDefaultHostFactory<W>(factory: (workflow: W) => WorkflowHost<W>): void {
  makeDefaultHost = factory as (workflow: never) => WorkflowHost<never>;
}

/** A private in-memory engine for a workflow that was never registered with a `Weft`. */
export function defaultHost<W>(workflow: W): WorkflowHost<W> {
  if (!makeDefaultHost) throw new Error('weft: the engine module is not loaded; import from "weft"');
  return (makeDefaultHost as (workflow: W) => WorkflowHost<W>)(workflow);
}
