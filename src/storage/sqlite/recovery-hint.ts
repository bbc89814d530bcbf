// What to do about a damaged SQLite file: kept apart from the doctor, which loads the driver.

/** What to do about a damaged file, for every message that reports one. */
export function sqliteRecoveryHint(path: string): string {
  return `Stop every process that uses it, run "weft doctor --db ${path}" to see the damage, then restore a backup, or copy what is readable into a new file with "sqlite3 ${path} .recover | sqlite3 recovered.db" and use that file`;
}
