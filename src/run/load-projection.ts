// Reading a stored run back: its journal folded into a projection.
import { RunProjection } from '../journal/projection.js';
import type { JournalEntry, WeftStorage } from '../storage/types.js';

/** Reads a run's journal and folds it (each entry read through its format version). */
export async function loadProjection(storage: Pick<WeftStorage, 'readJournal'>, runId: string): Promise<RunProjection> {
  return projectionOf(runId, await storage.readJournal(runId));
}

/** A run's journal, as read, folded (each entry read through its format version). */
export function projectionOf(runId: string, journal: readonly JournalEntry[]): RunProjection {
  const projection = new RunProjection();
  projection.applyStored(journal, runId);
  return projection;
}
