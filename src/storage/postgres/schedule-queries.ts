// SQL of the Postgres schedules and schedule_fires tables for one schema, and the mapping of their rows.
import type { RunStatus, ScheduleDefinition, ScheduleFire, ScheduleFireClaim, StoredSchedule } from '../types.js';
import type { PgQuery } from './run-queries.js';

/** A schedules row as the driver returns it: BIGINT columns come back as strings. */
export interface PgScheduleRow {
  schedule_id: string;
  workflow_id: string;
  cron: string;
  timezone: string | null;
  spec: string;
  paused: boolean;
  next_fire_at: string | null;
  last_fire_at: string | null;
  last_run_id: string | null;
  created_at: string;
  updated_at: string;
}

/** A schedule_fires row joined with its run's status. */
export interface PgFireRow {
  schedule_id: string;
  fire_at: string;
  run_id: string;
  manual: boolean;
  claimed_at: string;
  run_status: string | null;
}

export const SCHEDULE_COLUMNS =
  'schedule_id, workflow_id, cron, timezone, spec, paused, next_fire_at, last_fire_at, last_run_id, created_at, updated_at';

const orNull = (value: string | null): number | null => (value === null ? null : Number(value));

export function toStoredSchedule(row: PgScheduleRow): StoredSchedule {
  return {
    scheduleId: row.schedule_id,
    workflowId: row.workflow_id,
    cron: row.cron,
    timezone: row.timezone,
    spec: row.spec,
    paused: row.paused,
    nextFireAt: orNull(row.next_fire_at),
    lastFireAt: orNull(row.last_fire_at),
    lastRunId: row.last_run_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toScheduleFire(row: PgFireRow): ScheduleFire {
  return {
    scheduleId: row.schedule_id,
    fireAt: Number(row.fire_at),
    runId: row.run_id,
    manual: row.manual,
    claimedAt: Number(row.claimed_at),
    runStatus: row.run_status as RunStatus | null,
  };
}

/**
 * `syncSchedules` as one statement: the schedules of these workflows that are no longer declared are
 * deleted, the declared ones inserted or updated (the next fire kept unless the cron or timezone changed).
 */
export function syncSchedulesQuery(
  s: string,
  workflowIds: readonly string[],
  schedules: readonly ScheduleDefinition[],
  at: number,
): PgQuery {
  return {
    text: `WITH gone AS (
             DELETE FROM ${s}.schedules WHERE workflow_id = ANY($1::text[]) AND NOT (schedule_id = ANY($2::text[])))
           INSERT INTO ${s}.schedules (schedule_id, workflow_id, cron, timezone, spec, next_fire_at, created_at, updated_at)
           SELECT d.*, $8::bigint, $8::bigint
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS d
           ON CONFLICT (schedule_id) DO UPDATE SET
             workflow_id = excluded.workflow_id, cron = excluded.cron, timezone = excluded.timezone,
             spec = excluded.spec, updated_at = excluded.updated_at,
             next_fire_at = CASE WHEN schedules.cron = excluded.cron
                                  AND schedules.timezone IS NOT DISTINCT FROM excluded.timezone
                                 THEN schedules.next_fire_at ELSE excluded.next_fire_at END`,
    values: [
      workflowIds,
      schedules.map((d) => d.scheduleId),
      schedules.map((d) => d.workflowId),
      schedules.map((d) => d.cron),
      schedules.map((d) => d.timezone),
      schedules.map((d) => d.spec),
      schedules.map((d) => d.nextFireAt),
      at,
    ],
  };
}

/**
 * `claimScheduleFire` as one statement. The schedule's row is locked (and its conditions checked
 * again once a concurrent claim has committed); the fire is inserted unless its key exists; only then
 * is the schedule advanced and the run created. Answers `n` = 1 when the claim applied.
 */
export function claimFireQuery(s: string, claim: ScheduleFireClaim): PgQuery {
  const { advance, fire } = claim;
  return {
    text: `WITH target AS (
             SELECT schedule_id, workflow_id FROM ${s}.schedules
             WHERE schedule_id = $1 AND ($2::bigint IS NULL OR (next_fire_at = $2::bigint AND NOT paused))
             FOR UPDATE),
           fire AS (
             INSERT INTO ${s}.schedule_fires (schedule_id, fire_at, run_id, manual, claimed_at)
             SELECT schedule_id, $4::bigint, $5::text, $6::boolean, $7::bigint FROM target WHERE $4::bigint IS NOT NULL
             ON CONFLICT DO NOTHING RETURNING schedule_id),
           claimed AS (
             SELECT schedule_id FROM target WHERE $4::bigint IS NULL OR EXISTS (SELECT 1 FROM fire)),
           moved AS (
             UPDATE ${s}.schedules t SET
               next_fire_at = CASE WHEN $2::bigint IS NULL THEN t.next_fire_at ELSE $3::bigint END,
               last_fire_at = COALESCE($4::bigint, t.last_fire_at),
               last_run_id = COALESCE($5::text, t.last_run_id),
               updated_at = $7::bigint
             FROM claimed WHERE t.schedule_id = claimed.schedule_id RETURNING t.workflow_id),
           run AS (
             INSERT INTO ${s}.runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at)
             SELECT $5::text, workflow_id, NULL, 'pending', 0, $7::bigint, $7::bigint FROM moved WHERE $5::text IS NOT NULL
             ON CONFLICT (run_id) DO NOTHING)
           SELECT count(*)::int AS n FROM moved`,
    values: [
      claim.scheduleId,
      advance?.from ?? null,
      advance?.to ?? null,
      fire?.fireAt ?? null,
      fire?.runId ?? null,
      fire?.manual ?? null,
      claim.at,
    ],
  };
}

export function setPausedQuery(
  s: string,
  scheduleId: string,
  paused: boolean,
  nextFireAt: number | null,
  at: number,
): PgQuery {
  return {
    text: `UPDATE ${s}.schedules SET paused = $2,
             next_fire_at = CASE WHEN $2 THEN next_fire_at ELSE $3::bigint END, updated_at = $4
           WHERE schedule_id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
    values: [scheduleId, paused, nextFireAt, at],
  };
}

export function listFiresQuery(s: string, scheduleId: string, limit: number): PgQuery {
  return {
    text: `SELECT f.schedule_id, f.fire_at, f.run_id, f.manual, f.claimed_at, r.status AS run_status
           FROM ${s}.schedule_fires f LEFT JOIN ${s}.runs r ON r.run_id = f.run_id
           WHERE f.schedule_id = $1 ORDER BY f.fire_at DESC LIMIT $2`,
    values: [scheduleId, limit],
  };
}
