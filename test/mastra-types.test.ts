// Mastra programs type-check against Weft's published types: a program in Mastra's documented style
// (suspend, bail, a typed getWorkflow, direct stream iteration) compiled with `tsc --strict`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const root = fileURLToPath(new URL('..', import.meta.url));

/** Compiles one file alone, as a user project would: `tsc --strict`, no project settings, library types checked. */
async function compile(file: string): Promise<{ code: number; output: string }> {
  const args = ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  try {
    const { stdout } = await run(process.execPath, [tsc, ...args, file], { cwd: root });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('a Mastra program compiled with tsc --strict against the published types (dist: run `npm run build`)', () => {
  it('accepts return await suspend(), return bail(), getWorkflow by key and by id, narrowed results and for await over the output, and rejects each wrong use', async () => {
    // Each `@ts-expect-error` in the program is a wrong use; an expected error that does not occur fails the compile.
    const { code, output } = await compile('test/fixtures/mastra-typed-program.ts');
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 180_000);

  it('runs as written: it suspends and resumes, bails, and reads the output with for await', async () => {
    // It names no store, as a Mastra program names none: its runs go to the default SQLite file, here a temporary one.
    const dir = mkdtempSync(join(tmpdir(), 'weft-mastra-types-'));
    const defaultDb = process.env.WEFT_DB;
    process.env.WEFT_DB = join(dir, 'weft.db');
    const { main } = await import('./fixtures/mastra-typed-program.js');
    let lines: string[];
    try {
      lines = await main();
    } finally {
      process.env.WEFT_DB = defaultDb;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lines.slice(0, 2)).toEqual(['waiting at review', 'What is a loom?: about What is a loom?']);
    expect(lines.slice(2, 7)).toEqual([
      'workflow-start',
      'workflow-step-start',
      'workflow-step-result',
      'workflow-finish',
      'Ask me something',
    ]);
    expect(lines.slice(7)).toEqual([
      ...['look-up', 'draft'].flatMap(() => ['workflow-step-start', 'workflow-step-result', 'workflow-step-finish']),
      'workflow-step-start',
      'workflow-step-suspended',
    ]);
  });
});
