// Reading a stored run back: its journal folded into a projection.
import { RunProjection } from '../journal/projection.js';
import type { WeftStorage } from '../storage/types.js';

/** Reads a run's journal and folds it (each entry read through its format version). */
export async function loadProjection(storage: Pick<WeftStorage, 'readJournal'>, runId: string): Promise<RunProjection> {
  const projection = new RunProjection();
  projection.applyStored(await storage.readJournal(runId), runId);
  return projection;
}
