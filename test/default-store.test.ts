// Durable by default: `new Weft({ workflows })` without `storage` keeps runs in the SQLite file of
// WEFT_DB, else .weft/weft.db, loading the driver only then; MemoryStorage and unregistered workflows stay in memory.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvalWorkflow } from './fixtures/approval-workflow.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const SCRIPT = join(ROOT, 'test/fixtures/default-store-process.ts');

interface Line {
  status: string;
  storage: string | null;
  driverAtConstruction: boolean;
  driverLoaded: boolean;
}

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'weft-default-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

/** Runs the fixture in `cwd` with WEFT_DB set to `db` ('' for unset). */
function child(args: string[], db = ''): Promise<Line> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', TSX, SCRIPT, ...args],
      { cwd, env: { ...process.env, WEFT_DB: db }, timeout: 30_000 },
      (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(JSON.parse(stdout))),
    );
  });
}

describe('the default store', () => {
  it('is the SQLite file .weft/weft.db in the current directory: a run suspended in one process resumes in another', async () => {
    const started = await child(['start', 'run-1']);
    expect(started).toEqual({
      status: 'suspended',
      storage: 'sqlite',
      driverAtConstruction: false,
      driverLoaded: true,
    });
    expect(existsSync(join(cwd, '.weft/weft.db'))).toBe(true);
    const resumed = await child(['resume', 'run-1']);
    expect(resumed).toMatchObject({ status: 'success', storage: 'sqlite' });
  });

  it('is the file WEFT_DB names when it is set', async () => {
    const db = join(cwd, 'elsewhere/runs.db');
    expect(await child(['start', 'run-2'], db)).toMatchObject({ status: 'suspended', storage: 'sqlite' });
    expect(existsSync(db)).toBe(true);
    expect(existsSync(join(cwd, '.weft'))).toBe(false);
    expect(await child(['resume', 'run-2'], db)).toMatchObject({ status: 'success' });
  });

  it('is not used with storage: new MemoryStorage(): no file, and the SQLite driver is never loaded', async () => {
    expect(await child(['memory', 'run-3'])).toEqual({
      status: 'suspended',
      storage: 'memory',
      driverAtConstruction: false,
      driverLoaded: false,
    });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('is not used by a workflow never registered with a Weft: it runs, suspends and resumes in memory', async () => {
    expect(await child(['unregistered'])).toEqual({
      status: 'success',
      storage: null,
      driverAtConstruction: false,
      driverLoaded: false,
    });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('an unregistered workflow in this process leaves the default store unopened', async () => {
    const wf = approvalWorkflow([]);
    const run = await wf.createRun();
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
    expect((await run.resume({ resumeData: { add: 1 } })).status).toBe('success');
    expect(existsSync(process.env.WEFT_DB!)).toBe(false);
  });
});
