// The `weft/postgres` entry point: durable storage in Postgres, with live notifications across processes.
export { PostgresStorage } from './postgres-storage.js';
export type { PostgresStorageOptions } from './postgres-storage.js';
export { PgJournalNotifier } from './pg-notifier.js';
