// The store of a `Weft` given none: the SQLite file of WEFT_DB, else .weft/weft.db, as for the CLI and server.
import { resolve } from 'node:path';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { WeftStorage } from '../storage/types.js';

/** The database file used when neither a store, `--db` nor `WEFT_DB` is given (relative to the current directory). */
const DEFAULT_DB_PATH = '.weft/weft.db';

/** The default database file, absolute: `WEFT_DB`, else `.weft/weft.db` in the current directory. */
export function defaultDbPath(): string {
  return resolve(process.env.WEFT_DB || DEFAULT_DB_PATH);
}

/**
 * The durable default: a `SqliteStorage` on `defaultDbPath()`. Nothing is opened, and the SQLite
 * driver is not loaded, until the engine first uses it (`init()`).
 */
export function defaultStorage(): WeftStorage {
  return new SqliteStorage({ path: defaultDbPath() });
}
