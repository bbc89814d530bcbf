// Durable storage in one SQLite file (better-sqlite3): the embedded default, shared by several instances and processes.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as SqliteDatabase, Transaction } from 'better-sqlite3';
import { WeftError } from '../../errors.js';
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
import { SqliteSchedules } from './sqlite-schedules.js';
import { checkJournalBatch, conditionHolds } from '../journal-checks.js';
import { migrateSqlite } from './migrations.js';
import { sqliteRecoveryHint } from './recovery-hint.js';
import type { RunStatements } from './run-statements.js';
import { ListRunsQueries, prepareRunStatements, updateRunParams } from './run-statements.js';
import { Checkpointer, CHECKPOINT_AFTER_COMMITS } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { SqliteJournal } from './sqlite-journal.js';
import { SqlitePruner, vacuumSqlite } from './sqlite-prune.js';
import { checkPruneFilter } from '../prune-filter.js';

/** Options of `SqliteStorage`. */
export interface SqliteStorageOptions {
  /** The database file (its parent directories are created), or `':memory:'`. */
  path: string;
  /** How long a write waits for another process's write lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
}

/** The grouped writes, prepared on the connection that commits them. */
interface WriteStatements {
  db: SqliteDatabase;
  journal: SqliteJournal;
  insertRun: (run: NewRun) => StoredRun;
  pruner: SqlitePruner;
  schedules: SqliteSchedules;
  updateRun: (...args: Parameters<SqliteStorage['updateRun']>) => StoredRun | null;
}

/** Everything that exists only while the database is open. */
interface OpenDatabase {
  db: SqliteDatabase;
  /**
   * The writes `writes` groups, on a second connection to a file, whose busy timeout is 0 so that a
   * commit waiting for another process's write lock retries without blocking the event loop (see
   * `GroupCommit`); on `db` itself for an in-memory database.
   */
  writer: WriteStatements;
  runs: RunStatements;
  journal: SqliteJournal;
  schedules: SqliteSchedules;
  writes: GroupCommit;
  deleteRun: Transaction<(runId: string) => boolean>;
  listRuns: Transaction<(filter: RunFilter) => { runs: StoredRun[]; total: number }>;
}

type SqliteDriver = typeof import('better-sqlite3');

/** The driver, loaded when the first store opens: importing `weft` (whose default store this is) does not load it. */
let driver: Promise<SqliteDriver> | undefined;

function loadDriver(): Promise<SqliteDriver> {
  driver ??= import('better-sqlite3').then((module) => module.default);
  return driver;
}

/** True for the driver error codes of a damaged file: `SQLITE_CORRUPT` (and its extended codes), `SQLITE_NOTADB`. */
function isDamage(code: unknown): boolean {
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Whether `path` names a file of its own (not an in-memory database or a URI). */
function isFilePath(path: string): boolean {
  return path !== ':memory:' && path !== '' && !path.startsWith('file:');
}

/** Prepares the grouped writes on `db`. */
function prepareWrites(db: SqliteDatabase): WriteStatements {
  const runs = prepareRunStatements(db);
  const journal = new SqliteJournal(db);
  return {
    db,
    journal,
    pruner: new SqlitePruner(db),
    schedules: new SqliteSchedules(db),
    insertRun: (run: NewRun) => {
      runs.insert.run(run.runId, run.workflowId, run.resourceId, run.createdAt, run.createdAt);
      return runs.get.get(run.runId)!;
    },
    // No nested transaction (a savepoint costs two statements): entries are checked before the
    // update changes anything, so a refused batch leaves nothing in the group's transaction.
    updateRun: (runId, condition, change, entries) => {
      const place = entries && entries.length > 0 ? journal.placeAfterLast(runId, entries) : null;
      if (place instanceof WeftError) {
        // A condition that does not hold says so first, as the update would have.
        const row = runs.get.get(runId);
        if (!row || !conditionHolds(row, condition)) return null;
        throw place;
      }
      const row = runs.update.get(updateRunParams(runId, condition, change));
      if (!row) return null;
      if (typeof place === 'number') journal.insertAll(place, entries!);
      return row;
    },
  };
}

/**
 * Stores runs and journals in a SQLite file, in WAL mode so that readers never block the
 * writer. Several instances and processes may open the same file: writes take the file's
 * write lock (`BEGIN IMMEDIATE`) and wait up to `busyTimeoutMs` for it. Creates, updates and
 * appends issued in the same tick are committed together, one transaction for many runs.
 *
 * @example
 * import { SqliteStorage } from 'weft/sqlite';
 * const weft = new Weft({ workflows: { order }, storage: new SqliteStorage({ path: '.weft/weft.db' }) });
 */
export class SqliteStorage implements WeftStorage {
  readonly kind = 'sqlite';
  /** Writes are queued and committed in order, and every read commits the queue first. */
  readonly writesInOrder = true;
  readonly checksUpdatedAt = true;
  private open: OpenDatabase | undefined;
  private closed = false;

  constructor(private readonly options: SqliteStorageOptions) {}

  /** Opens the file (creating its directory), sets WAL mode and runs the pending migrations. Idempotent. */
  async init(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.open) return;
    const Database = await loadDriver().catch((error: unknown) => {
      throw this.failure('load its driver (better-sqlite3) to open', undefined, error);
    });
    // Closed, or opened by a concurrent call, while the driver loaded.
    if (this.closed) throw this.closedError();
    if (this.open) return;
    const { path } = this.options;
    let db: SqliteDatabase | undefined;
    let writer: SqliteDatabase | undefined;
    try {
      if (isFilePath(path)) mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrateSqlite(db, path);
      writer = this.openWriter(Database, db);
      this.open = this.prepare(db, writer);
    } catch (error) {
      if (writer !== db) writer?.close();
      db?.close();
      throw this.failure('open', undefined, error);
    }
  }

  /** Commits the queued writes and closes the file. Every call resolves once it is closed. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeNow(): Promise<void> {
    this.closed = true;
    const open = this.open;
    this.open = undefined;
    if (!open) return;
    try {
      open.writes.flush();
    } finally {
      await this.checkpointer?.stop();
      if (open.writer.db !== open.db) open.writer.db.close();
      open.db.close();
    }
  }

  private commits = 0;
  private checkpointer: Checkpointer | undefined;

  /**
   * Counts commits: a file that keeps being written hands its WAL checkpoints to a worker thread, so
   * that no commit waits for one (a checkpoint and its fsync cost a third of a stored step's time).
   */
  private committed(db: SqliteDatabase, writerDb: SqliteDatabase): void {
    if (++this.commits !== CHECKPOINT_AFTER_COMMITS || writerDb === db || this.closed) return;
    this.checkpointer = new Checkpointer([db, writerDb], this.options.path);
  }

  /** The connection for grouped writes: a second one to a file, the same one for an in-memory database. */
  private openWriter(Database: SqliteDriver, db: SqliteDatabase): SqliteDatabase {
    const { path } = this.options;
    if (!isFilePath(path)) return db;
    const writer = new Database(path);
    writer.pragma('busy_timeout = 0');
    writer.pragma('synchronous = NORMAL');
    return writer;
  }

  async createRun(run: NewRun): Promise<StoredRun> {
    const open = this.writable('create', run.runId);
    return open.writes.write('create', run.runId, () => open.writer.insertRun(run));
  }

  async getRun(runId: string): Promise<StoredRun | null> {
    return this.execute('read', runId, (o) => o.runs.get.get(runId) ?? null);
  }

  async listRuns(filter: RunFilter = {}): Promise<{ runs: StoredRun[]; total: number }> {
    return this.execute('list runs', undefined, (o) => o.listRuns.deferred(filter));
  }

  async deleteRun(runId: string): Promise<boolean> {
    this.writable('delete', runId);
    return this.execute('delete', runId, (o) => o.deleteRun.immediate(runId));
  }

  async pruneRuns(filter: PruneFilter): Promise<number> {
    checkPruneFilter(filter);
    const open = this.writable('prune runs', undefined);
    // A grouped write: it waits for another process's write lock without holding the event loop.
    return open.writes.write('prune runs', undefined, () => open.writer.pruner.prune(filter));
  }

  /**
   * Shrinks the file to what it holds (`VACUUM`): pages freed by deleted or pruned runs are otherwise
   * kept for reuse. It copies the whole database and holds the write lock meanwhile, so other writers
   * (in this and other processes) wait: run it when the store is quiet, e.g. `weft runs prune --vacuum`.
   */
  async vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    this.writable('vacuum', undefined);
    return this.execute('vacuum', undefined, (o) => vacuumSqlite(o.db));
  }

  async updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ): Promise<StoredRun | null> {
    const invalid = entries ? checkJournalBatch(runId, entries) : null;
    if (invalid) throw invalid;
    const open = this.writable('update', runId);
    // A nested transaction: a refused entry batch rolls back this update only, not its group.
    return open.writes.write('update', runId, () => open.writer.updateRun(runId, condition, change, entries));
  }

  async appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    const open = this.writable('append to', runId);
    return open.writes.write('append to', runId, () => open.writer.journal.appendFenced(runId, epoch, entries));
  }

  async readJournal(runId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<JournalEntry[]> {
    return this.execute('read the journal of', runId, (o) =>
      o.journal.readAfter(runId, options.afterSeq ?? 0, options.limit),
    );
  }

  async renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]> {
    if (runIds.length === 0) return [];
    this.writable('renew leases', undefined);
    return this.execute('renew leases', undefined, (o) =>
      o.runs.renew.all(expiresAt, JSON.stringify(runIds), owner).map((row) => row.runId),
    );
  }

  async listExpiredRuns(now: number, limit: number): Promise<StoredRun[]> {
    return this.execute('list expired runs', undefined, (o) => o.runs.expired.all(now, limit));
  }

  async syncSchedules(
    workflowIds: readonly string[],
    schedules: readonly ScheduleDefinition[],
    at: number,
  ): Promise<void> {
    const open = this.writable('store schedules', undefined);
    return open.writes.write('store schedules', undefined, () =>
      open.writer.schedules.sync(workflowIds, schedules, at),
    );
  }

  async listSchedules(filter: { workflowId?: string } = {}): Promise<StoredSchedule[]> {
    return this.execute('list schedules', undefined, (o) => o.schedules.listSchedules(filter.workflowId));
  }

  async getSchedule(scheduleId: string): Promise<StoredSchedule | null> {
    return this.execute('read schedule', undefined, (o) => o.schedules.getSchedule(scheduleId));
  }

  async claimScheduleFire(claim: ScheduleFireClaim): Promise<boolean> {
    const open = this.writable('claim a fire of schedule', undefined);
    return open.writes.write('claim a fire of schedule', claim.fire?.runId, () => open.writer.schedules.claim(claim));
  }

  async setSchedulePaused(
    scheduleId: string,
    paused: boolean,
    nextFireAt: number | null,
    at: number,
  ): Promise<StoredSchedule | null> {
    const open = this.writable('pause or resume schedule', undefined);
    return open.writes.write('pause or resume schedule', undefined, () =>
      open.writer.schedules.setPaused(scheduleId, paused, nextFireAt, at),
    );
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    const open = this.writable('delete schedule', undefined);
    return open.writes.write('delete schedule', undefined, () => open.writer.schedules.delete(scheduleId));
  }

  async listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFire[]> {
    return this.execute('list the fires of schedule', undefined, (o) => o.schedules.listFires(scheduleId, limit));
  }

  /** Prepares every statement and transaction once, after the migrations; `writerDb` commits the grouped writes. */
  private prepare(db: SqliteDatabase, writerDb: SqliteDatabase): OpenDatabase {
    const runs = prepareRunStatements(db);
    const lists = new ListRunsQueries(db);
    const journal = new SqliteJournal(db);
    return {
      db,
      writer: prepareWrites(writerDb),
      runs,
      journal,
      schedules: new SqliteSchedules(db),
      writes: new GroupCommit(
        writerDb,
        (action, runId, error) => this.failure(action, runId, error),
        this.busyTimeoutMs,
        () => this.committed(db, writerDb),
      ),
      deleteRun: db.transaction((runId: string) => {
        journal.deleteRun(runId);
        return runs.delete.run(runId).changes > 0;
      }),
      listRuns: db.transaction((filter: RunFilter) => lists.list(filter)),
    };
  }

  private get busyTimeoutMs(): number {
    return Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000));
  }

  /**
   * Runs one synchronous database action after committing the queued writes (so nothing
   * overtakes a write issued earlier), turning driver errors into `STORAGE_ERROR`s.
   */
  private execute<T>(action: string, runId: string | undefined, fn: (open: OpenDatabase) => T): T {
    const open = this.opened();
    open.writes.flush();
    try {
      return fn(open);
    } catch (error) {
      throw this.failure(action, runId, error);
    }
  }

  private opened(): OpenDatabase {
    if (this.open) return this.open;
    if (this.closed) throw this.closedError();
    throw new WeftError('STORAGE_ERROR', `SQLite storage "${this.options.path}" is not initialised: call init() first`);
  }

  /** Set once SQLite reported the file damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`): no write is tried after. */
  private damage: string | undefined;

  /** The open database, for a write: refused once the file was found damaged, so nothing more goes into it. */
  private writable(action: string, runId: string | undefined): OpenDatabase {
    const open = this.opened();
    if (this.damage === undefined) return open;
    const what = runId === undefined ? action : `${action} run "${runId}"`;
    throw new WeftError(
      'STORAGE_ERROR',
      `SQLite storage "${this.options.path}" refuses to ${what}: the file is damaged (${this.damage}). ${sqliteRecoveryHint(this.options.path)}`,
      runId === undefined ? {} : { runId },
    );
  }

  private closedError(): WeftError {
    return new WeftError('STORAGE_ERROR', `SQLite storage "${this.options.path}" is closed`);
  }

  /** A WeftError stays as it is; a driver error becomes a STORAGE_ERROR that names the action, not the values. */
  private failure(action: string, runId: string | undefined, error: unknown): unknown {
    if (WeftError.is(error)) return error;
    const code = (error as { code?: unknown }).code;
    const what = runId === undefined ? action : `${action} run "${runId}"`;
    const damaged = isDamage(code);
    if (damaged) this.damage ??= `${code as string} while trying to ${what}`;
    return new WeftError(
      'STORAGE_ERROR',
      `SQLite storage "${this.options.path}" failed to ${what}${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message ?? String(error)}${damaged ? `. The file is damaged; no more writes go to it. ${sqliteRecoveryHint(this.options.path)}` : ''}`,
      runId === undefined ? { cause: error } : { runId, cause: error },
    );
  }
}
