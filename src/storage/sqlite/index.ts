// The `weft/sqlite` entry point: durable storage in one SQLite file.
export { SqliteStorage } from './sqlite-storage.js';
export { diagnoseSqliteFile } from './doctor.js';
export type { SqliteDiagnosis } from './doctor.js';
export type { SqliteStorageOptions } from './sqlite-storage.js';
