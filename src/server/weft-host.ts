// The part of a Weft instance the HTTP server uses: workflows by id, stored runs, and their event streams.
import type { Workflow } from '../workflow/create-workflow.js';
import type { RunListPage, WorkflowRunView } from '../workflow/run-types.js';
import type { WorkflowEvent } from '../events/event-types.js';
import type { RunStatus, WeftStorage } from '../storage/types.js';
import type { Schedules } from '../schedule/schedules.js';

/** Filter of `listRuns` across all workflows. */
export interface ServedRunFilter {
  workflowId?: string;
  status?: RunStatus | RunStatus[];
  resourceId?: string;
  fromDate?: Date | number;
  toDate?: Date | number;
  scheduleId?: string;
  page?: number;
  perPage?: number;
}

/**
 * What `createServer` needs from the engine instance. A `Weft` satisfies it; the interface keeps
 * the server to the engine's public surface.
 */
export interface ServedWeft {
  getWorkflow(id: string): Workflow;
  listWorkflows(): Record<string, Workflow>;
  getRun(runId: string): Promise<WorkflowRunView | null>;
  listRuns(filter?: ServedRunFilter): Promise<RunListPage>;
  deleteRun(runId: string): Promise<unknown>;
  observeRun(runId: string, options?: { afterSeq?: number }): ReadableStream<WorkflowEvent>;
  readonly storage: WeftStorage;
  readonly schedules: Pick<Schedules, 'list' | 'get' | 'pause' | 'resume' | 'trigger' | 'delete'>;
}

/** The loaded workflow with the given id (or registration key), or undefined. */
export function findWorkflow(weft: ServedWeft, workflowId: string): Workflow | undefined {
  const all = weft.listWorkflows();
  if (Object.prototype.hasOwnProperty.call(all, workflowId)) return all[workflowId];
  return Object.values(all).find((wf) => wf.id === workflowId);
}
