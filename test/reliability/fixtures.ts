// Fixtures of the reliability suites: the weft CLI run from source as a child process, and a test server on a real port.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { listen, type ListeningServer } from '../../src/server/index.js';
import { openTestServer, type TestServer } from '../server-fixtures.js';

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

/** A test server (see `openTestServer`) listening on a free port of 127.0.0.1. */
export interface ServedTestServer {
  t: TestServer;
  server: ListeningServer;
}

/** Opens a test server on a real port before the suite's tests, and closes it after them. */
export function serveTestServerForSuite(): ServedTestServer {
  const served = {} as ServedTestServer;
  beforeAll(async () => {
    served.t = await openTestServer();
    served.server = await listen(served.t.app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await served.server.close();
    await served.t.close();
  });
  return served;
}
