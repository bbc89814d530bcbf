// `weft migrate`: creates the store or brings its schema up to date, then says where it is.
import type { Command } from 'commander';
import { SqliteStorage } from '../storage/sqlite/index.js';
import { printJson, printText } from './command-output.js';
import { resolveDbPath } from './open-weft.js';
import { paint } from './terminal-style.js';

/** Registers `weft migrate`. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create the SQLite store or apply pending migrations')
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .option('--json', 'print JSON for scripts instead of text')
    .action(async (opts: { db?: string; json?: boolean }) => {
      const path = resolveDbPath(opts.db);
      const storage = new SqliteStorage({ path });
      try {
        await storage.init();
      } finally {
        await storage.close();
      }
      if (opts.json) printJson({ db: path, storage: 'sqlite', migrated: true });
      else printText(`${paint('✔', 'green')} store ${path} is up to date`);
    });
}
