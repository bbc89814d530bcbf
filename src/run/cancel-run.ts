// Canceling a stored run: what `run.cancel()` and `weft.cancelRun(runId)` do, with or without the workflow's definition.
import { recordStoredCancel } from './outcome.js';
import type { RunServices } from './run-services.js';

/**
 * Cancels a run: an execution in this process stops (its steps see their abortSignal fire) and records
 * the cancel itself; any other owner loses the run by the epoch bump and stops at its next write or lease
 * check. The run is `canceled` at once, its running steps recorded as canceled. A finished run is left as it is.
 */
export async function cancelRun(services: RunServices, runId: string): Promise<void> {
  const exec = services.local.execution(runId);
  if (exec) {
    exec.cancel();
    await exec.finished;
    // An execution whose claim was refused never held the run: whoever holds it is canceled through storage.
    if (!exec.writer.claimRefused) return;
  }
  await recordStoredCancel(services, runId);
}
