// Reading a stored run back: its journal folded into a projection.
import type { EntryDataMap } from '../journal/entries.js';
import { RunProjection } from '../journal/projection.js';
import { entryValue } from '../journal/encoding.js';
import type { JournalEntry, JournalStore } from '../storage/types.js';

/** Reads a run's journal and folds it. */
export async function loadProjection(
  storage: Pick<JournalStore, 'readJournal'>,
  runId: string,
): Promise<RunProjection> {
  const projection = new RunProjection();
  foldEntries(projection, await storage.readJournal(runId));
  return projection;
}

/** Folds stored entries into `projection`, in order. */
export function foldEntries(projection: RunProjection, entries: readonly JournalEntry[]): void {
  for (const e of entries) projection.apply(e.type as keyof EntryDataMap, entryValue(e) as never, e.seq, e.at);
}
