// Retention on SQLite: deleting batches of old finished runs with their journals, and shrinking the file on demand.
import type { Database, Statement } from 'better-sqlite3';
import { fireKeyOfRun } from '../fire-key.js';
import type { PruneFilter } from '../types.js';

/**
 * Deletes batches of finished runs. A batch is one statement over `runs` (a scan in key order, which
 * is creation order, so the oldest runs come first), one range delete of the journal per run, and
 * the fire of each scheduled run (by the key its id names).
 * Pages freed this way go to the file's free list and are reused by the runs written next: with
 * retention on, the file stops growing at about the size of what it keeps. `VACUUM` returns them to
 * the disk.
 */
export class SqlitePruner {
  private readonly runs: Statement<[string, number, number], { runKey: number; runId: string }>;
  private readonly journal: Statement<[number, number]>;
  private readonly fire: Statement<[string, number, string]>;

  constructor(db: Database) {
    this.runs = db.prepare(
      `DELETE FROM runs WHERE run_key IN (
         SELECT run_key FROM runs
         WHERE status IN (SELECT value FROM json_each(?)) AND updated_at < ?
         ORDER BY run_key LIMIT ?)
       RETURNING run_key AS runKey, run_id AS runId`,
    );
    this.journal = db.prepare(
      'DELETE FROM journal WHERE entry_key >= ? * 4294967296 AND entry_key < (? + 1) * 4294967296',
    );
    this.fire = db.prepare('DELETE FROM schedule_fires WHERE schedule_id = ? AND fire_at = ? AND run_id = ?');
  }

  /** Deletes one batch; call inside a write transaction. Returns how many runs it deleted. */
  prune(filter: PruneFilter): number {
    const deleted = this.runs.all(JSON.stringify(filter.statuses), filter.updatedBefore, filter.limit);
    for (const { runKey, runId } of deleted) {
      this.journal.run(runKey, runKey);
      const fire = fireKeyOfRun(runId);
      if (fire) this.fire.run(fire.scheduleId, fire.fireAt, runId);
    }
    return deleted.length;
  }
}

/**
 * Rewrites the file without its free pages (`VACUUM`), then empties the WAL into it; returns the
 * database's size (pages × page size) before and after. It holds the write lock while it copies the
 * file: run it when the store is quiet. Call outside any transaction.
 */
export function vacuumSqlite(db: Database): { bytesBefore: number; bytesAfter: number } {
  const size = (): number =>
    (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  const bytesBefore = size();
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { bytesBefore, bytesAfter: size() };
}
