// Group commit for Postgres appends: the appends of many runs issued close together go out as one statement.
import type { Pool } from 'pg';
import type { WeftError } from '../../errors.js';
import { ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type { BatchItem, BatchOutcomeRow } from './journal-queries.js';
import { appendBatchQuery } from './journal-queries.js';
import { withReconnects } from './connection-loss.js';
import type { StatementNames } from './statement-names.js';

/** How many batch statements may be in flight at once; appends issued meanwhile wait and go together. */
const MAX_IN_FLIGHT = 4;
/** At most this many entries in one statement; more wait for the next. */
const MAX_ENTRIES_PER_BATCH = 5000;

interface PendingAppend extends BatchItem {
  resolve(): void;
  reject(error: unknown): void;
}

/** Wraps an unexpected driver error for the callers of one run. */
export type AppendFailureWrapper = (runId: string, error: unknown) => unknown;

/**
 * Queues appends and sends them as batches: each tick's appends in one statement (each turn's of
 * the event loop while statements are on their way), and while `MAX_IN_FLIGHT` statements wait on
 * the server (a commit waits for its WAL flush), everything issued meanwhile gathers into the next one. Every promise settles with its own run's outcome:
 * a stale epoch or a bad seq rejects that run only. If a whole batch fails unexpectedly, each
 * of its runs is retried alone, so one run's trouble never fails the others.
 */
export class PgAppendBatcher {
  private pending: PendingAppend[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly pool: Pool,
    private readonly names: StatementNames,
    private readonly s: string,
    private readonly channel: string,
    private readonly wrapFailure: AppendFailureWrapper,
    /** How long a batch whose connection was lost is sent again (see `withReconnects`). */
    private readonly reconnectWindowMs?: number,
  ) {}

  /** Queues a non-empty, well-formed append; resolves once its entries are committed. */
  append(item: BatchItem): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.pending.length === 0) return;
    this.scheduled = true;
    // Nothing on its way: the appends issued by the microtasks running now go out once they have drained
    // (a run stepping alone waits for no turn of the event loop). Otherwise a turn gathers more.
    (this.inFlight === 0 ? process.nextTick : setImmediate)(() => {
      this.scheduled = false;
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    });
  }

  /** The next batch: queued appends in order, one per run, up to the entry cap; the rest stay queued. */
  private take(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    const rest: PendingAppend[] = [];
    const runs = new Set<string>();
    let size = 0;
    for (const item of this.pending) {
      const fits = batch.length === 0 || size + item.entries.length <= MAX_ENTRIES_PER_BATCH;
      if (fits && !runs.has(item.runId)) {
        batch.push(item);
        runs.add(item.runId);
        size += item.entries.length;
      } else {
        rest.push(item);
      }
    }
    this.pending = rest;
    return batch;
  }

  /** Sends `batch`, again on a new connection while the connection is lost; `retried` once an attempt was. */
  private async send(batch: PendingAppend[], retried = false): Promise<void> {
    let rows: BatchOutcomeRow[];
    try {
      rows = await withReconnects(async (again) => {
        retried ||= again;
        return (await this.pool.query<BatchOutcomeRow>(this.names.named(appendBatchQuery(this.s, this.channel, batch))))
          .rows;
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
