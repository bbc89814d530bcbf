// Runs this process saw suspend, with their journal as stored: a resume here plans from that copy
// rather than read the run back from storage.
import type { JournalEntry } from '../storage/types.js';

/** A run as this process stored it when it suspended. */
export interface SuspendedCopy {
  /** The epoch and `updatedAt` of the row the suspension stored: the resume's claim requires both. */
  epoch: number;
  updatedAt: number;
  /** The whole journal as stored (entries with their JSON text), in seq order. */
  journal: readonly JournalEntry[];
  /**
   * Set once the copy no longer tells where the run stands because of this process: the run was
   * claimed here since (by another resume, a time travel...), deleted here, or written to after its
   * suspension. A resume planned from it and refused then lost to that, rather than to a change made
   * elsewhere.
   */
  superseded?: boolean;
}

/** Runs copied at most; the oldest copy goes first. */
const MAX_RUNS = 1000;
/** The longest journal copied: a longer one is read back from storage on resume. */
export const MAX_COPIED_ENTRIES = 2000;
/** The most JSON text one copied journal holds (characters). */
export const MAX_COPIED_TEXT = 256 * 1024;
/** What an entry costs beyond its text (its object, seq, type and time), counted as characters of text. */
const ENTRY_OVERHEAD = 100;
/** The most all copies hold together (characters of text and `ENTRY_OVERHEAD`s); the oldest copies go first. */
const MAX_TOTAL_TEXT = 32 * 1024 * 1024;

/**
 * The journals of the runs that suspended here lately. A copy is a hint, never the truth: the resume
 * that plans from it claims the run on condition that its epoch and `updatedAt` are still the copied
 * ones, so a run resumed, canceled, time-travelled, or deleted and created again elsewhere since is
 * refused, and the resume plans again from storage (`Run.resume`).
 */
export class SuspendedRuns {
  /** Each copy with the length of its JSON text, oldest first. */
  private readonly copies = new Map<string, { copy: SuspendedCopy; text: number }>();
  private text = 0;

  /** Keeps `copy` as the run's latest, unless its journal is too large to be worth keeping. */
  remember(runId: string, copy: SuspendedCopy): void {
    this.forget(runId);
    const { length } = copy.journal;
    const text = textOf(copy.journal);
    if (length > MAX_COPIED_ENTRIES || text - ENTRY_OVERHEAD * length > MAX_COPIED_TEXT) return;
    this.copies.set(runId, { copy, text });
    this.text += text;
    while (this.copies.size > MAX_RUNS || this.text > MAX_TOTAL_TEXT) this.forget(this.copies.keys().next().value!);
  }

  get(runId: string): SuspendedCopy | undefined {
    return this.copies.get(runId)?.copy;
  }

  /** Drops the run's copy, marked `superseded`: the run was claimed or deleted here, or written to since. */
  forget(runId: string): void {
    const kept = this.copies.get(runId);
    if (!kept) return;
    kept.copy.superseded = true;
    this.copies.delete(runId);
    this.text -= kept.text;
  }
}

/** What a journal's copy costs: its text and `ENTRY_OVERHEAD` per entry. */
function textOf(journal: readonly JournalEntry[]): number {
  let text = 0;
  for (const entry of journal) text += entry.data.length + ENTRY_OVERHEAD;
  return text;
}
