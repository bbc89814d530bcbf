// The versioned, ordered schema migrations of the SQLite adapter, and the runner that applies them once.
import type { Database } from 'better-sqlite3';
import { WeftError } from '../../errors.js';

/** One schema change. Versions start at 1 and only grow; a released migration never changes. */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'runs and journal',
    sql: `
      CREATE TABLE runs (
        run_id           TEXT    NOT NULL PRIMARY KEY,
        workflow_id      TEXT    NOT NULL,
        resource_id      TEXT,
        status           TEXT    NOT NULL,
        epoch            INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        lease_owner      TEXT,
        lease_expires_at INTEGER,
        wake_at          INTEGER,
        input            TEXT,
        outcome          TEXT
      ) STRICT;

      CREATE TABLE journal (
        run_id TEXT    NOT NULL,
        seq    INTEGER NOT NULL,
        type   TEXT    NOT NULL,
        data   TEXT    NOT NULL,
        at     INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) STRICT;

      -- listRuns: newest first, alone or under one equality filter.
      CREATE INDEX runs_by_created ON runs (created_at DESC, run_id DESC);
      CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_resource ON runs (resource_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_status ON runs (status, created_at DESC, run_id DESC);

      -- listExpiredRuns: only active runs, least recently updated first.
      CREATE INDEX runs_active_by_updated ON runs (updated_at, run_id) WHERE status IN ('running', 'waiting');
    `,
  },
  {
    version: 2,
    name: 'fewer indexes on runs',
    sql: `
      -- Every index on runs costs each insert and status change a b-tree write (5 to 8 µs). Both
      -- tables stay rowid tables: WITHOUT ROWID saved a page per insert, but in such a b-tree a row
      -- over about 1 KB spills to an overflow page, and a step with a 1 KB output cost twice as much.
      DROP INDEX runs_by_resource;
      DROP INDEX runs_by_status;

      -- Partial: a run without a resource costs it nothing (resource_id = ? implies IS NOT NULL).
      CREATE INDEX runs_by_resource ON runs (resource_id, created_at DESC, run_id DESC) WHERE resource_id IS NOT NULL;

      -- Only runs that stopped short of success: finding the failed or suspended ones among
      -- millions of successful runs stays indexed, while a run that succeeds never enters it. An OR
      -- of equalities, so that the planner sees that status = 'failed' implies it (an IN list does not).
      CREATE INDEX runs_stopped_by_status ON runs (status, created_at DESC, run_id DESC)
        WHERE status = 'suspended' OR status = 'paused' OR status = 'failed' OR status = 'canceled';
    `,
  },
  {
    version: 3,
    name: 'journal keyed by one integer',
    sql: `
      -- A journal entry's key becomes one integer, run_key * 2^32 + seq: the journal is a single
      -- b-tree, and an append writes one page of it instead of two (the table's and its primary
      -- key index's), which made a stored step about 40% cheaper. A run's entries stay together, in
      -- seq order, and a rowid table keeps rows of up to about 4 KB in place. runs gets the integer
      -- key (its rowid, kept by VACUUM since it is declared), its text id stays unique.
      CREATE TABLE runs_v3 (
        run_key          INTEGER PRIMARY KEY,
        run_id           TEXT    NOT NULL UNIQUE,
        workflow_id      TEXT    NOT NULL,
        resource_id      TEXT,
        status           TEXT    NOT NULL,
        epoch            INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        lease_owner      TEXT,
        lease_expires_at INTEGER,
        wake_at          INTEGER,
        input            TEXT,
        outcome          TEXT
      ) STRICT;
      INSERT INTO runs_v3 (run_key, run_id, workflow_id, resource_id, status, epoch, created_at, updated_at,
                           lease_owner, lease_expires_at, wake_at, input, outcome)
        SELECT rowid, run_id, workflow_id, resource_id, status, epoch, created_at, updated_at,
               lease_owner, lease_expires_at, wake_at, input, outcome
        FROM runs ORDER BY rowid;

      CREATE TABLE journal_v3 (
        entry_key INTEGER PRIMARY KEY,
        seq       INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 4294967295),
        type      TEXT    NOT NULL,
        data      TEXT    NOT NULL,
        at        INTEGER NOT NULL
      ) STRICT;
      INSERT INTO journal_v3 (entry_key, seq, type, data, at)
        SELECT r.run_key * 4294967296 + j.seq, j.seq, j.type, j.data, j.at
        FROM journal j JOIN runs_v3 r ON r.run_id = j.run_id
        ORDER BY r.run_key, j.seq;

      DROP TABLE journal;
      DROP TABLE runs;
      ALTER TABLE runs_v3 RENAME TO runs;
      ALTER TABLE journal_v3 RENAME TO journal;

      CREATE INDEX runs_by_created ON runs (created_at DESC, run_id DESC);
      CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_resource ON runs (resource_id, created_at DESC, run_id DESC) WHERE resource_id IS NOT NULL;
      CREATE INDEX runs_stopped_by_status ON runs (status, created_at DESC, run_id DESC)
        WHERE status = 'suspended' OR status = 'paused' OR status = 'failed' OR status = 'canceled';
      CREATE INDEX runs_active_by_updated ON runs (updated_at, run_id) WHERE status IN ('running', 'waiting');
    `,
  },
  {
    version: 4,
    name: 'schedules',
    sql: `
      -- The schedules the code declares; next_fire_at moves only by compare-and-set (claimScheduleFire).
      CREATE TABLE schedules (
        schedule_id  TEXT    NOT NULL PRIMARY KEY,
        workflow_id  TEXT    NOT NULL,
        cron         TEXT    NOT NULL,
        timezone     TEXT,
        spec         TEXT    NOT NULL,
        paused       INTEGER NOT NULL DEFAULT 0,
        next_fire_at INTEGER,
        last_fire_at INTEGER,
        last_run_id  TEXT,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX schedules_by_workflow ON schedules (workflow_id);

      -- One row per fire: its key makes a fire happen once, and it names the run the fire created.
      CREATE TABLE schedule_fires (
        schedule_id TEXT    NOT NULL,
        fire_at     INTEGER NOT NULL,
        run_id      TEXT    NOT NULL,
        manual      INTEGER NOT NULL,
        claimed_at  INTEGER NOT NULL,
        PRIMARY KEY (schedule_id, fire_at)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

/** The newest schema version this code knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one
 * `BEGIN IMMEDIATE` transaction: a second process that migrates at the same time waits for
 * the first (busy timeout) and then finds nothing left to do. Returns the versions applied.
 */
export function migrateSqlite(db: Database, path: string): number[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER NOT NULL PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...applied);
    if (newest > SQLITE_SCHEMA_VERSION) {
      throw new WeftError(
        'STORAGE_ERROR',
        `Cannot open the SQLite database "${path}": its schema version is ${newest}, newer than ${SQLITE_SCHEMA_VERSION} that this version of Weft knows; upgrade Weft`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const done: number[] = [];
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
      done.push(migration.version);
    }
    // Mirrors the version for tools that only read the header (`sqlite3 weft.db 'PRAGMA user_version'`).
    if (done.length > 0) db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    db.exec('COMMIT');
    return done;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
