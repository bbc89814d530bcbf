// Group commit for Postgres appends: the appends of many runs issued close together go out as one statement.
import type { Pool } from 'pg';
import type { WeftError } from '../../errors.js';
import { ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type { BatchItem, BatchOutcomeRow } from './journal-queries.js';
import {
  appendBatchText,
  appendBatchValues,
  appendOneText,
  appendOneValues,
  LISTED_ENTRIES,
} from './journal-queries.js';
import { BatchQueue } from './batch-queue.js';
import { withReconnects } from './connection-loss.js';
import type { NamedStatement, StatementNames } from './statement-names.js';

interface PendingAppend extends BatchItem {
  resolve(): void;
  reject(error: unknown): void;
}

/** Wraps an unexpected driver error for the callers of one run. */
export type AppendFailureWrapper = (runId: string, error: unknown) => unknown;

/**
 * Queues appends and sends them as batches (`BatchQueue`): the appends of many runs issued close
 * together go out as one statement, one commit. Every promise settles with its own run's outcome:
 * a stale epoch or a bad seq rejects that run only. If a whole batch fails unexpectedly, each
 * of its runs is retried alone, so one run's trouble never fails the others.
 */
export class PgAppendBatcher {
  private readonly queue = new BatchQueue<PendingAppend>((batch) => this.send(batch));
  /** The statement's text, the same for every batch of this schema: built and named once. */
  private readonly statement: NamedStatement;
  /** The statements of a batch of one run, by its number of entries (see `appendOneText`), made on first use. */
  private readonly single: NamedStatement[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly names: StatementNames,
    private readonly s: string,
    private readonly channel: string,
    private readonly wrapFailure: AppendFailureWrapper,
    /** How long a batch whose connection was lost is sent again (see `withReconnects`). */
    private readonly reconnectWindowMs?: number,
  ) {
    this.statement = names.statement(appendBatchText(s));
  }

  /** Queues a non-empty, well-formed append; resolves once its entries are committed. */
  append(item: BatchItem): Promise<void> {
    return new Promise<void>((resolve, reject) => this.queue.push({ ...item, resolve, reject }));
  }

  /** The statement of `batch`: of one run (the common case when runs do not execute side by side), or of many. */
  private query(batch: readonly PendingAppend[]) {
    const count = batch[0]!.entries.length;
    if (batch.length > 1 || count > LISTED_ENTRIES) return this.statement.with(appendBatchValues(this.channel, batch));
    const statement = (this.single[count] ??= this.names.statement(appendOneText(this.s, count)));
    return statement.with(appendOneValues(this.channel, batch[0]!));
  }

  /** Sends `batch`, again on a new connection while the connection is lost; `retried` once an attempt was. */
  private async send(batch: PendingAppend[], retried = false): Promise<void> {
    let rows: BatchOutcomeRow[];
    try {
      rows = await withReconnects(async (again) => {
        retried ||= again;
        return (await this.pool.query<BatchOutcomeRow>(this.query(batch))).rows;
      }, this.reconnectWindowMs);
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(this.wrapFailure(batch[0]!.runId, error));
      else await Promise.all(batch.map((item) => this.send([item], retried)));
      return;
    }
    const byRun = new Map(rows.map((row) => [row.run_id, row]));
    for (const item of batch) {
      const failure = outcomeFailure(item, byRun.get(item.runId), retried);
      if (failure) item.reject(failure);
      else item.resolve();
    }
  }
}

/**
 * Why the batch did not store this run's entries, or null when it did. After a lost connection
 * (`retried`), entries refused because the journal already reaches them at the same epoch were
 * stored by the lost attempt: only the epoch's owner appends, and one run's appends go one at a time.
 */
function outcomeFailure(item: BatchItem, row: BatchOutcomeRow | undefined, retried: boolean): WeftError | null {
  if (!row || row.epoch !== item.epoch) return ownershipLost(item.runId, row ? row.epoch : null, item.epoch);
  if (row.accepted) return null;
  const lastSeq = Number(row.last_seq ?? 0);
  if (retried && lastSeq >= item.entries[item.entries.length - 1]!.seq) return null;
  return seqNotAfterJournal(item.runId, item.entries[0]!.seq, lastSeq);
}
