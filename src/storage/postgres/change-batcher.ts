// Group commit for Postgres compare-and-sets: the claims and ends of many runs issued close together go out as one statement.
import type { Pool } from 'pg';
import type { StoredRun } from '../types.js';
import { BatchQueue } from './batch-queue.js';
import { changeBatchValues, type ChangeItem } from './change-queries.js';
import { isConnectionLoss } from './connection-loss.js';
import { toStoredRun, type PgRunRow } from './run-queries.js';
import type { NamedStatement } from './statement-names.js';

interface PendingChange extends ChangeItem {
  resolve(row: StoredRun | null): void;
  reject(error: unknown): void;
}

/**
 * Makes one run's change alone, in its own statement, as `PostgresStorage.updateRun` did before batching:
 * with its retries on a new connection and its errors. `lost` says that a batch carrying the change lost
 * its connection, so the change may be committed already.
 */
export type ChangeAlone = (item: ChangeItem, lost: boolean) => Promise<StoredRun | null>;

/**
 * Queues compare-and-sets (`ChangeItem`) and sends them as batches (`BatchQueue`): a run alone goes out
 * in its own statement (`alone`, the smaller one), the changes of several runs in one (`changeBatchText`),
 * so that 200 runs started at once make a few claim statements rather than 200. Each promise settles
 * with its own run's row (null: the condition did not hold, or a new run's id was in use). A batch that
 * fails is tried again run by run, so one run's trouble (a seq the journal holds, bad data) stays its own;
 * after a lost connection each run first checks whether the batch had committed.
 */
export class PgChangeBatcher {
  private readonly queue = new BatchQueue<PendingChange>((batch) => this.send(batch));

  /** `statement`: `changeBatchText` of the storage's schema, named. */
  constructor(
    private readonly pool: Pool,
    private readonly statement: NamedStatement,
    private readonly channel: string,
    private readonly alone: ChangeAlone,
  ) {}

  /** Queues a well-formed change; resolves with the changed row, or null when nothing was changed. */
  change(item: ChangeItem): Promise<StoredRun | null> {
    return new Promise((resolve, reject) => this.queue.push({ ...item, resolve, reject }));
  }

  private async send(batch: PendingChange[]): Promise<void> {
    if (batch.length === 1) return this.sendAlone(batch[0]!, false);
    let rows: PgRunRow[];
    try {
      rows = (await this.pool.query<PgRunRow>(this.statement.with(changeBatchValues(this.channel, batch)))).rows;
    } catch (error) {
      const lost = isConnectionLoss(error);
      await Promise.all(batch.map((item) => this.sendAlone(item, lost)));
      return;
    }
    const byRun = new Map(rows.map((row) => [row.run_id, row]));
    for (const item of batch) {
      const row = byRun.get(item.runId);
      item.resolve(row ? toStoredRun(row) : null);
    }
  }

  private sendAlone(item: PendingChange, lost: boolean): Promise<void> {
    return this.alone(item, lost).then(item.resolve, item.reject);
  }
}
