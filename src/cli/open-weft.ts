// Opening the engine for a command: the SQLite file (from --db, WEFT_DB or .weft/weft.db) and the loaded workflows.
import { resolve } from 'node:path';
import { Weft } from '../index.js';
import { defaultDbPath } from '../run/default-storage.js';
import { SqliteStorage } from '../storage/sqlite/index.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { loadWorkflows } from './load-workflows.js';
import type { RetentionOptions } from '../run/retention.js';

/** Options every command that opens the store accepts. */
export interface StoreOptions {
  db?: string;
  workflows?: string;
}

/** The database path a command uses: `--db`, else `WEFT_DB`, else `.weft/weft.db` in the current directory. */
export function resolveDbPath(db: string | undefined): string {
  return db === undefined ? defaultDbPath() : resolve(db);
}

/** The workflows file a command uses: `--workflows`, else `WEFT_WORKFLOWS`, else none. */
export function resolveWorkflowsFile(file: string | undefined): string | undefined {
  return file ?? (process.env.WEFT_WORKFLOWS || undefined);
}

/** An opened engine and what it was opened with. */
export interface OpenedWeft {
  weft: Weft;
  dbPath: string;
  workflowsFile: string | undefined;
  workflows: Record<string, Workflow>;
}

/**
 * Opens the store and loads the workflows file if any. `recovery` (off for one-shot commands)
 * lets the instance take over runs whose process died; `weft serve` turns it on.
 */
export async function openWeft(
  options: StoreOptions,
  settings: { recovery: boolean; retention?: RetentionOptions; leaseMs?: number },
): Promise<OpenedWeft> {
  const dbPath = resolveDbPath(options.db);
  const workflowsFile = resolveWorkflowsFile(options.workflows);
  const workflows = workflowsFile ? await loadWorkflows(workflowsFile) : {};
  const weft = new Weft({
    workflows,
    storage: new SqliteStorage({ path: dbPath }),
    recovery: settings.recovery,
    // A one-shot command fires no schedules; `weft serve` (which recovers) does.
    ...(settings.recovery ? {} : { scheduler: false as const }),
    ...(settings.retention ? { retention: settings.retention } : {}),
    ...(settings.leaseMs !== undefined ? { leaseMs: settings.leaseMs } : {}),
    logger: { debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  await weft.init();
  return { weft, dbPath, workflowsFile, workflows };
}
