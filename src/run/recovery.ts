// Crash recovery: restart the runs whose owner stopped renewing its lease.
import { WeftError } from '../errors.js';
import { RunHandle } from './run.js';
import type { Weft } from './weft.js';

const BATCH = 50;
/** How far to look past expired runs of workflows served elsewhere before giving up for this pass. */
const MAX_SCAN = 5_000;

/**
 * Claims every expired run of a workflow registered here (compare-and-set on the epoch it saw,
 * so two recovering instances never both take one) and continues it from its journal. Returns
 * how many runs it took over. The runs go on in the background.
 */
export async function recoverExpiredRuns(weft: Weft): Promise<number> {
  const now = weft.clock.now();
  let expired = await weft.storage.listExpiredRuns(now, BATCH);
  // Expired runs of workflows served elsewhere (their instances are down) must not hide ours:
  // look further, up to a bound, while a full page held none of ours.
  for (let limit = BATCH * 10; ; limit *= 10) {
    const ours = expired.some((row) => weft.hasWorkflow(row.workflowId));
    if (ours || expired.length < limit / 10 || limit > MAX_SCAN) break;
    expired = await weft.storage.listExpiredRuns(now, limit);
  }
  let taken = 0;
  for (const row of expired) {
    if (!weft.hasWorkflow(row.workflowId)) continue; // another instance serves this workflow
    const workflow = weft.getWorkflow(row.workflowId);
    if (weft.activeExecution(row.runId)) continue;
    // Not `weft.createRun`: that waits for `init()`, which runs this very recovery at start-up.
    const run = new RunHandle(weft, workflow, row.runId, row.resourceId ?? undefined);
    const started = run.continueAfterCrash(row.epoch);
    taken++;
    started.catch((error: unknown) => {
      if (WeftError.is(error, 'RUN_ALREADY_CLAIMED')) return; // another instance was quicker
      weft.logger.error(`weft: recovery of run "${row.runId}" failed`, error);
    });
  }
  return taken;
}
