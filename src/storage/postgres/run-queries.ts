// SQL of the Postgres runs table for one schema, and the mapping of its rows to StoredRun.
import type { RunChange, RunCondition, RunFilter, RunStatus, StoredRun } from '../types.js';

/** A query ready for `pool.query`. */
export interface PgQuery {
  text: string;
  values: unknown[];
}

/** A runs row as the driver returns it: BIGINT columns come back as strings. */
export interface PgRunRow {
  run_id: string;
  workflow_id: string;
  resource_id: string | null;
  status: string;
  epoch: number;
  created_at: string;
  updated_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  wake_at: string | null;
  input: string | null;
  outcome: string | null;
}

/** The runs columns, in `PgRunRow` order. */
export const RUN_COLUMNS =
  'run_id, workflow_id, resource_id, status, epoch, created_at, updated_at, lease_owner, lease_expires_at, wake_at, input, outcome';

/** Maps a driver row to a `StoredRun`, turning BIGINT strings into numbers. */
export function toStoredRun(row: PgRunRow): StoredRun {
  return {
    runId: row.run_id,
    workflowId: row.workflow_id,
    resourceId: row.resource_id,
    status: row.status as RunStatus,
    epoch: Number(row.epoch),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    wakeAt: row.wake_at === null ? null : Number(row.wake_at),
    input: row.input,
    outcome: row.outcome,
  };
}

/** The columns a `RunChange` may set, by field. */
const CHANGE_COLUMNS = {
  status: 'status',
  leaseOwner: 'lease_owner',
  leaseExpiresAt: 'lease_expires_at',
  wakeAt: 'wake_at',
  input: 'input',
  outcome: 'outcome',
} as const;

/** The columns of a changed row that no change sets: `changedRun` takes the others from the change itself. */
const READ_BACK = ['epoch', 'workflow_id', 'resource_id', 'created_at'];

/**
 * The columns a compare-and-set answers with: those its change does not set. A run's end does not send
 * back the outcome it just wrote, nor a start the input it stored, and the driver parses a few fields
 * rather than twelve. The input, which only a start sets, still comes back with every later claim, end
 * and suspension: `updateRun` answers with the whole row.
 */
export function readBack(change: RunChange): string {
  const columns = [...READ_BACK];
  for (const [field, column] of Object.entries(CHANGE_COLUMNS)) {
    if (change[field as keyof typeof CHANGE_COLUMNS] === undefined) columns.push(column);
  }
  return columns.join(', ');
}

/**
 * The row of `runId` after `change`: the fields the change set (`CHANGE_COLUMNS`, `updatedAt`) taken from
 * it, the others from `row`, which holds at least the columns `readBack` names.
 */
export function changedRun(runId: string, change: RunChange, row: Partial<PgRunRow>): StoredRun {
  const run = toStoredRun({ ...row, run_id: runId } as PgRunRow);
  const fields = run as unknown as Record<string, unknown>;
  for (const field of Object.keys(CHANGE_COLUMNS) as (keyof typeof CHANGE_COLUMNS)[]) {
    if (change[field] !== undefined) fields[field] = change[field];
  }
  run.updatedAt = change.updatedAt;
  return run;
}

/**
 * The compare-and-set UPDATE of `updateRun`: sets the fields given (undefined means "leave it"), guarded by
 * the condition; answers with the columns the change does not set (`changedRun` makes the row).
 */
export function updateRunQuery(
  s: string,
  runId: string,
  condition: RunCondition,
  change: RunChange & { bumpEpoch?: boolean },
): PgQuery {
  const values: unknown[] = [runId, change.updatedAt];
  const sets = ['updated_at = $2'];
  for (const [field, column] of Object.entries(CHANGE_COLUMNS)) {
    const value = change[field as keyof typeof CHANGE_COLUMNS];
    if (value === undefined) continue;
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  }
  if (change.bumpEpoch) sets.push('epoch = epoch + 1');
  const where = ['run_id = $1'];
  if (condition.status !== undefined) {
    values.push(condition.status);
    where.push(`status = ANY($${values.length}::text[])`);
  }
  if (condition.epoch !== undefined) {
    values.push(condition.epoch);
    where.push(`epoch = $${values.length}`);
  }
  if (condition.updatedAt !== undefined) {
    values.push(condition.updatedAt);
    where.push(`updated_at = $${values.length}`);
  }
  return {
    text: `UPDATE ${s}.runs SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING ${readBack(change)}`,
    values,
  };
}

/**
 * The listRuns query: a page of matching rows, newest first, each carrying the total of
 * matching rows (`count(*) OVER ()`), and the count alone for when the page is empty.
 */
export function listRunsQueries(s: string, filter: RunFilter): { page: PgQuery; count: PgQuery } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: (n: number) => string, value: unknown): void => {
    values.push(value);
    where.push(sql(values.length));
  };
  if (filter.workflowId !== undefined) add((n) => `workflow_id = $${n}`, filter.workflowId);
  if (filter.status !== undefined) {
    add((n) => `status = ANY($${n}::text[])`, typeof filter.status === 'string' ? [filter.status] : filter.status);
  }
  if (filter.resourceId !== undefined) add((n) => `resource_id = $${n}`, filter.resourceId);
  if (filter.fromDate !== undefined) add((n) => `created_at >= $${n}`, filter.fromDate);
  if (filter.toDate !== undefined) add((n) => `created_at <= $${n}`, filter.toDate);
  if (filter.scheduleId !== undefined) {
    add((n) => `run_id IN (SELECT run_id FROM ${s}.schedule_fires WHERE schedule_id = $${n})`, filter.scheduleId);
  }
  const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  const count: PgQuery = { text: `SELECT count(*) AS total FROM ${s}.runs ${clause}`, values };
  let text = `SELECT ${RUN_COLUMNS}, count(*) OVER () AS total FROM ${s}.runs ${clause} ORDER BY created_at DESC, run_id DESC`;
  const pageValues = [...values];
  if (filter.perPage !== undefined) {
    pageValues.push(filter.perPage, (filter.page ?? 0) * filter.perPage);
    text += ` LIMIT $${pageValues.length - 1} OFFSET $${pageValues.length}`;
  }
  return { page: { text, values: pageValues }, count };
}
