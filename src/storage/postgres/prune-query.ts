// Retention on Postgres: one batch of old finished runs deleted with their journals and schedule fires.
import type { PoolClient } from 'pg';
import { fireKeyOfRun } from '../fire-key.js';
import type { PruneFilter } from '../types.js';

/**
 * Deletes one batch of runs matching `filter`, their journals and the fires of scheduled ones, on `client` inside a transaction;
 * returns how many. Rows another transaction holds are skipped (`SKIP LOCKED`), and the conditions are
 * checked again on the row deleted, so a run a time travel claims meanwhile stays. Freed space is
 * reused once autovacuum has seen it.
 */
export async function pruneBatch(client: PoolClient, s: string, filter: PruneFilter): Promise<number> {
  const { rows } = await client.query<{ run_id: string }>(
    // Materialized: an IN (subquery with LIMIT) may be evaluated more than once and delete more than the limit.
    `WITH batch AS MATERIALIZED (
       SELECT run_id FROM ${s}.runs WHERE status = ANY($1::text[]) AND updated_at < $2
       LIMIT $3 FOR UPDATE SKIP LOCKED)
     DELETE FROM ${s}.runs r USING batch
     WHERE r.run_id = batch.run_id AND r.status = ANY($1::text[]) AND r.updated_at < $2
     RETURNING r.run_id`,
    [filter.statuses, filter.updatedBefore, filter.limit],
  );
  if (rows.length > 0) {
    await client.query(`DELETE FROM ${s}.journal WHERE run_id = ANY($1::text[])`, [rows.map((row) => row.run_id)]);
  }
  const fires = rows.flatMap(({ run_id: runId }) => {
    const key = fireKeyOfRun(runId);
    return key ? [{ ...key, runId }] : [];
  });
  if (fires.length > 0) {
    await client.query(
      `DELETE FROM ${s}.schedule_fires f USING unnest($1::text[], $2::bigint[], $3::text[]) AS d(schedule_id, fire_at, run_id)
       WHERE f.schedule_id = d.schedule_id AND f.fire_at = d.fire_at AND f.run_id = d.run_id`,
      [fires.map((f) => f.scheduleId), fires.map((f) => f.fireAt), fires.map((f) => f.runId)],
    );
  }
  return rows.length;
}
