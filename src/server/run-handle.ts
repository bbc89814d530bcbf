// Finding a stored run and the loaded workflow it belongs to, with errors that quote both ids.
import { WeftError } from '../errors.js';
import type { Run, WorkflowRunView } from '../workflow/run-types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { findWorkflow, type ServedWeft } from './weft-host.js';

/** The stored view of a run; throws RUN_NOT_FOUND (404) when there is none. */
export async function requireRunView(weft: ServedWeft, runId: string): Promise<WorkflowRunView> {
  const view = await weft.getRun(runId);
  if (!view) throw new WeftError('RUN_NOT_FOUND', `Run "${runId}" not found`, { runId });
  return view;
}

/** The loaded workflow a stored run belongs to; throws WORKFLOW_NOT_FOUND (404) when this server has not loaded it. */
function requireRunWorkflow(weft: ServedWeft, view: WorkflowRunView): Workflow {
  const workflow = findWorkflow(weft, view.workflowName);
  if (!workflow) {
    throw new WeftError(
      'WORKFLOW_NOT_FOUND',
      `Run "${view.runId}" belongs to workflow "${view.workflowName}", which this server has not loaded; serve a --workflows file that defines it`,
      { runId: view.runId, workflowId: view.workflowName },
    );
  }
  return workflow;
}

/** A Run handle operating the stored run `runId`, after checking it exists and its workflow is loaded. */
export async function openStoredRun(weft: ServedWeft, runId: string): Promise<{ view: WorkflowRunView; run: Run }> {
  const view = await requireRunView(weft, runId);
  const workflow = requireRunWorkflow(weft, view);
  const run = await workflow.createRun({ runId, ...(view.resourceId ? { resourceId: view.resourceId } : {}) });
  return { view, run };
}
