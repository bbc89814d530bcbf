// Every shell command of the README, run as printed: the CLI's as child processes on a store of
// their own, `npm start` and `weft worker` until they serve. A README command no test runs fails here.
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, describeWithPostgres } from './support/postgres.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
/** What `npx weft` runs, from the sources. */
const WEFT = `${process.execPath} --import ${TSX} ${join(ROOT, 'src/cli/main.ts')}`;

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The command lines of the README's `sh` blocks in order, `a && b` as two, comments dropped. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      for (const part of line.replace(/\s#\s.*$/, '').split(' && ')) if (part.trim()) commands.push(part.trim());
    }
  }
  return commands;
}

/** README commands this file does not run, and why. */
const NOT_RUN: Record<string, string> = {
  'npm install': 'the suite runs after it (.ci/run installs with npm ci)',
  'npm test': 'it is the suite this file belongs to',
};

type Kind = 'not-run' | 'cli' | 'serve' | 'worker';

/** How this file runs a README command; a command it does not know fails the suite. */
function kindOf(command: string): Kind {
  if (command in NOT_RUN) return 'not-run';
  if (/^(PORT=\d+ )?npm start( -- .*)?$/.test(command) || /^(PORT=\d+ )?npx weft serve\b/.test(command)) return 'serve';
  if (command.startsWith('npx weft worker ')) return 'worker';
  if (command.startsWith('npx weft ')) return 'cli';
  throw new Error(`The README command \`${command}\` is not run by test/readme.test.ts: say there how to run it`);
}

const commands = readmeCommands();
const ofKind = (kind: Kind): string[] => commands.filter((c) => kindOf(c) === kind);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-readme-'));
  // The README's commands name no --db: they use WEFT_DB, here a file of this test.
  env = { ...process.env, NO_COLOR: '1', WEFT_DB: join(dir, 'weft.db'), WEFT_WORKFLOWS: '', PORT: '', WEFT_PORT: '' };
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The command line with `npx weft` being this CLI. */
function withThisCli(command: string): string {
  return command.replace(/(^|\s)npx weft /, `$1${WEFT} `);
}

/** Runs a command line through the shell in the repository, with `npx weft` being this CLI. */
function shell(command: string): Promise<Result> {
  return new Promise((done) => {
    execFile('/bin/sh', ['-c', withThisCli(command)], { cwd: ROOT, env }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Starts a long-running command (in a process group of its own), waits until its output
 * matches `ready`, runs `check`, then stops the group with SIGTERM and waits for it to end.
 */
async function whileRunning(
  command: string,
  extraEnv: NodeJS.ProcessEnv,
  ready: RegExp,
  check: (match: RegExpMatchArray) => Promise<void>,
): Promise<void> {
  const child = spawn('/bin/sh', ['-c', withThisCli(command)], {
    cwd: ROOT,
    env: { ...env, ...extraEnv },
    detached: true,
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    const match = await new Promise<RegExpMatchArray>((done, fail) => {
      let out = '';
      const read = (chunk: Buffer): void => {
        out += chunk.toString();
        const m = out.match(ready);
        if (m) done(m);
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      void exited.then((code) => fail(new Error(`\`${command}\` exited with ${code}: ${out}`)));
    });
    await check(match);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

describe('the README', () => {
  it('example program runs as printed, its runs stored in .weft/weft.db', async () => {
    const program = README.match(/## Example\n\n```ts\n([\s\S]*?)```/)?.[1];
    expect(program).toContain("from 'weft'");
    // Inside the repository (scratch/ is ignored by git), so that 'weft' is this package and 'zod' resolves.
    const folder = join(ROOT, 'scratch', `readme-${process.pid}`);
    mkdirSync(folder, { recursive: true });
    try {
      writeFileSync(join(folder, 'example.mts'), program!);
      const cwd = join(dir, 'example');
      mkdirSync(cwd);
      const result = await new Promise<Result>((done) => {
        execFile(
          process.execPath,
          ['--import', TSX, join(folder, 'example.mts')],
          { cwd, env: { ...env, WEFT_DB: '' } },
          (error, stdout, stderr) => done({ code: error ? 1 : 0, stdout, stderr }),
        );
      });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain("approvedBy: 'kim'");
      expect(existsSync(join(cwd, '.weft/weft.db'))).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      if (readdirSync(join(ROOT, 'scratch')).length === 0) rmdirSync(join(ROOT, 'scratch'));
    }
  }, 60_000);

  it('has only commands this file runs', () => {
    for (const command of commands) expect(() => kindOf(command)).not.toThrow();
    expect(ofKind('cli').length).toBeGreaterThanOrEqual(5);
    expect(ofKind('serve').length).toBeGreaterThanOrEqual(3);
  });

  it('CLI commands work as printed, in order, on one store', async () => {
    let runId: string | undefined;
    for (const printed of ofKind('cli')) {
      if (printed.includes('<runId>') && runId === undefined) throw new Error(`No run to use for \`${printed}\``);
      const result = await shell(printed.replaceAll('<runId>', runId ?? ''));
      // A started run that suspends exits 12, as the README's exit codes say; everything else succeeds.
      const expected = printed.startsWith('npx weft runs start ') ? 12 : 0;
      expect({ printed, code: result.code, stderr: result.stderr }).toMatchObject({ printed, code: expected });
      runId ??= result.stdout.match(/run (\S+), suspended at/)?.[1];
    }
    expect(runId).toBeDefined();
    const shown = await shell(`npx weft runs show ${runId} --json`);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'success', attempts: [expect.anything()] });
  }, 120_000);

  it('npm start serves the inspector and API, on the port given by --port or PORT', async () => {
    for (const printed of ofKind('serve')) {
      const port = await freePort();
      // The port the README names becomes a free one; `npm start` alone gets it through PORT.
      const command = printed.replace(/\b8080\b/, String(port));
      const extraEnv = command === printed ? { PORT: String(port) } : {};
      await whileRunning(command, extraEnv, /inspector\s+(http:\/\/\S+?)\/\s/, async (match) => {
        expect({ printed, url: match[1] }).toEqual({ printed, url: `http://127.0.0.1:${port}` });
        const info = await (await fetch(`${match[1]}/api/info`)).json();
        expect(info).toMatchObject({ name: 'weft', storage: 'sqlite' });
      });
    }
  }, 120_000);
});

await describeWithPostgres('the README on Postgres', 'the README worker command', () => {
  const database = `weft_readme_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('weft worker starts as printed', async () => {
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    for (const printed of ofKind('worker')) {
      // Placeholders the reader fills in: their workflows module and their database.
      const command = printed
        .replace('--workflows workflows.ts', '--workflows examples/index.ts')
        .replace('postgres://localhost/app', url.href);
      await whileRunning(command, {}, /Press Ctrl\+C/, async () => undefined);
    }
  }, 60_000);
});
