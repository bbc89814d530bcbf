// Reading a run with its journal: in one statement where the store can, else the row, then the journal.
import type { JournalEntry, StoredRun, WeftStorage } from './types.js';

/** A run's row and its whole journal. */
export interface RunWithJournal {
  run: StoredRun;
  journal: readonly JournalEntry[];
}

/**
 * The run and its whole journal, or null when there is no such run: through `readRunWithJournal` when
 * the store has it (one round trip, one snapshot), else `getRun` then `readJournal`.
 */
export async function readRunAndJournal(
  storage: Pick<WeftStorage, 'getRun' | 'readJournal' | 'readRunWithJournal'>,
  runId: string,
): Promise<RunWithJournal | null> {
  if (storage.readRunWithJournal) return storage.readRunWithJournal(runId);
  const run = await storage.getRun(runId);
  return run ? { run, journal: await storage.readJournal(runId) } : null;
}
