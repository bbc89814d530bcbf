// Crash recovery with real processes: a child executing a run on a SQLite file is killed with SIGKILL,
// then a new process (or the automatic recovery of an engine, with no call) finishes the run; no
// step whose end was recorded runs again, counted by the side effects the steps write to a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { crashWorkflows } from './fixtures/crash-workflows.js';
import { pause, until } from './support/wait.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKER = 'test/fixtures/crash-worker.ts';

interface Scene {
  dir: string;
  db: string;
  log: string;
  runId: string;
}

const scenes: Scene[] = [];
const children: ChildProcess[] = [];

function newScene(): Scene {
  const dir = mkdtempSync(join(tmpdir(), 'weft-crash-'));
  const scene = { dir, db: join(dir, 'weft.db'), log: join(dir, 'side-effects.log'), runId: randomUUID() };
  scenes.push(scene);
  return scene;
}

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const scene of scenes.splice(0)) rmSync(scene.dir, { recursive: true, force: true });
});

/** Starts the worker; `done` resolves with what it printed as its result (or null if killed). */
function worker(scene: Scene, workflowId: string, mode: 'start' | 'restart' | 'auto', hangAt?: string) {
  const args = [
    '--import',
    'tsx',
    WORKER,
    scene.db,
    scene.log,
    workflowId,
    scene.runId,
    mode,
    ...(hangAt ? [hangAt] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<any>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(null);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`worker exited ${code}: ${err || out}`));
      resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
  return { child, done };
}

function lines(scene: Scene): string[] {
  return existsSync(scene.log) ? readFileSync(scene.log, 'utf8').split('\n').filter(Boolean) : [];
}

function count(scene: Scene, line: string): number {
  return lines(scene).filter((l) => l === line).length;
}

/** Runs a worker until it reaches the hanging step, then kills it with SIGKILL. */
async function crashAt(scene: Scene, workflowId: string, hangAt: string): Promise<void> {
  const { child, done } = worker(scene, workflowId, 'start', hangAt);
  await until(() => count(scene, `hang ${hangAt}`) === 1);
  await pause(50); // let sibling steps record their ends
  child.kill('SIGKILL');
  await done;
}

/** An engine in this process over the same file: with `init()` its recovery finishes the run without any call. */
async function recoverHere(scene: Scene): Promise<{ weft: Weft; status: string; result: unknown }> {
  const storage = new SqliteStorage({ path: scene.db });
  const weft = new Weft({ workflows: crashWorkflows({ log: scene.log }), storage, leaseMs: 300 });
  await weft.init();
  await until(async () => ['success', 'failed'].includes((await storage.getRun(scene.runId))?.status ?? ''));
  const view = await weft.getRun(scene.runId);
  return { weft, status: view!.status, result: view!.result };
}

/** Every step that ended did so exactly once, and began fresh (restart false) exactly once. */
function expectEachStepOnce(scene: Scene, ids: string[], restarted: string[]): void {
  for (const id of ids) {
    expect(count(scene, `done ${id}`), `done ${id}`).toBe(1);
    expect(count(scene, `start ${id} false`), `fresh start of ${id}`).toBe(1);
    expect(count(scene, `start ${id} true`), `restarts of ${id}`).toBe(restarted.includes(id) ? 1 : 0);
  }
}

/** The journal never holds a step start after that key's successful end: a finished step never ran again. */
async function expectNoStartAfterEnd(scene: Scene): Promise<void> {
  const storage = new SqliteStorage({ path: scene.db });
  await storage.init();
  const ended = new Set<string>();
  for (const entry of await storage.readJournal(scene.runId)) {
    const data = JSON.parse(entry.data) as { key?: string; status?: string };
    if (entry.type === 'run-time-travel') ended.clear();
    if (entry.type === 'step-end' && data.status === 'success') ended.add(data.key!);
    if (entry.type === 'step-start') expect(ended.has(data.key!), `step-start of finished key ${data.key}`).toBe(false);
  }
  await storage.close();
}

describe('crash recovery with killed processes', () => {
  it('RS4/RS10: killed inside a step, a new process restarts the run; the step runs again with restart: true, finished ones never', async () => {
    const scene = newScene();
    await crashAt(scene, 'seq', 's2');
    const result = await worker(scene, 'seq', 'restart').done;
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 111 });
    expectEachStepOnce(scene, ['s1', 's2', 's3'], ['s2']);
    await expectNoStartAfterEnd(scene);
  });

  it('RS5: killed inside a parallel block with one branch finished, automatic recovery re-runs only the other branch', async () => {
    const scene = newScene();
    await crashAt(scene, 'par', 'slow');
    expect(count(scene, 'done fast')).toBe(1);
    const { weft, status, result } = await recoverHere(scene);
    expect(status).toBe('success');
    expect(result).toEqual({ n: 11 + 101 });
    expectEachStepOnce(scene, ['first', 'fast', 'slow', 'join'], ['slow']);
    await expectNoStartAfterEnd(scene);
    await weft.close();
  });

  it('RS5: killed inside a foreach, automatic recovery keeps the finished items and runs the rest', async () => {
    const scene = newScene();
    await crashAt(scene, 'each', 'item2');
    const { weft, status, result } = await recoverHere(scene);
    expect(status).toBe('success');
    expect(result).toEqual([0, 10, 20, 30].map((n) => ({ n })));
    expectEachStepOnce(scene, ['item0', 'item1', 'item2', 'item3'], ['item2']);
    await expectNoStartAfterEnd(scene);
    await weft.close();
  });

  it('RS6: killed inside a nested workflow, automatic recovery goes on inside it from the interrupted step', async () => {
    const scene = newScene();
    await crashAt(scene, 'outer', 'inner2');
    const { weft, status, result } = await recoverHere(scene);
    expect(status).toBe('success');
    expect(result).toEqual({ n: 111 });
    expectEachStepOnce(scene, ['inner1', 'inner2', 'after'], ['inner2']);
    await expectNoStartAfterEnd(scene);
    await weft.close();
  });

  it('durable timer: killed during a sleep, the run wakes at its original time in another process', async () => {
    const scene = newScene();
    const storage = new SqliteStorage({ path: scene.db });
    const { child, done } = worker(scene, 'sleepy', 'start');
    await until(async () => {
      if (!existsSync(scene.db)) return false;
      await storage.init();
      const status = (await storage.getRun(scene.runId))?.status;
      // Woken already: this machine was too slow to see the sleep, and the test would wait in vain.
      if (status === 'success') throw new Error('the run finished its sleep before the test saw it waiting');
      return status === 'waiting';
    }, 'the run to wait in its sleep');
    const wakeAt = (await storage.getRun(scene.runId))!.wakeAt!;
    child.kill('SIGKILL');
    await done;
    await storage.close();
    const { weft, status, result } = await recoverHere(scene);
    expect(status).toBe('success');
    expect(result).toEqual({ n: 11 });
    const view = await weft.getRun(scene.runId);
    expect(view!.steps.wake!.startedAt).toBeGreaterThanOrEqual(wakeAt);
    expect(view!.steps.wake!.startedAt).toBeLessThan(wakeAt + 1_500);
    expectEachStepOnce(scene, ['before', 'wake'], []);
    await weft.close();
  });

  it('crash loop: a 20-step run killed at random points 30 times ends as an uninterrupted run, each step recorded once', async () => {
    // The uninterrupted run, for comparison.
    const reference = newScene();
    const refWeft = new Weft({
      workflows: crashWorkflows({ log: reference.log }),
      storage: new SqliteStorage({ path: reference.db }),
    });
    const expected = await (
      await refWeft.getWorkflow('long').createRun({ runId: reference.runId })
    ).start({ inputData: { n: 0 } });
    await refWeft.close();

    const scene = newScene();
    let seed = 20_250_917;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let kills = 0;
    let finished: any = null;
    while (kills < 30 && !finished) {
      // Each life is killed at a random point in its first 90 ms of step execution (steps take 60 ms),
      // so the run goes on between kills but cannot finish before the 30th.
      const before = lines(scene).length;
      const { child, done } = worker(scene, 'long', 'auto');
      let exited = false;
      void done.then(
        () => (exited = true),
        () => (exited = true),
      );
      await until(() => exited || lines(scene).length > before);
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 90));
      finished = await done;
      clearTimeout(timer);
      if (!finished) kills++;
    }
    expect(kills).toBe(30);
    expect(finished).toBeNull();
    // Steps did finish between kills, and each of those must not run again.
    const finishedBetweenKills = lines(scene).filter((l) => l.startsWith('done ')).length;
    expect(finishedBetweenKills).toBeGreaterThan(1);
    expect(finishedBetweenKills).toBeLessThan(20);
    finished = await worker(scene, 'long', 'auto').done;
    expect(finished.status).toBe('success');
    expect(finished.result).toEqual(expected.result);
    const ids = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    for (const id of ids) {
      expect(count(scene, `done ${id}`), `done ${id}`).toBe(1);
      // A kill can land after a step's start entry is stored but before its first line is written:
      // then its only executions are restarts. It never starts fresh twice.
      expect(count(scene, `start ${id} false`), `fresh starts of ${id}`).toBeLessThanOrEqual(1);
    }
    await expectNoStartAfterEnd(scene);
  }, 90_000);
});
