// Where the benchmark loads @mastra/core from: bench/node_modules, installed from bench/package.json by
// `npm run bench`, so that the main install does without the compared engine (its packages want Node 22).
import type { WorkflowApi } from './workloads.js';

/** What the benchmark uses of `@mastra/core`. */
export interface MastraCore {
  Mastra: new (options: { workflows: Record<string, unknown>; logger: false; storage?: unknown }) => {
    getWorkflow(key: string): unknown;
    shutdown(): Promise<void>;
  };
}

/** What the benchmark uses of `@mastra/libsql`. */
export interface MastraLibsql {
  LibSQLStore: new (options: { id: string; url: string }) => unknown;
}

/** The module specifiers, as strings: their types come from the interfaces above, not from an install. */
const MODULES = { core: '@mastra/core', workflows: '@mastra/core/workflows', libsql: '@mastra/libsql' } as const;

async function load(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `${specifier} is not installed in bench/node_modules: run the benchmark with \`npm run bench\`, which installs bench/package.json first`,
    );
  }
}

export async function loadMastraCore(): Promise<MastraCore> {
  return (await load(MODULES.core)) as MastraCore;
}

export async function loadMastraWorkflows(): Promise<WorkflowApi> {
  const { createWorkflow, createStep } = (await load(MODULES.workflows)) as WorkflowApi;
  return { createWorkflow, createStep };
}

export async function loadMastraLibsql(): Promise<MastraLibsql> {
  return (await load(MODULES.libsql)) as MastraLibsql;
}

/** The file URLs of Mastra's entry points, for a child process that imports them (W9). */
export function mastraEntryUrls(): string[] {
  return [import.meta.resolve(MODULES.core), import.meta.resolve(MODULES.workflows)];
}
