// The SQLite journal: fenced appends, checked inserts, and reads.
import type { Database, Statement } from 'better-sqlite3';
import type { WeftError } from '../../errors.js';
import { checkJournalBatch, ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type { JournalEntry } from '../types.js';

/**
 * An entry's key is one integer, `run_key * 2^32 + seq` (schema version 3): the journal is a single
 * b-tree, a run's entries lie together in seq order, and an append writes one page. These SQL
 * fragments give a run's key range from its text id.
 */
const RUN_KEY = '(SELECT run_key FROM runs WHERE run_id = @runId)';
const FIRST_KEY = `${RUN_KEY} * 4294967296`;
const END_KEY = `(${RUN_KEY} + 1) * 4294967296`;
/** The run's last seq, given its key as `run_key` (in a query on `runs`). */
const LAST_SEQ = `(SELECT seq FROM journal WHERE entry_key >= run_key * 4294967296
  AND entry_key < (run_key + 1) * 4294967296 ORDER BY entry_key DESC LIMIT 1)`;

/**
 * Appends and reads journal entries. Appends are fenced: each checks the run's epoch and that
 * its seqs follow the journal before inserting anything, so a refused append leaves no trace
 * in the group transaction it runs in (see `GroupCommit`).
 */
export class SqliteJournal {
  private readonly head: Statement<[{ runId: string }], { epoch: number; runKey: number; lastSeq: number | null }>;
  private readonly last: Statement<[{ runId: string }], { runKey: number; lastSeq: number | null }>;
  private readonly insert: Statement<[number, number, number, string, string, number]>;
  private readonly read: Statement<[{ runId: string; afterSeq: number; limit: number }], JournalEntry>;
  private readonly delete: Statement<[{ runId: string }]>;

  constructor(db: Database) {
    this.head = db.prepare(`SELECT epoch, run_key AS runKey, ${LAST_SEQ} AS lastSeq FROM runs WHERE run_id = @runId`);
    this.last = db.prepare(`SELECT run_key AS runKey, ${LAST_SEQ} AS lastSeq FROM runs WHERE run_id = @runId`);
    this.insert = db.prepare(
      'INSERT INTO journal (entry_key, seq, type, data, at) VALUES (? * 4294967296 + ?, ?, ?, ?, ?)',
    );
    this.read = db.prepare(
      `SELECT seq, type, data, at FROM journal
       WHERE entry_key > ${FIRST_KEY} + @afterSeq AND entry_key < ${END_KEY}
       ORDER BY entry_key LIMIT @limit`,
    );
    this.delete = db.prepare(`DELETE FROM journal WHERE entry_key >= ${FIRST_KEY} AND entry_key < ${END_KEY}`);
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
    this.insertAll(head.runKey, entries);
  }

  /**
   * Where a well-formed batch (see `checkJournalBatch`) would go: the run's key, once checked that
   * the batch follows the journal (the error if not, or null without such a run). Changes
   * nothing: the caller inserts with `insertAll`, in the same transaction.
   */
  placeAfterLast(runId: string, entries: readonly JournalEntry[]): number | WeftError | null {
    const last = this.last.get({ runId });
    if (!last) return null;
    return this.checkAfterLast(runId, entries, last.lastSeq ?? 0) ?? last.runKey;
  }

  /** Entries with `seq > afterSeq`, in order, at most `limit`. */
  readAfter(runId: string, afterSeq: number, limit: number | undefined): JournalEntry[] {
    return this.read.all({ runId, afterSeq, limit: limit ?? -1 });
  }

  /** Deletes every entry of the run; call inside the transaction that deletes the run, before its row. */
  deleteRun(runId: string): void {
    this.delete.run({ runId });
  }

  private checkAfterLast(runId: string, entries: readonly JournalEntry[], lastSeq: number): WeftError | null {
    const first = entries[0];
    return first && first.seq <= lastSeq ? seqNotAfterJournal(runId, first.seq, lastSeq) : null;
  }

  /** Inserts entries of the run with key `runKey`; call inside a transaction, after checking them. */
  insertAll(runKey: number, entries: readonly JournalEntry[]): void {
    for (const entry of entries) this.insert.run(runKey, entry.seq, entry.seq, entry.type, entry.data, entry.at);
  }
}
