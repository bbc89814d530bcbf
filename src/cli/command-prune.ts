// `weft runs prune`: deletes old finished runs from the store, and shrinks the SQLite file on demand.
import type { Command } from 'commander';
import { checkPruneStatuses, parseDuration } from '../run/retention.js';
import { FINISHED_STATUSES } from '../storage/types.js';
import { SqliteStorage } from '../storage/sqlite/index.js';
import { printJson, printText } from './command-output.js';
import { usageError } from './exit-codes.js';
import { openWeft } from './open-weft.js';
import { paint } from './terminal-style.js';

interface PruneOptions {
  db?: string;
  olderThan?: string;
  status?: string[];
  vacuum?: boolean;
  json?: boolean;
}

/** Registers `weft runs prune` under `runs`. */
export function registerPruneCommand(runs: Command): void {
  runs
    .command('prune')
    .description('delete finished runs older than a duration, with their journals (never active or suspended runs)')
    .requiredOption('--older-than <duration>', 'only runs that finished longer ago than this, e.g. 7d, 12h, 30m')
    .option(
      '--status <status>',
      `only runs of this status (repeatable; ${FINISHED_STATUSES.join(', ')}; default all three)`,
      (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',')],
    )
    .option('--vacuum', 'then shrink the SQLite file (VACUUM: rewrites it; run when the store is quiet)')
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .option('--json', 'print JSON for scripts instead of text')
    .action(async (opts: PruneOptions) => {
      let statuses;
      try {
        parseDuration(opts.olderThan!, '--older-than');
        statuses = checkPruneStatuses((opts.status ?? [...FINISHED_STATUSES]).map((s) => s.trim()));
      } catch (error) {
        throw usageError((error as Error).message);
      }
      const opened = await openWeft({ ...(opts.db !== undefined ? { db: opts.db } : {}) }, { recovery: false });
      try {
        const deleted = await opened.weft.pruneRuns({ olderThan: opts.olderThan!, status: statuses });
        const storage = opened.weft.storage;
        const vacuumed = opts.vacuum && storage instanceof SqliteStorage ? await storage.vacuum() : undefined;
        if (opts.json) printJson({ db: opened.dbPath, deleted, statuses, ...(vacuumed ? { vacuum: vacuumed } : {}) });
        else {
          printText(
            `${paint('✔', 'green')} deleted ${deleted} ${statuses.join('/')} run${deleted === 1 ? '' : 's'} older than ${opts.olderThan}`,
          );
          if (vacuumed) {
            const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
            printText(
              `${paint('✔', 'green')} file shrunk from ${mb(vacuumed.bytesBefore)} to ${mb(vacuumed.bytesAfter)}`,
            );
          }
        }
      } finally {
        await opened.weft.close();
      }
    });
}
