// The versioned, ordered schema migrations of the Postgres adapter, applied under an advisory lock.
import type { Pool } from 'pg';
import { WeftError } from '../../errors.js';

/** One schema change, written against the quoted schema name `s`. A released migration never changes. */
interface PgMigration {
  version: number;
  name: string;
  sql(s: string): string;
}

/** Every migration, oldest first. Ids use the "C" collation: byte order, as in SQLite, and cheap to compare. */
const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'runs and journal',
    sql: (s) => `
      CREATE TABLE ${s}.runs (
        run_id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        workflow_id      TEXT COLLATE "C" NOT NULL,
        resource_id      TEXT COLLATE "C",
        status           TEXT    NOT NULL,
        epoch            INTEGER NOT NULL DEFAULT 0,
        created_at       BIGINT  NOT NULL,
        updated_at       BIGINT  NOT NULL,
        lease_owner      TEXT COLLATE "C",
        lease_expires_at BIGINT,
        wake_at          BIGINT,
        input            TEXT,
        outcome          TEXT
      );

      CREATE TABLE ${s}.journal (
        run_id TEXT COLLATE "C" NOT NULL,
        seq    BIGINT NOT NULL,
        type   TEXT   NOT NULL,
        data   TEXT   NOT NULL,
        at     BIGINT NOT NULL,
        PRIMARY KEY (run_id, seq)
      );

      -- listRuns: newest first, alone or under one equality filter.
      CREATE INDEX runs_by_created ON ${s}.runs (created_at DESC, run_id DESC);
      CREATE INDEX runs_by_workflow ON ${s}.runs (workflow_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_resource ON ${s}.runs (resource_id, created_at DESC, run_id DESC);
      CREATE INDEX runs_by_status ON ${s}.runs (status, created_at DESC, run_id DESC);

      -- listExpiredRuns: only active runs, least recently updated first.
      CREATE INDEX runs_active_by_updated ON ${s}.runs (updated_at, run_id) WHERE status IN ('running', 'waiting');
    `,
  },
  {
    version: 2,
    name: 'followed runs',
    sql: (s) => `
      -- The runs somebody follows live, by which notifier, until when (renewed while it follows). A
      -- journal write notifies only for these: every NOTIFY wakes every listening connection of the
      -- database (Postgres 15), workers' and servers' included, so one per write cost a transaction
      -- on each of them for runs nobody watched.
      CREATE TABLE ${s}.followed (
        run_id     TEXT COLLATE "C" NOT NULL,
        follower   TEXT COLLATE "C" NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (run_id, follower)
      );
    `,
  },
  {
    version: 3,
    name: 'schedules',
    sql: (s) => `
      -- The schedules the code declares; next_fire_at moves only by compare-and-set (claimScheduleFire).
      CREATE TABLE ${s}.schedules (
        schedule_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        workflow_id  TEXT COLLATE "C" NOT NULL,
        cron         TEXT    NOT NULL,
        timezone     TEXT,
        spec         TEXT    NOT NULL,
        paused       BOOLEAN NOT NULL DEFAULT false,
        next_fire_at BIGINT,
        last_fire_at BIGINT,
        last_run_id  TEXT COLLATE "C",
        created_at   BIGINT  NOT NULL,
        updated_at   BIGINT  NOT NULL
      );
      CREATE INDEX schedules_by_workflow ON ${s}.schedules (workflow_id);

      -- One row per fire: its key makes a fire happen once, and it names the run the fire created.
      CREATE TABLE ${s}.schedule_fires (
        schedule_id TEXT COLLATE "C" NOT NULL,
        fire_at     BIGINT  NOT NULL,
        run_id      TEXT COLLATE "C" NOT NULL,
        manual      BOOLEAN NOT NULL,
        claimed_at  BIGINT  NOT NULL,
        PRIMARY KEY (schedule_id, fire_at)
      );
    `,
  },
  {
    version: 4,
    name: 'dispatched step attempts',
    sql: (s) => `
      -- Attempts of foreach items and parallel branches that any worker may execute (runWorker's fanOut):
      -- stored by the run's coordinator, claimed by a worker (owner, lease), completed with their result
      -- (JSON text), and deleted once the coordinator recorded the step in the journal.
      CREATE TABLE ${s}.dispatched (
        attempt_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        dispatch_id      TEXT COLLATE "C" NOT NULL,
        run_id           TEXT COLLATE "C" NOT NULL REFERENCES ${s}.runs (run_id) ON DELETE CASCADE,
        workflow_id      TEXT COLLATE "C" NOT NULL,
        step_key         TEXT COLLATE "C" NOT NULL,
        epoch            INTEGER NOT NULL,
        status           TEXT    NOT NULL,
        call             TEXT    NOT NULL,
        result           TEXT,
        owner            TEXT COLLATE "C",
        lease_expires_at BIGINT,
        tries            INTEGER NOT NULL DEFAULT 0,
        created_at       BIGINT  NOT NULL
      );
      CREATE INDEX dispatched_ready ON ${s}.dispatched (created_at) WHERE status = 'ready';
      CREATE INDEX dispatched_running ON ${s}.dispatched (lease_expires_at) WHERE status = 'running';
      CREATE INDEX dispatched_by_run ON ${s}.dispatched (run_id);
      CREATE INDEX dispatched_by_dispatch ON ${s}.dispatched (dispatch_id);
    `,
  },
];

/** The newest schema version this code knows. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/**
 * Creates the schema if needed and applies the migrations not yet recorded in its
 * `schema_migrations`, in order, in one transaction that first takes a transaction-level
 * advisory lock named after the schema: processes that migrate at once run one after the
 * other, and the later ones find nothing to do. Returns the versions applied.
 */
export async function migratePostgres(pool: Pool, schema: string, quoted: string): Promise<number[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`weft:migrate:${schema}`]);
    // Only create a missing schema, so a role without CREATE on the database can use one made for it.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
      version    INTEGER NOT NULL PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.schema_migrations`);
    const applied = new Set(rows.map((row) => row.version));
    const newest = Math.max(0, ...applied);
    if (newest > PG_SCHEMA_VERSION) {
      throw new WeftError(
        'STORAGE_ERROR',
        `Cannot use the Postgres schema "${schema}": its schema version is ${newest}, newer than ${PG_SCHEMA_VERSION} that this version of Weft knows; upgrade Weft`,
      );
    }
    const done: number[] = [];
    for (const migration of PG_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw error;
  } finally {
    client.release(broken);
  }
}
