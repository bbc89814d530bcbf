// Runs the weft CLI from source as a child process, for the reliability suites.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** The examples module, as `--workflows` takes it. */
export const EXAMPLE_WORKFLOWS = join(ROOT, 'examples/index.ts');

/** What a finished command printed, and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `weft ...args` in `cwd` without colours and without the WEFT_* variables of the environment. */
export function runCli(cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', WEFT_DB: '', WEFT_WORKFLOWS: '' }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
