// Fixtures of the reliability suites: the weft CLI run from source as a child process, and a test server on a real port.
import { execFile, spawn } from 'node:child_process';
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

/** A `weft serve` child process and the URL it printed. */
export interface ServeProcess {
  url: string;
  /** What it printed on stdout until it listened. */
  banner: string;
  stop(): Promise<void>;
}

/** Starts `weft serve ...args` (add `--port 0`) in `cwd` and waits until it prints its URL. */
export async function startServe(cwd: string, ...args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', WEFT_DB: '', WEFT_WORKFLOWS: '' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const { url, banner } = await new Promise<{ url: string; banner: string }>((done, fail) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/inspector\s+(http:\/\/\S+?)\/\s/);
        if (m) done({ url: m[1]!, banner: out });
      });
      child.once('exit', (code) => fail(new Error(`weft serve exited with ${code}: ${out}`)));
    });
    return { url, banner, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
