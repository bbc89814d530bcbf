// The engine of a workflow no `Weft` registered: a private in-memory instance, as Mastra's workflows without a Mastra keep their runs in memory.
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { WorkflowHost } from '../workflow/host.js';
import { Weft } from './weft.js';

/**
 * A private in-memory engine instance for `workflow`. Binding it does not commit the workflow, so an
 * uncommitted workflow is still refused when run (registration with `new Weft` commits, as in Mastra).
 */
export function privateHost(workflow: Workflow): WorkflowHost<Workflow> {
  const weft = new Weft({ storage: new MemoryStorage(), recovery: false });
  workflow.bindHost(weft);
  return weft;
}
