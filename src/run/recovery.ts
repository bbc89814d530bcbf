// Crash recovery: restart the runs whose owner stopped renewing its lease.
import { WeftError } from '../errors.js';
import { RunHandle } from './run.js';
import type { Weft } from './weft.js';

const BATCH = 50;

/**
 * Claims every expired run of a workflow registered here (compare-and-set on the epoch it saw,
 * so two recovering instances never both take one) and continues it from its journal. Returns
 * how many runs it took over. The runs go on in the background.
 */
export async function recoverExpiredRuns(weft: Weft): Promise<number> {
  const expired = await weft.storage.listExpiredRuns(weft.clock.now(), BATCH);
  let taken = 0;
  for (const row of expired) {
    let workflow;
    try {
      workflow = weft.getWorkflow(row.workflowId);
    } catch {
      continue; // another instance serves this workflow
    }
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
