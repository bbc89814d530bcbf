// pg and graphile-worker are optional peer dependencies: `weft` alone never loads them, `weft/postgres`
// and `weft/worker` do, and a missing one is named with how to install it. Each case runs a real
// Node process with a resolve hook that records which drivers load, or hides one as if not installed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const DRIVERS = ['pg', 'graphile-worker', 'better-sqlite3'];
const dir = mkdtempSync(join(tmpdir(), 'weft-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Resolve hook (runs in Node's loader thread): logs each driver resolved, and fails to find hidden ones.
const HOOK = join(dir, 'hook.mjs');
writeFileSync(
  HOOK,
  `import { appendFileSync } from 'node:fs';
const drivers = ${JSON.stringify(DRIVERS)};
export async function resolve(specifier, context, next) {
  if (drivers.includes(specifier)) {
    if ((process.env.HIDE ?? '').split(',').includes(specifier)) {
      const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
    appendFileSync(process.env.LOADED_LOG, specifier + '\\n');
  }
  return next(specifier, context);
}
`,
);
const REGISTER = join(dir, 'register.mjs');
writeFileSync(
  REGISTER,
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOK).href)});\n`,
);

let runs = 0;

/** Runs `code` (an ES module body) in a fresh Node with tsx; returns its output and the drivers it loaded. */
function node(
  code: string,
  hide: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string; loaded: string[] }> {
  const log = join(dir, `loaded-${++runs}.log`);
  writeFileSync(log, '');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', pathToFileURL(REGISTER).href, '--input-type=module', '-e', code],
      { cwd: ROOT, env: { ...process.env, HIDE: hide.join(','), LOADED_LOG: log }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const loaded = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].sort();
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, loaded });
      },
    );
  });
}

const entry = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, path)).href);
const WEFT = entry('src/index.ts');
const POSTGRES = entry('src/storage/postgres/index.ts');
const WORKER = entry('src/worker/index.ts');

/** Module code that imports `url` and prints the error code and message it fails with, if any. */
const tryImport = (url: string): string =>
  `try { await import(${url}); console.log('ok'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;

describe('optional peer dependencies', () => {
  it('importing weft and running a workflow on memory storage loads no driver', async () => {
    const code = `
      const { createWorkflow, createStep, Weft, MemoryStorage } = await import(${WEFT});
      const { z } = await import('zod');
      const step = createStep({ id: 's', inputSchema: z.number(), outputSchema: z.number(), execute: async ({ inputData }) => inputData + 1 });
      const wf = createWorkflow({ id: 'w', inputSchema: z.number(), outputSchema: z.number() }).then(step).commit();
      const weft = new Weft({ workflows: { wf }, storage: new MemoryStorage() });
      const result = await (await wf.createRun()).start({ inputData: 1 });
      await weft.close();
      console.log(result.status, result.result);`;
    const out = await node(code);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('success 2');
    expect(out.loaded).toEqual([]);
  });

  it('weft/postgres loads pg, and weft/worker loads pg and graphile-worker', async () => {
    const postgres = await node(tryImport(POSTGRES));
    expect(postgres.stdout.trim()).toBe('ok');
    expect(postgres.loaded).toEqual(['pg']);
    const worker = await node(tryImport(WORKER));
    expect(worker.stdout.trim()).toBe('ok');
    expect(worker.loaded).toEqual(['graphile-worker', 'pg']);
  });

  it('without pg, weft still loads and weft/postgres says to install pg', async () => {
    const out = await node(`${tryImport(WEFT)}\n${tryImport(POSTGRES)}`, ['pg']);
    const [weft, postgres] = out.stdout.trim().split('\n');
    expect(weft).toBe('ok');
    const error = JSON.parse(postgres!) as { code: string; message: string };
    expect(error.code).toBe('PACKAGE_MISSING');
    expect(error.message).toContain('Cannot load "pg", which weft/postgres (and weft/worker) needs');
    expect(error.message).toContain('npm install pg');
  });

  it('without graphile-worker, weft/worker says to install graphile-worker', async () => {
    const out = await node(tryImport(WORKER), ['graphile-worker']);
    const error = JSON.parse(out.stdout.trim()) as { code: string; message: string };
    expect(error.code).toBe('PACKAGE_MISSING');
    expect(error.message).toContain('Cannot load "graphile-worker", which weft/worker needs');
    expect(error.message).toContain('npm install graphile-worker');
  });

  it('the weft command starts without either driver installed', async () => {
    const out = await node(
      `process.argv = [process.argv[0], 'weft', '--help']; await import(${entry('src/cli/main.ts')});`,
      ['pg', 'graphile-worker'],
    );
    expect(out.stdout).toContain('worker');
    expect(out.loaded).not.toContain('pg');
    expect(out.loaded).not.toContain('graphile-worker');
  });
});
