// Diagnosing a SQLite store without changing it: integrity, schema version, runs by status, sizes.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { WeftError } from '../../errors.js';
import { SQLITE_SCHEMA_VERSION } from './migrations.js';

/** What `diagnoseSqliteFile` found. */
export interface SqliteDiagnosis {
  path: string;
  /** True when the integrity check passed and the schema is one this Weft knows. */
  ok: boolean;
  /** `['ok']`, or the problems SQLite's integrity check reported (at most 20). */
  integrity: string[];
  /** The newest migration applied to the file (null when it has no Weft schema or cannot be read). */
  schemaVersion: number | null;
  /** The newest schema version this Weft knows. */
  knownSchemaVersion: number;
  /** Runs per status (null when they cannot be read). */
  runsByStatus: Record<string, number> | null;
  /** Journal entries (null when they cannot be read). */
  journalEntries: number | null;
  fileBytes: number;
  /** Size of the write-ahead log beside the file (`-wal`); 0 when there is none. */
  walBytes: number;
  pageSize: number | null;
  pageCount: number | null;
  /** Pages free inside the file: reused by new writes, returned to the disk only by a VACUUM. */
  freePages: number | null;
  autoVacuum: 'none' | 'full' | 'incremental' | null;
  /** What could not be read, and why. */
  problems: string[];
}

const AUTO_VACUUM = ['none', 'full', 'incremental'] as const;

/**
 * Inspects a SQLite store read-only: runs SQLite's integrity check (`quick: true` for the faster
 * `quick_check`, which skips index contents), reads the schema version, counts runs by status and
 * journal entries, and measures the file, its free pages and its WAL. Never writes to the file.
 *
 * @example
 * const report = diagnoseSqliteFile('.weft/weft.db');
 * if (!report.ok) console.error(report.integrity.join('\n'));
 */
export function diagnoseSqliteFile(path: string, options: { quick?: boolean } = {}): SqliteDiagnosis {
  if (!existsSync(path)) throw new WeftError('INVALID_ARGUMENT', `No SQLite database at "${path}"`);
  const wal = `${path}-wal`;
  const report: SqliteDiagnosis = {
    path,
    ok: false,
    integrity: [],
    schemaVersion: null,
    knownSchemaVersion: SQLITE_SCHEMA_VERSION,
    runsByStatus: null,
    journalEntries: null,
    fileBytes: statSync(path).size,
    walBytes: existsSync(wal) ? statSync(wal).size : 0,
    pageSize: null,
    pageCount: null,
    freePages: null,
    autoVacuum: null,
    problems: [],
  };
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    report.integrity = [`cannot open: ${(error as Error).message}`];
    return report;
  }
  const read = <T>(what: string, fn: () => T): T | null => {
    try {
      return fn();
    } catch (error) {
      report.problems.push(`${what}: ${(error as Error).message}`);
      return null;
    }
  };
  try {
    report.integrity = read(
      'integrity check',
      () =>
        db.pragma(`${options.quick ? 'quick_check' : 'integrity_check'}(20)`, { simple: false }) as {
          [k: string]: string;
        }[],
    )?.map((row) => Object.values(row)[0] as string) ?? ['the integrity check could not run'];
    report.pageSize = read('page size', () => db.pragma('page_size', { simple: true }) as number);
    report.pageCount = read('page count', () => db.pragma('page_count', { simple: true }) as number);
    report.freePages = read('free pages', () => db.pragma('freelist_count', { simple: true }) as number);
    const mode = read('auto_vacuum', () => db.pragma('auto_vacuum', { simple: true }) as number);
    report.autoVacuum = mode === null ? null : (AUTO_VACUUM[mode] ?? null);
    report.schemaVersion = read('schema version', () => {
      const hasTable = db
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
        .get();
      return hasTable
        ? (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null)
        : null;
    });
    if (report.schemaVersion !== null) {
      report.runsByStatus = read('runs by status', () => {
        const rows = db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status').all() as {
          status: string;
          n: number;
        }[];
        return Object.fromEntries(rows.map((row) => [row.status, row.n]));
      });
      report.journalEntries = read(
        'journal entries',
        () => db.prepare('SELECT count(*) FROM journal').pluck().get() as number,
      );
    }
  } finally {
    db.close();
  }
  const known = report.schemaVersion !== null && report.schemaVersion <= SQLITE_SCHEMA_VERSION;
  report.ok = report.integrity.length === 1 && report.integrity[0] === 'ok' && known && report.problems.length === 0;
  return report;
}
