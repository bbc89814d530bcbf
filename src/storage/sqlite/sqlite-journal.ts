// The SQLite journal: fenced appends, checked inserts, and reads.
import type { Database, Statement } from 'better-sqlite3';
import type { WeftError } from '../../errors.js';
import { checkJournalBatch, ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type { JournalEntry } from '../types.js';

/**
 * Appends and reads journal entries. Appends are fenced: each checks the run's epoch and that
 * its seqs follow the journal before inserting anything, so a refused append leaves no trace
 * in the group transaction it runs in (see `GroupCommit`).
 */
export class SqliteJournal {
  private readonly head: Statement<[{ runId: string }], { epoch: number; lastSeq: number | null }>;
  private readonly lastSeq: Statement<[string], number | null>;
  private readonly insert: Statement<[string, number, string, string, number]>;
  private readonly read: Statement<[string, number, number], JournalEntry>;
  private readonly delete: Statement<[string]>;

  constructor(db: Database) {
    this.head = db.prepare(
      'SELECT epoch, (SELECT MAX(seq) FROM journal WHERE run_id = @runId) AS lastSeq FROM runs WHERE run_id = @runId',
    );
    this.lastSeq = db.prepare<[string], number | null>('SELECT MAX(seq) FROM journal WHERE run_id = ?').pluck();
    this.insert = db.prepare('INSERT INTO journal (run_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)');
    this.read = db.prepare('SELECT seq, type, data, at FROM journal WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.delete = db.prepare('DELETE FROM journal WHERE run_id = ?');
  }

  /**
   * Checks an append (epoch, then seqs) and inserts its entries; throws the WeftError of a
   * refused append before inserting any. Call inside a transaction.
   */
  appendFenced(runId: string, epoch: number, entries: readonly JournalEntry[]): void {
    const head = this.head.get({ runId });
    if (!head || head.epoch !== epoch) throw ownershipLost(runId, head ? head.epoch : null, epoch);
    const failure = checkJournalBatch(runId, entries) ?? this.checkAfterLast(runId, entries, head.lastSeq ?? 0);
    if (failure) throw failure;
    this.insertAll(runId, entries);
  }

  /**
   * Inserts a well-formed batch (see `checkJournalBatch`) after checking that it follows the
   * journal; no epoch check: the caller holds its own condition. Throws when it does not
   * follow; call inside a transaction.
   */
  insertAfterLast(runId: string, entries: readonly JournalEntry[]): void {
    const failure = this.checkAfterLast(runId, entries, this.lastSeq.get(runId) ?? 0);
    if (failure) throw failure;
    this.insertAll(runId, entries);
  }

  /** Entries with `seq > afterSeq`, in order, at most `limit`. */
  readAfter(runId: string, afterSeq: number, limit: number | undefined): JournalEntry[] {
    return this.read.all(runId, afterSeq, limit ?? -1);
  }

  /** Deletes every entry of the run; call inside the transaction that deletes the run. */
  deleteRun(runId: string): void {
    this.delete.run(runId);
  }

  private checkAfterLast(runId: string, entries: readonly JournalEntry[], lastSeq: number): WeftError | null {
    const first = entries[0];
    return first && first.seq <= lastSeq ? seqNotAfterJournal(runId, first.seq, lastSeq) : null;
  }

  private insertAll(runId: string, entries: readonly JournalEntry[]): void {
    for (const entry of entries) this.insert.run(runId, entry.seq, entry.type, entry.data, entry.at);
  }
}
