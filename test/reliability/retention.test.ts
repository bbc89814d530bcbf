// Retention on SQLite files: set once it prunes what it should; pruned pages are reused, so the file
// stops growing; VACUUM on demand shrinks it; pruning goes in batches that leave writers their turns.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../../src/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { createManualClock } from '../../src/testing.js';
import { arithmetic } from '../server-fixtures.js';
import { runCli, startServe } from './fixtures.js';
import { checkRetentionSetOnce, retentionWorkflows } from './retention.js';
import { until } from '../support/wait.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-retention-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** Measures the longest gap between ticks of a 1 ms timer: how long the event loop was held at most. */
function watchEventLoop(): { longest(): number; stop(): void } {
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return { longest: () => longest, stop: () => clearInterval(ticker) };
}

/** Runs `count` three-step runs to success on `weft`'s store. */
async function runMany(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await (await arithmetic.createRun()).start({ inputData: { n: i } });
}

describe('retention on SQLite', () => {
  it('set once on the instance, prunes success runs after 7 days and failed ones after 30, never suspended ones', async () => {
    await checkRetentionSetOnce(new SqliteStorage({ path: join(tempDir(), 'weft.db') }));
  });

  it('keeps the file from growing: pruned pages are reused, and VACUUM on demand shrinks it', async () => {
    const path = join(tempDir(), 'weft.db');
    const clock = createManualClock();
    const open = () =>
      new Weft({ workflows: { arithmetic }, storage: new SqliteStorage({ path }), clock, recovery: false });
    let weft = open();
    await runMany(600);
    await weft.close();
    const full = statSync(path).size;

    // Without retention the next 600 runs double the file; with the first 600 pruned, it stays.
    weft = open();
    clock.advance(8 * DAY);
    expect(await weft.pruneRuns({ olderThan: '7d' })).toBe(600);
    await runMany(600);
    await weft.close();
    const after = statSync(path).size;
    expect(after).toBeLessThan(full * 1.1);

    // The CLI prunes the rest (their clock time is long past) and shrinks the file.
    const dir = dirs[dirs.length - 1]!;
    const pruned = await runCli(dir, 'runs', 'prune', '--db', path, '--older-than', '1d', '--vacuum', '--json');
    expect(pruned.code).toBe(0);
    const report = JSON.parse(pruned.stdout);
    expect(report).toMatchObject({ deleted: 600, statuses: ['success', 'failed', 'canceled'] });
    expect(report.vacuum.bytesAfter).toBeLessThan(report.vacuum.bytesBefore / 5);
    expect(statSync(path).size).toBe(report.vacuum.bytesAfter);
  });

  it('prunes in batches: timers and other runs keep their turns while thousands of runs go', async () => {
    const path = join(tempDir(), 'weft.db');
    const clock = createManualClock();
    const weft = new Weft({ workflows: { arithmetic }, storage: new SqliteStorage({ path }), clock, recovery: false });
    await runMany(3000);
    clock.advance(8 * DAY);
    const stalls = watchEventLoop();
    const started = performance.now();
    const pruning = weft.pruneRuns({ olderThan: '7d', status: 'success' });
    // A run started meanwhile is stored and finishes while the pruning goes on.
    const meanwhile = (await arithmetic.createRun()).start({ inputData: { n: 1 } });
    expect((await meanwhile).status).toBe('success');
    const meanwhileMs = performance.now() - started;
    expect(await pruning).toBe(3000);
    const pruneMs = performance.now() - started;
    stalls.stop();
    await weft.close();
    // 15 batches of 200: the event loop is never held for long, and the run did not wait for them all.
    expect(stalls.longest()).toBeLessThan(250);
    expect(meanwhileMs).toBeLessThan(pruneMs);
    console.info(
      `pruned 3000 runs in ${pruneMs.toFixed(0)} ms; longest event-loop stall ${stalls.longest().toFixed(1)} ms; a run started meanwhile finished after ${meanwhileMs.toFixed(0)} ms`,
    );
  });

  it('waits for another process holding the write lock without holding the event loop', async () => {
    const path = join(tempDir(), 'weft.db');
    const clock = createManualClock();
    const weft = new Weft({ workflows: { arithmetic }, storage: new SqliteStorage({ path }), clock, recovery: false });
    await runMany(50);
    clock.advance(8 * DAY);
    // Another process (here a connection of its own) writes for 300 ms.
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const release = setTimeout(() => other.exec('COMMIT'), 300);
    const stalls = watchEventLoop();
    try {
      expect(await weft.pruneRuns({ olderThan: '7d' })).toBe(50);
    } finally {
      stalls.stop();
      clearTimeout(release);
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      await weft.close();
    }
    expect(stalls.longest()).toBeLessThan(150);
  });

  it('refuses to prune active or suspended statuses, and bad durations, with clear errors', async () => {
    const weft = new Weft({
      workflows: retentionWorkflows(),
      storage: new SqliteStorage({ path: join(tempDir(), 'weft.db') }),
      recovery: false,
    });
    try {
      await expect(weft.pruneRuns({ olderThan: '7d', status: 'suspended' })).rejects.toThrow(
        /Cannot prune runs of status "suspended"/,
      );
      await expect(weft.pruneRuns({ olderThan: 'soon' })).rejects.toThrow(/Invalid olderThan "soon"/);
    } finally {
      await weft.close();
    }
    expect(() => new Weft({ retention: { successAfter: '7 days' } })).toThrow(
      /Invalid retention.successAfter "7 days"/,
    );
    const dir = tempDir();
    const db = ['--db', join(dir, 'weft.db')];
    const refusals: [string[], string][] = [
      [['runs', 'prune', ...db, '--older-than', '7d', '--status', 'running'], 'Cannot prune runs of status "running"'],
      [['serve', ...db, '--port', '0', '--retention', 'success=forever'], 'Invalid --retention success'],
    ];
    for (const [args, message] of refusals) {
      const result = await runCli(dir, ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });

  it('weft serve --retention prunes old finished runs when it starts, and keeps suspended ones', async () => {
    const dir = tempDir();
    const path = join(dir, 'weft.db');
    const wfs = retentionWorkflows();
    // Runs made a year ago (the clock of a test), then the server starts today.
    const weft = new Weft({
      workflows: wfs,
      storage: new SqliteStorage({ path }),
      clock: createManualClock(),
      recovery: false,
    });
    await (await wfs.ok.createRun()).start({ inputData: {} });
    await (await wfs.broken.createRun()).start({ inputData: {} });
    const waiting = await wfs.waiting.createRun();
    await waiting.start({ inputData: {} });
    await weft.close();
    const served = await startServe(dir, '--db', path, '--port', '0', '--retention', 'success=7d,failed=30d');
    try {
      expect(served.banner).toMatch(/retention\s+success=7d,failed=30d/);
      const list = async () => (await (await fetch(`${served.url}/api/runs`)).json()) as { runs: { runId: string }[] };
      await until(async () => (await list()).runs.length === 1, 'the old success and failed runs to go');
      expect((await list()).runs.map((r) => r.runId)).toEqual([waiting.runId]);
    } finally {
      await served.stop();
    }
  }, 30_000);
});
