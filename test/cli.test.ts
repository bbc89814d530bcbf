// The weft CLI run as a child process on a real SQLite file: output, JSON and exit codes.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const WORKFLOWS = join(ROOT, 'examples/index.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
let dir: string;
let db: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function execute(file: string, args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', WEFT_DB: '', WEFT_WORKFLOWS: '' } },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function weft(...args: string[]): Promise<Result> {
  return execute(process.execPath, ['--import', TSX, MAIN, ...args]);
}

/** This CLI as a shell command (what `npx weft` runs). */
const WEFT_COMMAND = `${process.execPath} --import ${TSX} ${MAIN}`;

/** Runs a command line through the shell, in the test directory. */
function shell(command: string): Promise<Result> {
  return execute('/bin/sh', ['-c', command]);
}

const claim = JSON.stringify({ claimId: 'EXP-9', employee: 'Ann', amount: 300, purpose: 'Train tickets' });

/** `weft runs start expense-approval` on `store` with this input. */
function startClaim(store: string, input: string, ...more: string[]): Promise<Result> {
  return weft('runs', 'start', 'expense-approval', '--db', store, '--workflows', WORKFLOWS, '--input', input, ...more);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  db = join(dir, 'store.db');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('weft runs', () => {
  it('starts, lists, shows, resumes and time-travels runs with exit codes scripts can rely on', async () => {
    const started = await startClaim(db, claim, '--json');
    expect(started.code).toBe(12);
    const { runId, status } = JSON.parse(started.stdout);
    expect(status).toBe('suspended');

    const list = await weft('runs', 'list', '--db', db, '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).runs.map((r: { runId: string }) => r.runId)).toEqual([runId]);
    const table = await weft('runs', 'list', '--db', db, '--status', 'suspended');
    expect(table.stdout).toMatch(/RUN\s+WORKFLOW\s+STATUS/);
    expect(table.stdout).toContain(runId);

    const show = await weft('runs', 'show', runId, '--db', db);
    expect(show.stdout).toContain('Suspended at request-approval');
    expect(show.stdout).toContain(`weft runs resume ${runId}`);

    const noDefs = await weft('runs', 'resume', runId, '--db', db, '--data', '{"approved":true,"approver":"Bo"}');
    expect(noDefs.code).toBe(3);
    expect(noDefs.stderr).toContain('--workflows');

    const invalid = await weft(
      'runs',
      'resume',
      runId,
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--data',
      '{"approved":"yes"}',
    );
    expect(invalid.code).toBe(5);
    expect(invalid.stderr).toContain('approved');

    const badJson = await weft('runs', 'resume', runId, '--db', db, '--workflows', WORKFLOWS, '--data', '{approved');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--data must be JSON');

    const resumed = await weft(
      'runs',
      'resume',
      runId,
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--data',
      '{"approved":true,"approver":"Bo"}',
    );
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('success');
    expect(resumed.stdout).toContain('Approved by Bo');

    const again = await weft(
      'runs',
      'resume',
      runId,
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--data',
      '{"approved":true,"approver":"Bo"}',
    );
    expect(again.code).toBe(4);

    const travel = await weft(
      'runs',
      'time-travel',
      runId,
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--step',
      'settle',
      '--json',
    );
    expect(travel.code).toBe(0);
    const shown = JSON.parse((await weft('runs', 'show', runId, '--db', db, '--json')).stdout);
    expect(shown.attempts).toHaveLength(1);
  }, 60_000);

  it('shows each attempt of a retried step: its status, duration and error', async () => {
    const input = JSON.stringify({ warehouse: 'north', flakyAttempts: 2 });
    const started = await weft(
      'runs',
      'start',
      'sync-inventory',
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--input',
      input,
    );
    expect(started.code).toBe(0);
    const runId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(started.stdout)![0];
    const show = await weft('runs', 'show', runId, '--db', db);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/fetch-counts \(3 attempts\)\s+\S+ success/);
    const attempts = show.stdout.split('\n').filter((line) => line.includes('attempt '));
    expect(attempts).toHaveLength(3);
    expect(attempts[0]).toMatch(/attempt 1\/3\s+\S+ failed\s+\d+ ms\s+Warehouse API of "north" timed out/);
    expect(attempts[1]).toMatch(/attempt 2\/3\s+\S+ failed\s+\d+ ms\s+Warehouse API of "north" timed out/);
    expect(attempts[2]).toMatch(/attempt 3\/3\s+\S+ success\s+\d+ ms/);
    const json = JSON.parse((await weft('runs', 'show', runId, '--db', db, '--json')).stdout);
    expect(json.steps['fetch-counts'].tries.map((t: { status: string }) => t.status)).toEqual([
      'failed',
      'failed',
      'success',
    ]);
  }, 30_000);

  it("runs show lists an agent step's model usage under it and the run's total tokens", async () => {
    const ticket = JSON.stringify({ ticketId: 'T-1', customerEmail: 'ann@example.com', message: 'It crashes' });
    const started = await weft(
      'runs',
      'start',
      'support-triage',
      '--db',
      db,
      '--workflows',
      WORKFLOWS,
      '--input',
      ticket,
      '--json',
    );
    expect(started.code).toBe(12); // suspended at the approval
    const { runId } = JSON.parse(started.stdout);
    const show = await weft('runs', 'show', runId, '--db', db);
    expect(show.code).toBe(0);
    const lines = show.stdout.split('\n');
    const agentRow = lines.findIndex((line) => line.startsWith('support-agent'));
    expect(lines[agentRow + 1]).toMatch(/^\s+usage\s+model local-rules-1 · \d+ in \/ \d+ out tokens · finished: stop/);
    expect(show.stdout).toMatch(/Tokens\s+\d+ \(\d+ in \/ \d+ out\)/);
    const json = JSON.parse((await weft('runs', 'show', runId, '--db', db, '--json')).stdout);
    expect(json.steps['support-agent'].usage).toMatchObject({ modelId: 'local-rules-1', finishReason: 'stop' });
    expect(json.usage.totalTokens).toBe(json.usage.inputTokens + json.usage.outputTokens);
  }, 30_000);

  it('a start refused for its input keeps no run it made up the id of; one given its id is kept, pending', async () => {
    const store = join(dir, 'refused.db');
    const badInput = (...more: string[]) => startClaim(store, '{"claimId":"EXP-1"}', ...more);
    const refused = await badInput('--json');
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'INVALID_INPUT' });
    const none = await weft('runs', 'list', '--db', store, '--json');
    expect(JSON.parse(none.stdout).runs).toEqual([]);
    expect((await badInput('--run-id', 'my-run', '--json')).code).toBe(5);
    const kept = await weft('runs', 'list', '--db', store, '--json');
    expect(JSON.parse(kept.stdout).runs.map((r: { runId: string; status: string }) => [r.runId, r.status])).toEqual([
      ['my-run', 'pending'],
    ]);
  });

  it('cancels a suspended run and reports unknown runs, commands and options clearly', async () => {
    const started = JSON.parse((await startClaim(db, claim, '--json')).stdout);
    // --workflows, which cancel does not need, is still accepted.
    const cancel = await weft('runs', 'cancel', started.runId, '--db', db, '--workflows', WORKFLOWS, '--json');
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toEqual({ runId: started.runId, status: 'canceled' });

    const missing = await weft('runs', 'show', 'no-such-run', '--db', db);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('"no-such-run"');
    expect((await weft('runs', 'lst')).code).toBe(2);
    const badStatus = await weft('runs', 'list', '--db', db, '--status', 'bogus');
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain('unknown status "bogus"');
    expect((await weft('runs', 'time-travel', started.runId, '--db', db)).code).toBe(2);
    expect((await weft('--help')).code).toBe(0);
  }, 60_000);

  it('lists, shows, cancels and deletes runs without --workflows: they are storage operations', async () => {
    const store = join(dir, 'storage-only.db');
    const started = await startClaim(store, claim, '--json');
    const { runId } = JSON.parse(started.stdout);
    expect((await weft('runs', 'list', '--db', store, '--json')).code).toBe(0);
    expect((await weft('runs', 'show', runId, '--db', store, '--json')).code).toBe(0);
    const cancel = await weft('runs', 'cancel', runId, '--db', store, '--json');
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toEqual({ runId, status: 'canceled' });
    const shown = JSON.parse((await weft('runs', 'show', runId, '--db', store, '--json')).stdout);
    expect(shown.status).toBe('canceled');
    // Canceling again leaves it as it is; an unknown run is not found.
    expect(JSON.parse((await weft('runs', 'cancel', runId, '--db', store, '--json')).stdout).status).toBe('canceled');
    expect((await weft('runs', 'cancel', 'no-such-run', '--db', store)).code).toBe(3);
    const deleted = await weft('runs', 'delete', runId, '--db', store, '--json');
    expect(deleted.code).toBe(0);
    expect((await weft('runs', 'show', runId, '--db', store)).code).toBe(3);
    // Help does not offer --workflows where it is not needed.
    expect((await weft('runs', 'cancel', '--help')).stdout).not.toContain('--workflows');
    expect((await weft('runs', 'resume', '--help')).stdout).toContain('--workflows');
  }, 60_000);

  it('after a suspension prints a resume command that works as printed', async () => {
    const store = join(dir, 'hint.db');
    const started = await startClaim(store, claim);
    expect(started.code).toBe(12);
    const hint = started.stdout.match(/Resume with: (.+)$/m)?.[1];
    expect(hint).toMatch(/^npx weft runs resume \S+ --db \S+ --workflows \S+ --data '\{.*\}'$/);
    // Run it as a shell would, with `npx weft` being this CLI.
    const resumed = await shell(hint!.replace(/^npx weft /, `${WEFT_COMMAND} `));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('success');
  }, 60_000);

  it('with --json, errors are JSON on stdout with the same exit codes', async () => {
    const cases: [string[], number, string][] = [
      [['runs', 'show', 'no-such-run', '--db', db, '--json'], 3, 'RUN_NOT_FOUND'],
      [['runs', 'list', '--db', db, '--status', 'bogus', '--json'], 2, 'USAGE'],
      [['runs', 'list', '--bogus', '--json'], 2, 'USAGE'],
      [['runs', 'lst', '--json'], 2, 'USAGE'],
      [['runs', 'resume', 'no-such-run', '--db', db, '--workflows', WORKFLOWS, '--json'], 3, 'RUN_NOT_FOUND'],
      [
        [
          'runs',
          'start',
          'expense-approval',
          '--db',
          db,
          '--workflows',
          WORKFLOWS,
          '--input',
          '{"claimId":1}',
          '--json',
        ],
        5,
        'INVALID_INPUT',
      ],
    ];
    for (const [args, code, errorCode] of cases) {
      const out = await weft(...args);
      expect({ args, code: out.code }).toEqual({ args, code });
      expect(JSON.parse(out.stdout)).toEqual({
        error: expect.objectContaining({ code: errorCode, message: expect.any(String) }),
      });
      expect(out.stderr).toBe('');
      // Without --json: the same exit code, the message on stderr, nothing on stdout.
      const text = await weft(...args.filter((a) => a !== '--json'));
      expect(text.code).toBe(code);
      expect(text.stdout).toBe('');
      expect(text.stderr).toMatch(/^error:? /);
    }
  }, 120_000);

  it('says nothing about a run a refused start did not create', async () => {
    const store = join(dir, 'no-start.db');
    const refused = await startClaim(store, '{"claimId":"EXP-1"}');
    expect(refused.code).toBe(5);
    expect(refused.stderr).not.toMatch(/Started|run [0-9a-f-]{36}/);
    expect(refused.stderr).toContain('Invalid input data');
    // A start that runs announces its run first.
    const ok = await startClaim(store, claim);
    const runId = ok.stdout.match(/run (\S+), suspended/)?.[1];
    expect(ok.stderr).toContain(`Started run ${runId} of expense-approval`);
  }, 60_000);

  it('migrates a new store', async () => {
    const out = await weft('migrate', '--db', join(dir, 'fresh.db'), '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ storage: 'sqlite', migrated: true });
  }, 30_000);
});

describe('weft serve', () => {
  it('refuses to bind beyond loopback without a token', async () => {
    const out = await weft('serve', '--db', db, '--host', '0.0.0.0', '--port', '0');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--token');
  }, 30_000);

  it('serves the runs the CLI made, from the same store', async () => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, MAIN, 'serve', '--db', db, '--workflows', WORKFLOWS, '--port', '0'],
      {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    try {
      const url = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = out.match(/inspector\s+(http:\/\/\S+?)\/\s/);
          if (m) done(m[1]!);
        });
        child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
      });
      const runs = await (await fetch(`${url}/api/runs`)).json();
      expect(runs.total).toBeGreaterThanOrEqual(2);
      const page = await fetch(`${url}/`);
      expect(await page.text()).toContain('Weft');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 30_000);
});
