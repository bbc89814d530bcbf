// Canceling a stored run: what `run.cancel()` and `weft.cancelRun(runId)` do, with or without the workflow's definition.
import { CANCELABLE, canceledStepEnds, loadProjection, numbered } from './lifecycle.js';
import type { Weft } from './weft.js';

/**
 * Cancels a run: an execution in this process stops (its steps see their abortSignal fire); any
 * other owner loses the run by the epoch bump and stops at its next write or lease check. The run
 * is `canceled` at once, its running steps recorded as canceled. A finished run is left as it is.
 * Needs no workflow definition: everything it writes comes from the stored journal.
 */
export async function cancelRun(weft: Weft, runId: string): Promise<void> {
  const exec = weft.activeExecution(runId);
  if (exec) {
    exec.cancel();
    await exec.finished;
    // An execution whose claim was refused never held the run: whoever holds it is canceled through storage.
    if (!exec.writer.claimRefused) return;
  }
  const now = weft.clock.now();
  const row = await weft.storage.updateRun(
    runId,
    { status: CANCELABLE },
    { status: 'canceled', bumpEpoch: true, leaseOwner: null, leaseExpiresAt: null, wakeAt: null, updatedAt: now },
  );
  if (!row) return;
  const projection = await loadProjection(weft, runId);
  const end = { status: 'canceled' as const, state: projection.state, requestContext: projection.requestContext };
  let seq = projection.lastSeq;
  await weft.storage.appendJournal(runId, row.epoch, [
    ...canceledStepEnds(projection, now).map((e) => numbered(++seq, 'step-end', e, now)),
    numbered(++seq, 'run-cancel', {}, now),
    numbered(++seq, 'run-end', end, now),
  ]);
}
