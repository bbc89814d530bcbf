// The SQLite journal: fenced appends grouped per tick into one transaction, checked inserts, and reads.
import type { Database, Statement } from 'better-sqlite3';
import type { WeftError } from '../../errors.js';
import { checkJournalBatch, ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type { JournalEntry } from '../types.js';

/** One appendJournal call waiting for the next group commit. */
interface PendingAppend {
  runId: string;
  epoch: number;
  entries: readonly JournalEntry[];
  resolve(): void;
  reject(error: unknown): void;
}

/** Turns an unexpected driver error into the error to give callers. */
export type FailureWrapper = (action: string, runId: string, error: unknown) => unknown;

/**
 * Appends and reads journal entries. `append` queues the call; every call queued in the same
 * tick is written by one `BEGIN IMMEDIATE` transaction (one commit for many runs), in the order
 * the calls were made. Each run is checked on its own inside that transaction: a stale epoch or
 * a bad seq rejects that call only and inserts none of its entries; the others commit.
 */
export class SqliteJournal {
  private pending: PendingAppend[] = [];
  private scheduled = false;
  private readonly head: Statement<[{ runId: string }], { epoch: number; lastSeq: number | null }>;
  private readonly lastSeq: Statement<[string], number | null>;
  private readonly insert: Statement<[string, number, string, string, number]>;
  private readonly read: Statement<[string, number, number], JournalEntry>;
  private readonly delete: Statement<[string]>;
  private readonly writeGroup: (group: PendingAppend[], failures: Map<PendingAppend, WeftError>) => void;

  constructor(
    db: Database,
    private readonly wrapFailure: FailureWrapper,
  ) {
    this.head = db.prepare(
      'SELECT epoch, (SELECT MAX(seq) FROM journal WHERE run_id = @runId) AS lastSeq FROM runs WHERE run_id = @runId',
    );
    this.lastSeq = db.prepare<[string], number | null>('SELECT MAX(seq) FROM journal WHERE run_id = ?').pluck();
    this.insert = db.prepare('INSERT INTO journal (run_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)');
    this.read = db.prepare('SELECT seq, type, data, at FROM journal WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.delete = db.prepare('DELETE FROM journal WHERE run_id = ?');
    this.writeGroup = db.transaction((group, failures) => {
      for (const item of group) {
        const failure = this.appendFenced(item);
        if (failure) failures.set(item, failure);
      }
    }).immediate;
  }

  /** Queues an append; resolves once its entries are committed. */
  append(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ runId, epoch, entries, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes every queued append now, in one transaction. Other writes call this first, so a
   * change issued after an append (without awaiting it) never overtakes it.
   */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    const failures = new Map<PendingAppend, WeftError>();
    try {
      this.writeGroup(group, failures);
    } catch (error) {
      for (const item of group) item.reject(failures.get(item) ?? this.wrapFailure('append to', item.runId, error));
      return;
    }
    for (const item of group) {
      const failure = failures.get(item);
      if (failure) item.reject(failure);
      else item.resolve();
    }
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

  /** Checks one queued append (epoch, then seqs) and inserts its entries; returns the failure instead of throwing. */
  private appendFenced(item: PendingAppend): WeftError | null {
    const head = this.head.get({ runId: item.runId });
    if (!head || head.epoch !== item.epoch) return ownershipLost(item.runId, head ? head.epoch : null, item.epoch);
    const failure =
      checkJournalBatch(item.runId, item.entries) ?? this.checkAfterLast(item.runId, item.entries, head.lastSeq ?? 0);
    if (failure) return failure;
    this.insertAll(item.runId, item.entries);
    return null;
  }

  private checkAfterLast(runId: string, entries: readonly JournalEntry[], lastSeq: number): WeftError | null {
    const first = entries[0];
    return first && first.seq <= lastSeq ? seqNotAfterJournal(runId, first.seq, lastSeq) : null;
  }

  private insertAll(runId: string, entries: readonly JournalEntry[]): void {
    for (const entry of entries) this.insert.run(runId, entry.seq, entry.type, entry.data, entry.at);
  }
}
