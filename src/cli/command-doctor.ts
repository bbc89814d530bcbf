// `weft doctor`: checks a SQLite store without changing it, and says how to recover a damaged one.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { diagnoseSqliteFile, type SqliteDiagnosis } from '../storage/sqlite/doctor.js';
import { sqliteRecoveryHint } from '../storage/sqlite/recovery-hint.js';
import { printJson, printText } from './command-output.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { resolveDbPath } from './open-weft.js';
import { paint } from './terminal-style.js';

/** Bytes as people read them: `0 B`, `2.0 KB`, `1.9 MB`. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The report as text lines. */
function describeDiagnosis(d: SqliteDiagnosis): string[] {
  const label = (name: string): string => `  ${paint(name.padEnd(10), 'dim')}`;
  const intact = d.integrity.length === 1 && d.integrity[0] === 'ok';
  const lines = [`${paint('weft doctor', 'bold')} ${d.path}`];
  lines.push(
    `${label('integrity')} ${intact ? paint('ok', 'green') : paint(`${d.integrity.length} problem${d.integrity.length === 1 ? '' : 's'}`, 'red')}`,
  );
  if (!intact) for (const problem of d.integrity) lines.push(`             ${problem}`);
  lines.push(
    `${label('schema')} ${d.schemaVersion === null ? 'none (not a Weft store, or unreadable)' : `version ${d.schemaVersion}`} (this Weft knows ${d.knownSchemaVersion})`,
  );
  if (d.runsByStatus) {
    const total = Object.values(d.runsByStatus).reduce((a, b) => a + b, 0);
    const parts = Object.entries(d.runsByStatus).map(([status, n]) => `${status} ${n}`);
    lines.push(`${label('runs')} ${total}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`);
  }
  if (d.journalEntries !== null) lines.push(`${label('journal')} ${d.journalEntries} entries`);
  const pages =
    d.pageCount !== null && d.pageSize !== null
      ? ` (${d.pageCount} pages of ${d.pageSize} B, ${d.freePages ?? '?'} free)`
      : '';
  lines.push(`${label('file')} ${formatBytes(d.fileBytes)}${pages}; WAL ${formatBytes(d.walBytes)}`);
  if (d.autoVacuum !== null) lines.push(`${label('vacuum')} auto_vacuum ${d.autoVacuum}`);
  for (const problem of d.problems) lines.push(`${label('unreadable')} ${problem}`);
  return lines;
}

/** Registers `weft doctor`. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the SQLite store: integrity, schema version, runs by status, sizes (read-only)')
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .option('--quick', 'a faster check that skips the contents of indexes (quick_check)')
    .option('--json', 'print JSON for scripts instead of text')
    .action((opts: { db?: string; quick?: boolean; json?: boolean }) => {
      const path = resolveDbPath(opts.db);
      if (!existsSync(path)) throw usageError(`No SQLite store at ${path}; pass --db PATH (or set WEFT_DB)`);
      const report = diagnoseSqliteFile(path, { quick: opts.quick === true });
      if (opts.json) printJson(report);
      else printText(describeDiagnosis(report).join('\n'));
      if (!report.ok) {
        const newer = report.schemaVersion !== null && report.schemaVersion > report.knownSchemaVersion;
        throw new CliError(
          newer
            ? `The store's schema version ${report.schemaVersion} is newer than this Weft knows (${report.knownSchemaVersion}); upgrade Weft`
            : `The store is damaged. ${sqliteRecoveryHint(path)}`,
          EXIT.error,
        );
      }
    });
}
