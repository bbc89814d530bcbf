// Crash recovery: take over the runs whose owner stopped renewing its lease.
import { WeftError } from '../errors.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { RunHandle } from './run.js';
import type { RunServices } from './run-services.js';

const BATCH = 50;
/** How far to look past expired runs of workflows served elsewhere before giving up for this pass. */
const MAX_SCAN = 5_000;

/**
 * Claims every expired run of a workflow `workflowOf` knows (compare-and-set on the epoch it saw,
 * so two recovering instances never both take one) and continues it from its journal. Returns
 * how many runs it took over. The runs go on in the background.
 */
export async function recoverExpiredRuns(
  services: RunServices,
  workflowOf: (workflowId: string) => Workflow | undefined,
): Promise<number> {
  const { storage, local, logger } = services;
  const now = services.clock.now();
  let expired = await storage.listExpiredRuns(now, BATCH);
  // Expired runs of workflows served elsewhere (their instances are down) must not hide ours:
  // look further, up to a bound, while a full page held none of ours.
  for (let limit = BATCH * 10; ; limit *= 10) {
    const ours = expired.some((row) => workflowOf(row.workflowId) !== undefined);
    if (ours || expired.length < limit / 10 || limit > MAX_SCAN) break;
    expired = await storage.listExpiredRuns(now, limit);
  }
  let taken = 0;
  for (const row of expired) {
    const workflow = workflowOf(row.workflowId);
    if (!workflow) continue; // another instance serves this workflow
    if (local.stopped(row.runId)) continue; // executing here already
    const run = new RunHandle(services, workflow, row.runId, row.resourceId ?? undefined);
    const started = run.continueAfterCrash(row.epoch);
    local.noteTakeover(row.runId, started);
    taken++;
    started.catch((error: unknown) => {
      if (WeftError.is(error, 'RUN_ALREADY_CLAIMED')) return; // another instance was quicker
      logger.error(`weft: recovery of run "${row.runId}" failed`, error);
    });
  }
  return taken;
}
