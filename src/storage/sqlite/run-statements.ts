// The prepared SQLite statements of the runs table, created once per connection, and the listRuns query cache.
import type { Database, Statement } from 'better-sqlite3';
import { RUN_STATUSES } from '../types.js';
import type { RunChange, RunCondition, RunFilter, RunStatus, StoredRun } from '../types.js';

/** The runs columns under the names of `StoredRun`, so rows need no mapping. */
const RUN_COLUMNS = `run_id AS runId, workflow_id AS workflowId, resource_id AS resourceId, status, epoch,
  created_at AS createdAt, updated_at AS updatedAt, lease_owner AS leaseOwner,
  lease_expires_at AS leaseExpiresAt, wake_at AS wakeAt, input, outcome`;

/** Named parameters of the compare-and-set statement: a `set*` flag (1/0) and a value per optional field. */
export interface UpdateRunParams {
  runId: string;
  statuses: string | null;
  epoch: number | null;
  seenUpdatedAt: number | null;
  setStatus: number;
  status: string | null;
  setLeaseOwner: number;
  leaseOwner: string | null;
  setLeaseExpiresAt: number;
  leaseExpiresAt: number | null;
  setWakeAt: number;
  wakeAt: number | null;
  setInput: number;
  input: string | null;
  setOutcome: number;
  outcome: string | null;
  updatedAt: number;
  bump: number;
}

/** The statements of the runs table. */
export interface RunStatements {
  insert: Statement<[string, string, string | null, number, number]>;
  get: Statement<[string], StoredRun>;
  delete: Statement<[string]>;
  update: Statement<[UpdateRunParams], StoredRun>;
  renew: Statement<[number, string, string], { runId: string }>;
  expired: Statement<[number, number], StoredRun>;
}

/** Prepares the statements of the runs table on `db`. */
export function prepareRunStatements(db: Database): RunStatements {
  return {
    insert: db.prepare(
      `INSERT INTO runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ),
    get: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`),
    delete: db.prepare('DELETE FROM runs WHERE run_id = ?'),
    update: db.prepare(
      `UPDATE runs SET
         status           = CASE WHEN @setStatus         THEN @status         ELSE status END,
         lease_owner      = CASE WHEN @setLeaseOwner     THEN @leaseOwner     ELSE lease_owner END,
         lease_expires_at = CASE WHEN @setLeaseExpiresAt THEN @leaseExpiresAt ELSE lease_expires_at END,
         wake_at          = CASE WHEN @setWakeAt         THEN @wakeAt         ELSE wake_at END,
         input            = CASE WHEN @setInput          THEN @input          ELSE input END,
         outcome          = CASE WHEN @setOutcome        THEN @outcome        ELSE outcome END,
         updated_at       = @updatedAt,
         epoch            = epoch + @bump
       WHERE run_id = @runId
         AND (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
         AND (@epoch IS NULL OR epoch = @epoch)
         AND (@seenUpdatedAt IS NULL OR updated_at = @seenUpdatedAt)
       RETURNING ${RUN_COLUMNS}`,
    ),
    renew: db.prepare(
      `UPDATE runs SET lease_expires_at = ?
       WHERE run_id IN (SELECT value FROM json_each(?)) AND lease_owner = ? AND status IN ('running', 'waiting')
       RETURNING run_id AS runId`,
    ),
    expired: db.prepare(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE status IN ('running', 'waiting') AND (lease_expires_at IS NULL OR lease_expires_at < ?)
       ORDER BY updated_at, run_id LIMIT ?`,
    ),
  };
}

/** The named parameters of the compare-and-set `update` statement for one call of `updateRun`. */
export function updateRunParams(
  runId: string,
  condition: RunCondition,
  change: RunChange & { bumpEpoch?: boolean },
): UpdateRunParams {
  const field = <T>(value: T | undefined): [number, T | null] => (value === undefined ? [0, null] : [1, value]);
  const [setStatus, status] = field(change.status);
  const [setLeaseOwner, leaseOwner] = field(change.leaseOwner);
  const [setLeaseExpiresAt, leaseExpiresAt] = field(change.leaseExpiresAt);
  const [setWakeAt, wakeAt] = field(change.wakeAt);
  const [setInput, input] = field(change.input);
  const [setOutcome, outcome] = field(change.outcome);
  return {
    runId,
    statuses: condition.status === undefined ? null : JSON.stringify(condition.status),
    epoch: condition.epoch ?? null,
    seenUpdatedAt: condition.updatedAt ?? null,
    setStatus,
    status,
    setLeaseOwner,
    leaseOwner,
    setLeaseExpiresAt,
    leaseExpiresAt,
    setWakeAt,
    wakeAt,
    setInput,
    input,
    setOutcome,
    outcome,
    updatedAt: change.updatedAt,
    bump: change.bumpEpoch ? 1 : 0,
  };
}

/** A prepared listRuns query: the page of rows and the total, for one combination of filters. */
interface ListStatements {
  rows: Statement<unknown[], StoredRun>;
  count: Statement<unknown[], number>;
}

/**
 * The status filter as SQL, its statuses written out: the index of runs that stopped short of
 * success is partial, and the planner uses it only for a condition it sees at prepare time to
 * imply the index's own (`status = 'failed'` or an OR of such; a bound parameter or an IN list
 * hides that). Only known statuses are written, taken from `RUN_STATUSES`, never from the
 * filter; an unknown one matches no run, as it always has.
 */
function statusCondition(status: RunStatus | readonly RunStatus[]): string {
  const wanted = new Set(([] as unknown[]).concat(status));
  const known = RUN_STATUSES.filter((s) => wanted.has(s)).map((s) => `status = '${s}'`);
  if (known.length === 0) return 'FALSE';
  return known.length === 1 ? known[0]! : `(${known.join(' OR ')})`;
}

/**
 * Builds and caches one pair of statements per combination of filters present (and of statuses
 * asked for), so each query keeps a plain `col = ?` shape that the indexes serve.
 */
export class ListRunsQueries {
  private readonly cache = new Map<string, ListStatements>();

  constructor(private readonly db: Database) {}

  /** The matching rows (newest first, paged) and their total. Call inside a read transaction for a consistent pair. */
  list(filter: RunFilter): { runs: StoredRun[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      where.push(sql);
      params.push(value);
    };
    if (filter.workflowId !== undefined) add('workflow_id = ?', filter.workflowId);
    if (filter.status !== undefined) where.push(statusCondition(filter.status));
    if (filter.resourceId !== undefined) add('resource_id = ?', filter.resourceId);
    if (filter.fromDate !== undefined) add('created_at >= ?', filter.fromDate);
    if (filter.toDate !== undefined) add('created_at <= ?', filter.toDate);
    if (filter.scheduleId !== undefined) {
      add('run_id IN (SELECT run_id FROM schedule_fires WHERE schedule_id = ?)', filter.scheduleId);
    }
    const paged = filter.perPage !== undefined;
    const statements = this.statements(where, paged);
    const total = statements.count.get(...params) ?? 0;
    const pageParams = paged ? [filter.perPage, (filter.page ?? 0) * filter.perPage!] : [];
    return { runs: statements.rows.all(...params, ...pageParams), total };
  }

  private statements(where: string[], paged: boolean): ListStatements {
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const key = `${clause}|${paged}`;
    let statements = this.cache.get(key);
    if (!statements) {
      statements = {
        rows: this.db.prepare(
          `SELECT ${RUN_COLUMNS} FROM runs ${clause} ORDER BY created_at DESC, run_id DESC${paged ? ' LIMIT ? OFFSET ?' : ''}`,
        ),
        count: this.db.prepare<unknown[], number>(`SELECT COUNT(*) FROM runs ${clause}`).pluck(),
      };
      this.cache.set(key, statements);
    }
    return statements;
  }
}
