// Loading a workflows file: a .ts module through tsx, a .js/.mjs module by plain import; its workflows by key.
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isWorkflow, type Workflow } from '../workflow/create-workflow.js';
import { CliError, EXIT, usageError } from './exit-codes.js';

const TS_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];

async function importModule(path: string): Promise<Record<string, unknown>> {
  if (TS_EXTENSIONS.includes(extname(path))) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

function pickWorkflows(mod: Record<string, unknown>, file: string): Record<string, Workflow> {
  const candidates = [mod.workflows, mod.default, (mod.default as Record<string, unknown> | undefined)?.workflows];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    if (isWorkflow(candidate)) return { [candidate.id]: candidate };
    const entries = Object.entries(candidate).filter(([, value]) => isWorkflow(value));
    if (entries.length > 0) return Object.fromEntries(entries) as Record<string, Workflow>;
  }
  const named = Object.values(mod).filter(isWorkflow);
  if (named.length > 0) return Object.fromEntries(named.map((wf) => [wf.id, wf]));
  throw usageError(
    `${file} exports no workflows: export \`workflows\` (an object of workflows by id), a default export of one, or the workflows themselves`,
  );
}

/**
 * The workflows a file defines. The file may export `workflows` (an object by key), default-
 * export that object or one workflow, or export workflows by name. TypeScript files load
 * through tsx, so `weft serve --workflows workflows.ts` needs no build step.
 */
export async function loadWorkflows(file: string): Promise<Record<string, Workflow>> {
  const path = resolve(file);
  if (!existsSync(path)) throw usageError(`Workflows file ${file} not found (resolved to ${path})`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`Cannot load workflows file ${file}: ${reason}`, EXIT.error, 'WORKFLOWS_FILE');
  }
  return pickWorkflows(mod, file);
}
