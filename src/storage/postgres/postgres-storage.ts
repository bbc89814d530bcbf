// Durable storage in Postgres (pg): for several processes and machines sharing one database.
import pg from './pg-driver.js';
import type { ClientConfig, Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { WeftError } from '../../errors.js';
import { changeApplied, checkJournalBatch, ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type {
  JournalEntry,
  NewRun,
  PruneFilter,
  RunChange,
  RunCondition,
  RunFilter,
  ScheduleDefinition,
  ScheduleFire,
  ScheduleFireClaim,
  StoredRun,
  StoredSchedule,
  WeftStorage,
} from '../types.js';
import type { PgFireRow, PgScheduleRow } from './schedule-queries.js';
import {
  SCHEDULE_COLUMNS,
  claimFireQuery,
  listFiresQuery,
  setPausedQuery,
  syncSchedulesQuery,
  toScheduleFire,
  toStoredSchedule,
} from './schedule-queries.js';
import type { PgJournalRow } from './journal-queries.js';
import {
  epochQuery,
  followQuery,
  lastSeqQuery,
  readQuery,
  runWithJournalText,
  toJournalEntry,
  unfollowQuery,
  updateWithEntriesQuery,
} from './journal-queries.js';
import { PgAppendBatcher } from './append-batcher.js';
import { PgChangeBatcher } from './change-batcher.js';
import { changeBatchText, type ChangeItem } from './change-queries.js';
import { RECONNECT_WINDOW_MS, withReconnects } from './connection-loss.js';
import { migratePostgres } from './migrations.js';
import { pruneBatch } from './prune-query.js';
import { checkPruneFilter } from '../prune-filter.js';
import { PgJournalNotifier } from './pg-notifier.js';
import { PgDispatchedAttempts } from './dispatched-attempts.js';
import { PgStepDispatcher } from './step-dispatcher.js';
import type { PgQuery, PgRunRow } from './run-queries.js';
import { StatementNames, type NamedStatement } from './statement-names.js';
import { RUN_COLUMNS, changedRun, listRunsQueries, toStoredRun, updateRunQuery } from './run-queries.js';
import { RunOrder } from './run-order.js';
import type { HeldCreation } from './run-creations.js';
import { RunCreations, holdsForNewRun, insertChangedRunQuery, insertRunsQuery } from './run-creations.js';
import { pendingRunRow } from '../pending-run.js';

/** Options of `PostgresStorage`: a connection string or a pool of your own, and the schema of the tables. */
export interface PostgresStorageOptions {
  /** Used to create a pool (and the notifier's connection) when `pool` is not given; else pg's PG* env variables. */
  connectionString?: string;
  /**
   * A pool to use; it stays yours: `close()` does not end it. A worker process shares one with its job
   * queue (`QueuePool` of `weft/worker`, given to `runWorker` as `pgPool`).
   */
  pool?: Pool;
  /**
   * The size of the pool the storage makes when `pool` is not given (default 10). The storage holds at
   * most this many connections, and one more while somebody follows runs or hand-overs (the notifier's
   * LISTEN connection, which every engine instance opens).
   */
  maxConnections?: number;
  /** The schema holding Weft's tables, created by `init()`. Letters, digits and `_`. Default `weft`. */
  schema?: string;
  /**
   * How long a statement whose connection was lost (a terminated backend, a restarting server) is
   * tried again on a new connection before it fails with STORAGE_ERROR. Default 15,000 ms; 0 never retries.
   */
  reconnectWindowMs?: number;
  /**
   * Whether the statements of the hot path (appends, claims, reads of a run) are sent as named statements,
   * which the server parses and plans once per connection. Default true. Set false behind a pooler that
   * does not keep a client's prepared statements, as PgBouncer in transaction mode before 1.21 (from 1.21,
   * with `max_prepared_statements` set, it does).
   */
  preparedStatements?: boolean;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/;
const ACTIVE = `status IN ('running', 'waiting')`;

/**
 * Stores runs and journals in Postgres tables of one schema. Status changes are
 * `UPDATE ... WHERE ... RETURNING` compare-and-sets. Appends issued close together go out as one
 * statement (one commit) that checks each run's epoch under a row lock and inserts its entries;
 * the writes of one run keep their issue order. `notifier` follows runs live across processes
 * with LISTEN/NOTIFY.
 *
 * @example
 * import { PostgresStorage } from 'weft/postgres';
 * const storage = new PostgresStorage({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresStorage implements WeftStorage {
  readonly kind = 'postgres';
  /** Every operation sees the runs created before it (see `createRun`). */
  readonly writesInOrder = true;
  readonly checksUpdatedAt = true;
  readonly notifier: PgJournalNotifier;
  /** The schema, as given. */
  readonly schema: string;
  private readonly s: string;
  private readonly channel: string;
  /** The pool the storage sends its statements through (its own, or the one it was given). */
  readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly order = new RunOrder();
  private readonly creations = new RunCreations((held) => this.insertRuns(held));
  private readonly batcher: PgAppendBatcher;
  private readonly changes: PgChangeBatcher;
  private readonly reconnectWindowMs: number;
  private readonly names: StatementNames;
  private readonly runWithJournal: NamedStatement;
  /** Step attempts dispatched to any worker (foreach items and parallel branches of `runWorker({ fanOut })`). */
  readonly attempts: PgDispatchedAttempts;
  private dispatcher: PgStepDispatcher | undefined;

  constructor(options: PostgresStorageOptions = {}) {
    const schema = options.schema ?? 'weft';
    if (!SCHEMA_NAME.test(schema)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid Postgres schema name "${schema}": use up to 50 letters, digits and underscores, not starting with a digit`,
      );
    }
    this.schema = schema;
    this.reconnectWindowMs = options.reconnectWindowMs ?? RECONNECT_WINDOW_MS;
    if (!(this.reconnectWindowMs >= 0)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid reconnectWindowMs ${String(options.reconnectWindowMs)}: expected milliseconds, 0 or more`,
      );
    }
    this.names = new StatementNames(options.preparedStatements ?? true);
    this.s = `"${schema}"`;
    this.channel = `weft:${schema}`;
    this.ownsPool = options.pool === undefined;
    const max = options.maxConnections ?? 10;
    if (!Number.isInteger(max) || max < 1) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid maxConnections ${String(options.maxConnections)}: expected a whole number of connections, 1 or more`,
      );
    }
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max });
    // An idle client's error (its backend was terminated, the server restarted) must not crash the
    // process; the pool drops that client and opens another when needed. A pool of the caller's that
    // has no listener gets this one too (pg would otherwise throw the error as an uncaught exception).
    if (this.ownsPool || this.pool.listenerCount('error') === 0) this.pool.on('error', () => undefined);
    // Nor may the error of a client checked out without a statement in flight (between two statements
    // of a transaction; held by graphile-worker when a queue shares this pool, whose utilities warn
    // about a pool that lacks this listener). The statement in flight, if any, fails as before.
    if (this.ownsPool || this.pool.listenerCount('connect') === 0) {
      this.pool.on('connect', (client) => client.on('error', () => undefined));
    }
    const config: ClientConfig = options.pool ? options.pool.options : { connectionString: options.connectionString };
    this.notifier = new PgJournalNotifier(
      config,
      this.channel,
      (channel) =>
        this.guard('notify', undefined, async () => {
          await this.pool.query('SELECT pg_notify($1, $2)', [channel, '']);
        }),
      {
        follow: (runIds, follower, expiresAt) =>
          this.guard('follow', undefined, async () => {
            await this.pool.query(followQuery(this.s, runIds, follower, expiresAt));
          }),
        unfollow: (runIds, follower) =>
          this.guard('unfollow', undefined, async () => {
            await this.pool.query(unfollowQuery(this.s, runIds, follower));
          }),
      },
    );
    this.attempts = new PgDispatchedAttempts(
      this.pool,
      this.s,
      this.channel,
      (action, fn) => this.guard(action, undefined, fn),
      this.names,
    );
    this.batcher = new PgAppendBatcher(
      this.pool,
      this.names,
      this.s,
      this.channel,
      (runId, error) => this.failure('append to', runId, error),
      this.reconnectWindowMs,
    );
    this.runWithJournal = this.names.statement(runWithJournalText(this.s));
    this.changes = new PgChangeBatcher(
      this.pool,
      this.names.statement(changeBatchText(this.s)),
      this.channel,
      this.changeAlone,
    );
  }

  /** Creates the schema and runs the pending migrations under an advisory lock. Idempotent. */
  async init(): Promise<void> {
    await this.guard('migrate', undefined, () => migratePostgres(this.pool, this.schema, this.s));
  }

  /** The coordinator's side of fan-out: made on first use, for every run executing through this storage. */
  stepDispatch(options: Parameters<NonNullable<WeftStorage['stepDispatch']>>[0]): PgStepDispatcher {
    return (this.dispatcher ??= new PgStepDispatcher(this.attempts, this.notifier, options.now, options.logger, 1000));
  }

  /** Waits for the writes in flight, stops the notifier and, when the pool is the storage's own, ends it. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
    await this.creations.flushAll();
    await this.order.settled();
    await this.notifier.close();
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }

  /**
   * Held briefly (`RunCreations`): a claim issued meanwhile stores the run with it, in one statement;
   * otherwise the inserts held together go out together. An id in use answers with its stored row.
   */
  createRun(run: NewRun): Promise<StoredRun> {
    return this.creations.add(run);
  }

  /** Stores held runs in one statement, which answers with the stored rows of the ids in use. */
  private async insertRuns(held: HeldCreation[]): Promise<void> {
    const runIds = held.map((creation) => creation.run.runId);
    const rows = await this.guard('create', held.length === 1 ? runIds[0] : undefined, async () => {
      const inserted = await this.send<PgRunRow>(
        insertRunsQuery(
          this.s,
          held.map((creation) => creation.run),
        ),
      );
      const byId = new Map(inserted.rows.map((row) => [row.run_id, row]));
      const inUse = runIds.filter((runId) => !byId.has(runId));
      // A second statement (a new snapshot) sees the rows that concurrent creators committed meanwhile.
      if (inUse.length > 0) {
        const found = await this.pool.query<PgRunRow>(
          `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE run_id = ANY($1::text[])`,
          [inUse],
        );
        for (const row of found.rows) byId.set(row.run_id, row);
      }
      return byId;
    });
    for (const creation of held) {
      const row = rows.get(creation.run.runId);
      if (row) creation.resolve(toStoredRun(row));
      else {
        const { runId } = creation.run;
        creation.reject(
          new WeftError('STORAGE_ERROR', `Run "${runId}" was deleted while it was being created`, { runId }),
        );
      }
    }
  }

  async getRun(runId: string): Promise<StoredRun | null> {
    await this.creations.settle(runId);
    return this.guard('read', runId, async () => {
      const row = await this.selectRun(runId);
      return row ? toStoredRun(row) : null;
    });
  }

  async listRuns(filter: RunFilter = {}): Promise<{ runs: StoredRun[]; total: number }> {
    await this.creations.settleAll();
    return this.guard('list runs', undefined, async () => {
      const queries = listRunsQueries(this.s, filter);
      const { rows } = await this.pool.query<PgRunRow & { total: string }>(queries.page);
      if (rows.length > 0) return { runs: rows.map(toStoredRun), total: Number(rows[0]!.total) };
      const count = await this.pool.query<{ total: string }>(queries.count);
      return { runs: [], total: Number(count.rows[0]?.total ?? 0) };
    });
  }

  async deleteRun(runId: string): Promise<boolean> {
    return this.order.after(runId, async () => {
      await this.creations.settle(runId);
      return this.guard('delete', runId, () =>
        this.transaction(async (client) => {
          // The run first: its row lock waits for an append in flight, whose entries the next statement then sees.
          const deleted = await client.query(`DELETE FROM ${this.s}.runs WHERE run_id = $1`, [runId]);
          await client.query(`DELETE FROM ${this.s}.journal WHERE run_id = $1`, [runId]);
          return (deleted.rowCount ?? 0) > 0;
        }),
      );
    });
  }

  async pruneRuns(filter: PruneFilter): Promise<number> {
    checkPruneFilter(filter);
    return this.guard('prune runs', undefined, () => this.transaction((client) => pruneBatch(client, this.s, filter)));
  }

  async updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ): Promise<StoredRun | null> {
    const invalid = entries ? checkJournalBatch(runId, entries) : null;
    if (invalid) throw invalid;
    return this.order.after(runId, async () => {
      // A claim of a run created in this tick stores the run with it. The insert is taken in the run's
      // turn (at once when nothing of the run is queued): an earlier write of the run still queued sends
      // it first and waits for it, which it could not do if the insert were taken before that write ran.
      const creation = holdsForNewRun(condition) ? this.creations.take(runId) : null;
      if (creation) {
        const row = await this.insertChanged(creation, condition, change, entries);
        if (row) return row;
      } else {
        await this.creations.settle(runId);
      }
      return this.changes.change({ runId, condition, change, entries });
    });
  }

  /**
   * Inserts a held run with `change` applied and `entries` (with the changes of other runs issued meanwhile,
   * `PgChangeBatcher`); settles its `createRun`. Returns undefined, having stored nothing, when the id was
   * in use: the stored run is then updated as usual.
   */
  private async insertChanged(
    creation: HeldCreation,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries: readonly JournalEntry[] | undefined,
  ): Promise<StoredRun | undefined> {
    const { run } = creation;
    let row: StoredRun | null | undefined;
    try {
      row = await this.changes.change({ runId: run.runId, newRun: run, condition, change, entries });
      if (row) {
        creation.resolve(pendingRunRow(run));
        return row;
      }
      // Not getRun: it would wait for this very insert.
      const stored = await this.guard('read', run.runId, () => this.selectRun(run.runId));
      row = stored ? toStoredRun(stored) : null;
    } catch (error) {
      creation.reject(error);
      throw error;
    }
    if (row) creation.resolve(row);
    else creation.reject(new WeftError('STORAGE_ERROR', `Run "${run.runId}" was deleted while it was being created`));
    return undefined;
  }

  /**
   * One run's change in its own statement: the insert of a held run with the change applied, or the
   * compare-and-set of a stored one, either carrying `entries`. `lost`: a batch that carried it lost its
   * connection, and may have committed it.
   */
  private readonly changeAlone = (item: ChangeItem, lost: boolean): Promise<StoredRun | null> => {
    const { runId, newRun, condition, change, entries } = item;
    const base = newRun
      ? insertChangedRunQuery(this.s, newRun, change)
      : updateRunQuery(this.s, runId, condition, change);
    const query =
      entries && entries.length > 0 ? updateWithEntriesQuery(this.s, this.channel, base, runId, entries) : base;
    return this.guardChange(newRun ? 'create' : 'update', item, lost, async () => {
      try {
        const { rows } = await this.send<PgRunRow>(query);
        return rows[0] ? changedRun(runId, change, rows[0]) : null;
      } catch (error) {
        // A seq the journal holds: the statement changed nothing; say how far the journal reaches.
        if (newRun || !entries || entries.length === 0 || (error as { code?: unknown }).code !== '23505') throw error;
        const last = await this.pool.query<{ last_seq: string | null }>(lastSeqQuery(this.s, runId));
        throw seqNotAfterJournal(runId, entries[0]!.seq, Number(last.rows[0]?.last_seq ?? 0));
      }
    });
  };

  async appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    const invalid = checkJournalBatch(runId, entries);
    if (invalid) throw invalid;
    return this.order.after(runId, async () => {
      await this.creations.settle(runId);
      return this.guard('append to', runId, async () => {
        if (entries.length === 0) {
          const { rows } = await this.send<{ epoch: number }>(epochQuery(this.s, runId));
          if (rows[0]?.epoch !== epoch) throw ownershipLost(runId, rows[0]?.epoch ?? null, epoch);
          return;
        }
        return this.batcher.append({ runId, epoch, entries });
      });
    });
  }

  async readJournal(runId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<JournalEntry[]> {
    return this.guard('read the journal of', runId, async () => {
      const query = readQuery(this.s, runId, options.afterSeq ?? 0, options.limit ?? null);
      const { rows } = await this.send<PgJournalRow>(query);
      return rows.map(toJournalEntry);
    });
  }

  async readRunWithJournal(runId: string): Promise<{ run: StoredRun; journal: JournalEntry[] } | null> {
    await this.creations.settle(runId);
    return this.guard('read', runId, async () => {
      const { rows } = await this.pool.query<PgRunRow & PgJournalRow>(this.runWithJournal.with([runId]));
      const [first, ...rest] = rows;
      if (!first || first.seq !== null) return null;
      return { run: toStoredRun(first), journal: rest.map(toJournalEntry) };
    });
  }

  async renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]> {
    if (runIds.length === 0) return [];
    return this.guard('renew leases', undefined, async () => {
      // Rows are locked in run_id order, as the batched append locks them: a lock order taken from
      // the scan (the table's physical order) made the two deadlock under load.
      const { rows } = await this.send<{ run_id: string }>({
        text: `WITH due AS (
           SELECT run_id FROM ${this.s}.runs
           WHERE run_id = ANY($2::text[]) AND lease_owner = $3 AND ${ACTIVE}
           ORDER BY run_id FOR NO KEY UPDATE
         )
         UPDATE ${this.s}.runs r SET lease_expires_at = $1 FROM due WHERE r.run_id = due.run_id RETURNING r.run_id`,
        values: [expiresAt, runIds, owner],
      });
      return rows.map((row) => row.run_id);
    });
  }

  async listExpiredRuns(now: number, limit: number): Promise<StoredRun[]> {
    return this.guard('list expired runs', undefined, async () => {
      const { rows } = await this.pool.query<PgRunRow>(
        `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs
         WHERE ${ACTIVE} AND (lease_expires_at IS NULL OR lease_expires_at < $1)
         ORDER BY updated_at, run_id LIMIT $2`,
        [now, limit],
      );
      return rows.map(toStoredRun);
    });
  }

  async syncSchedules(
    workflowIds: readonly string[],
    schedules: readonly ScheduleDefinition[],
    at: number,
  ): Promise<void> {
    await this.guard('store schedules', undefined, () =>
      this.pool.query(syncSchedulesQuery(this.s, workflowIds, schedules, at)),
    );
  }

  async listSchedules(filter: { workflowId?: string } = {}): Promise<StoredSchedule[]> {
    return this.guard('list schedules', undefined, async () => {
      const { rows } = await this.pool.query<PgScheduleRow>(
        `SELECT ${SCHEDULE_COLUMNS} FROM ${this.s}.schedules
         WHERE $1::text IS NULL OR workflow_id = $1 ORDER BY schedule_id`,
        [filter.workflowId ?? null],
      );
      return rows.map(toStoredSchedule);
    });
  }

  async getSchedule(scheduleId: string): Promise<StoredSchedule | null> {
    return this.guard('read schedule', undefined, async () => {
      const { rows } = await this.pool.query<PgScheduleRow>(
        `SELECT ${SCHEDULE_COLUMNS} FROM ${this.s}.schedules WHERE schedule_id = $1`,
        [scheduleId],
      );
      return rows[0] ? toStoredSchedule(rows[0]) : null;
    });
  }

  async claimScheduleFire(claim: ScheduleFireClaim): Promise<boolean> {
    // Tried again on a lost connection: a claim that had committed is then refused (its fire exists),
    // and its run, pending, is started by a scheduler's next pass.
    return this.guard('claim a fire of schedule', claim.fire?.runId, async () => {
      const { rows } = await this.pool.query<{ n: number }>(claimFireQuery(this.s, claim));
      return rows[0]?.n === 1;
    });
  }

  async setSchedulePaused(
    scheduleId: string,
    paused: boolean,
    nextFireAt: number | null,
    at: number,
  ): Promise<StoredSchedule | null> {
    return this.guard('pause or resume schedule', undefined, async () => {
      const { rows } = await this.pool.query<PgScheduleRow>(setPausedQuery(this.s, scheduleId, paused, nextFireAt, at));
      return rows[0] ? toStoredSchedule(rows[0]) : null;
    });
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.guard('delete schedule', undefined, async () => {
      const deleted = await this.pool.query(`DELETE FROM ${this.s}.schedules WHERE schedule_id = $1`, [scheduleId]);
      return (deleted.rowCount ?? 0) > 0;
    });
  }

  async listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFire[]> {
    return this.guard('list the fires of schedule', undefined, async () => {
      const { rows } = await this.pool.query<PgFireRow>(listFiresQuery(this.s, scheduleId, limit));
      return rows.map(toScheduleFire);
    });
  }

  /**
   * `guard` for a compare-and-set: an attempt whose connection was lost (or, `lost`, a batch that carried
   * it) may have committed, and then its result stands.
   */
  private guardChange(
    action: string,
    item: ChangeItem,
    lost: boolean,
    attempt: () => Promise<StoredRun | null>,
  ): Promise<StoredRun | null> {
    const { runId, condition, change, entries } = item;
    return this.guard(action, runId, async (retried) => {
      if (retried || lost) {
        const applied = await this.appliedUpdate(runId, condition, change, entries);
        if (applied) return applied;
      }
      return attempt();
    });
  }

  /** The run as stored, if it shows `change` applied and holds `entries`; else null. */
  private async appliedUpdate(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries: readonly JournalEntry[] | undefined,
  ): Promise<StoredRun | null> {
    const row = await this.selectRun(runId);
    if (!row || !changeApplied(toStoredRun(row), condition, change)) return null;
    if (entries && entries.length > 0) {
      const last = await this.pool.query<{ last_seq: string | null }>(lastSeqQuery(this.s, runId));
      if (Number(last.rows[0]?.last_seq ?? 0) < entries[entries.length - 1]!.seq) return null;
    }
    return toStoredRun(row);
  }

  /** Sends `query` through the pool, as a named statement when they are enabled. */
  private send<R extends QueryResultRow>(query: PgQuery): Promise<QueryResult<R>> {
    return this.pool.query<R>(this.names.named(query));
  }

  private async selectRun(runId: string): Promise<PgRunRow | undefined> {
    const { rows } = await this.send<PgRunRow>({
      text: `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE run_id = $1`,
      values: [runId],
    });
    return rows[0];
  }

  /**
   * Runs `fn` in a transaction on one pooled client: COMMIT when it returns, ROLLBACK when it throws
   * or returns null. A client whose connection was lost is discarded rather than returned to the pool.
   */
  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const { client, lost, stopListening } = await this.checkOut();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query(result === null ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      stopListening();
      client.release(broken || lost());
    }
  }

  /**
   * A client of the pool, listening for its connection's loss. While a client is checked out, pg
   * emits a lost connection (a terminated backend, a restarted server) as an 'error' event on it,
   * which the pool no longer listens to: without a listener, the process crashes. The listener is
   * added in pg's callback, not after an `await`: pg may parse the server's FATAL message right after
   * the message that completed the connection, before an awaiting caller could run.
   */
  private checkOut(): Promise<{ client: PoolClient; lost: () => boolean; stopListening: () => void }> {
    return new Promise((resolve, reject) => {
      this.pool.connect((error, client) => {
        if (error || !client) {
          reject(error ?? new Error('The pool gave no client'));
          return;
        }
        let lost = false;
        const onError = (): void => {
          lost = true;
        };
        client.on('error', onError);
        resolve({ client, lost: () => lost, stopListening: () => client.removeListener('error', onError) });
      });
    });
  }

  /**
   * Runs `fn`, again on a new connection while the connection is lost (up to
   * `reconnectWindowMs`; `retried` tells a write to check whether the lost attempt committed),
   * turning driver errors into `STORAGE_ERROR`s.
   */
  private async guard<T>(action: string, runId: string | undefined, fn: (retried: boolean) => Promise<T>): Promise<T> {
    try {
      return await withReconnects(fn, this.reconnectWindowMs);
    } catch (error) {
      throw this.failure(action, runId, error);
    }
  }

  /** A WeftError stays as it is; a driver error becomes a STORAGE_ERROR that names the action and the run, never the values. */
  private failure(action: string, runId: string | undefined, error: unknown): unknown {
    if (WeftError.is(error)) return error;
    const code = (error as { code?: unknown }).code;
    // SQLSTATE class 22 (data exception) messages quote the offending value.
    const detail =
      typeof code === 'string' && code.startsWith('22') ? 'invalid data' : ((error as Error).message ?? String(error));
    const what = runId === undefined ? action : `${action} run "${runId}"`;
    return new WeftError(
      'STORAGE_ERROR',
      `Postgres storage (schema "${this.schema}") failed to ${what}${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`,
      runId === undefined ? { cause: error } : { runId, cause: error },
    );
  }
}
