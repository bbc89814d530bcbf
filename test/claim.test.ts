// The claim of a run made by its first write: one write fewer per start and resume, and still no
// user code for a run this caller does not hold, and no events of another caller's execution.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStorage, Weft, WeftError, createStep, createWorkflow } from '../src/index.js';
import type { JournalEntry, RunChange, RunCondition } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { eventLoopTurn } from '../src/engine/event-loop-turns.js';
import { runServicesOf } from '../src/run/weft.js';
import { expectWeftError } from '../src/storage/conformance/fixtures.js';

const num = z.object({ n: z.number() });

/** A MemoryStorage that counts the writes the engine makes. */
class CountingStorage extends MemoryStorage {
  writes: string[] = [];

  override async createRun(...args: Parameters<MemoryStorage['createRun']>) {
    this.writes.push('createRun');
    return super.createRun(...args);
  }

  override async updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ) {
    this.writes.push(`updateRun(${change.status ?? '-'}, ${entries?.map((e) => e.type).join(' ') ?? ''})`);
    return super.updateRun(runId, condition, change, entries);
  }

  override async appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]) {
    this.writes.push(`appendJournal(${entries.map((e) => e.type).join(' ')})`);
    return super.appendJournal(runId, epoch, entries);
  }

  override appendJournalNow(runId: string, epoch: number, entries: readonly JournalEntry[]) {
    this.writes.push(`appendJournal(${entries.map((e) => e.type).join(' ')})`);
    super.appendJournalNow(runId, epoch, entries);
  }
}

function counting(id: string, ran: string[]) {
  return createStep({
    id,
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData }) => {
      ran.push(id);
      return { n: inputData.n + 1 };
    },
  });
}

/** A step that suspends until resumed with `{ ok }`, then passes its input on. */
function gate() {
  return createStep({
    id: 'gate',
    inputSchema: num,
    outputSchema: num,
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({ inputData, resumeData, suspend }) => (resumeData ? inputData : (suspend({}) as never)),
  });
}

let dir: string;
const engines: Weft[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-claim-'));
});
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
  rmSync(dir, { recursive: true, force: true });
});

function engine(workflows: Record<string, unknown>, storage: MemoryStorage | SqliteStorage): Weft {
  const weft = new Weft({ workflows: workflows as never, storage, recovery: false });
  engines.push(weft);
  return weft;
}

describe('the claim made by the first write', () => {
  it('a start claims the run in the same write as its first entries: a two-step run is stored in four writes', async () => {
    const ran: string[] = [];
    const wf = createWorkflow({ id: 'two', inputSchema: num, outputSchema: num })
      .then(counting('a', ran))
      .then(counting('b', ran))
      .commit();
    const storage = new CountingStorage();
    const weft = engine({ wf }, storage);
    const run = await weft.getWorkflow('two').createRun();
    expect((await run.start({ inputData: { n: 0 } })).status).toBe('success');
    expect(storage.writes).toEqual([
      'createRun',
      'updateRun(running, run-start step-start)',
      'appendJournal(step-end step-start)',
      'updateRun(success, step-end run-end)',
    ]);
  });

  it('a resume claims the suspended run with its first entries in one write', async () => {
    const wf = createWorkflow({ id: 'gated', inputSchema: num, outputSchema: num }).then(gate()).commit();
    const storage = new CountingStorage();
    const weft = engine({ wf }, storage);
    const run = await weft.getWorkflow('gated').createRun();
    await run.start({ inputData: { n: 1 } });
    storage.writes = [];
    expect((await run.resume({ resumeData: { ok: true } })).status).toBe('success');
    expect(storage.writes).toEqual([
      'updateRun(running, run-resume step-start)',
      'updateRun(success, step-end run-end)',
    ]);
  });

  it('a run whose first step fails validation is claimed and ended by one write', async () => {
    const strict = createStep({
      id: 'strict',
      inputSchema: z.object({ n: z.number().min(10) }),
      outputSchema: num,
      execute: async ({ inputData }) => inputData,
    });
    const wf = createWorkflow({ id: 'strict', inputSchema: num, outputSchema: num }).then(strict).commit();
    const storage = new CountingStorage();
    const weft = engine({ wf }, storage);
    const run = await weft.getWorkflow('strict').createRun();
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('failed');
    expect(storage.writes).toEqual(['createRun', 'updateRun(failed, run-start step-start step-end run-end)']);
    expect((await storage.getRun(run.runId))!.epoch).toBe(1);
  });

  it('two instances on one SQLite file start the same run at once: it runs once, the other start is refused and streams none of its events', async () => {
    const path = join(dir, 'weft.db');
    const ranOne: string[] = [];
    const ranTwo: string[] = [];
    const build = (ran: string[]) =>
      createWorkflow({ id: 'race', inputSchema: num, outputSchema: num })
        .then(counting('a', ran))
        .then(counting('b', ran))
        .commit();
    const one = engine({ race: build(ranOne) }, new SqliteStorage({ path }));
    const two = engine({ race: build(ranTwo) }, new SqliteStorage({ path }));
    const runOne = await one.getWorkflow('race').createRun();
    const runTwo = await two.getWorkflow('race').createRun({ runId: runOne.runId });
    const streamTwo = runTwo.stream({ inputData: { n: 0 } });
    const started = runOne.start({ inputData: { n: 0 } });
    // Either start may lose, and may lose before the stream ends: handled from now on.
    const settled = Promise.allSettled([started, streamTwo.result]);
    const events: { type: string; payload?: any }[] = [];
    for await (const event of streamTwo.fullStream) events.push(event as never);
    const [first, second] = await settled;
    const winners = [first, second].filter((s) => s.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    expect((winners[0] as PromiseFulfilledResult<{ status: string }>).value.status).toBe('success');
    const lost = [first, second].find((s): s is PromiseRejectedResult => s.status === 'rejected')!;
    expect(WeftError.is(lost.reason, 'RUN_ALREADY_CLAIMED')).toBe(true);
    // Each step ran once, in the instance that won.
    expect([...ranOne, ...ranTwo].sort()).toEqual(['a', 'b']);
    if (second.status === 'rejected') {
      expect(events.map((e) => e.type)).toEqual(['workflow-start', 'workflow-finish']);
      expect(events[1]!.payload.workflowStatus).toBe('failed');
    } else {
      expect(events.at(-1)!.payload.workflowStatus).toBe('success');
    }
  });

  it('a branch condition, a sleep duration and a foreach concurrency run only once the run is claimed by this instance', async () => {
    const storage = new MemoryStorage();
    const seen: { status?: string; owner?: string | null }[] = [];
    const look = async (runId: string) => {
      const row = await storage.getRun(runId);
      seen.push({ status: row?.status, owner: row?.leaseOwner });
    };
    const lookingBranch = () =>
      [
        [
          async ({ runId }: { runId: string }) => {
            await look(runId);
            return true;
          },
          counting('chosen', []),
        ],
      ] as const;
    const wf = createWorkflow({ id: 'branchy', inputSchema: num, outputSchema: z.any() })
      .sleep(async ({ runId }) => {
        await look(runId);
        return 1;
      })
      .branch(lookingBranch() as never)
      .commit();
    const weft = engine({ wf }, storage);
    const branchFirst = createWorkflow({ id: 'branch-first', inputSchema: num, outputSchema: z.any() })
      .branch(lookingBranch() as never)
      .commit();
    const other = engine({ branchFirst }, storage);
    const item = createStep({
      id: 'item',
      inputSchema: z.number(),
      outputSchema: z.number(),
      execute: async ({ inputData }) => inputData,
    });
    const foreachFirst = createWorkflow({
      id: 'foreach-first',
      inputSchema: z.array(z.number()),
      outputSchema: z.any(),
    })
      .foreach(item, {
        concurrency: async ({ runId }: { runId: string }) => {
          await look(runId);
          return 2;
        },
      })
      .commit();
    const third = engine({ foreachFirst }, storage);
    expect((await (await weft.getWorkflow('branchy').createRun()).start({ inputData: { n: 0 } })).status).toBe(
      'success',
    );
    expect((await (await other.getWorkflow('branch-first').createRun()).start({ inputData: { n: 0 } })).status).toBe(
      'success',
    );
    expect((await (await third.getWorkflow('foreach-first').createRun()).start({ inputData: [1, 2, 3] })).status).toBe(
      'success',
    );
    expect(seen).toEqual([
      { status: 'running', owner: weft.instanceId },
      { status: 'running', owner: weft.instanceId },
      { status: 'running', owner: other.instanceId },
      { status: 'running', owner: third.instanceId },
    ]);
  });

  it('a run canceled while its claim is being written ends canceled, and runs no step', async () => {
    const ran: string[] = [];
    const wf = createWorkflow({ id: 'quick', inputSchema: num, outputSchema: num }).then(counting('a', ran)).commit();
    const path = join(dir, 'cancel.db');
    const weft = engine({ wf }, new SqliteStorage({ path }));
    const run = await weft.getWorkflow('quick').createRun();
    const started = run.start({ inputData: { n: 0 } });
    await run.cancel();
    const result = await started;
    expect(result.status).toBe('canceled');
    expect(ran).toEqual([]);
    expect((await weft.getRun(run.runId))!.status).toBe('canceled');
  });

  it('a start of a run canceled in storage by another instance returns the canceled result and runs nothing', async () => {
    const ran: string[] = [];
    const storage = new MemoryStorage();
    const wf = createWorkflow({ id: 'gone', inputSchema: num, outputSchema: num }).then(counting('a', ran)).commit();
    const one = engine({ wf }, storage);
    const two = engine({ wf }, storage);
    const run = await one.getWorkflow('gone').createRun();
    await (await two.getWorkflow('gone').createRun({ runId: run.runId })).cancel();
    const result = await run.start({ inputData: { n: 0 } });
    expect(result.status).toBe('canceled');
    expect(ran).toEqual([]);
  });

  it('a run whose insert failed (not waited for by createRun) cannot start: the start fails with the storage error', async () => {
    class FailingInsert extends MemoryStorage {
      override async createRun(): Promise<never> {
        throw new WeftError('STORAGE_ERROR', 'disk full');
      }
    }
    const errors: unknown[] = [];
    const ran: string[] = [];
    const wf = createWorkflow({ id: 'nowhere', inputSchema: num, outputSchema: num }).then(counting('a', ran)).commit();
    const weft = new Weft({
      workflows: { wf },
      storage: new FailingInsert(),
      recovery: false,
      logger: { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => errors.push(args) },
    });
    engines.push(weft);
    const run = await weft.getWorkflow('nowhere').createRun();
    await expect(run.start({ inputData: { n: 0 } })).rejects.toThrow('disk full');
    expect(ran).toEqual([]);
    expect(errors).toHaveLength(1);
    // The run was never stored: a second start says so, rather than repeat the insert's failure.
    await expectWeftError(run.start({ inputData: { n: 0 } }), 'RUN_NOT_FOUND');
    expect(ran).toEqual([]);
  });
});

describe('writes of one run', () => {
  it('parallel branches that end together have their ends written at once, not one commit after another', async () => {
    class WatchedStorage extends SqliteStorage {
      writes: number[] = [];
      override async appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]) {
        this.writes.push(entries.length);
        return super.appendJournal(runId, epoch, entries);
      }
    }
    const ran: string[] = [];
    const branches = Array.from({ length: 20 }, (_, i) => counting(`p${i}`, ran));
    const wf = createWorkflow({ id: 'wide', inputSchema: num, outputSchema: z.any() }).parallel(branches).commit();
    const storage = new WatchedStorage({ path: join(dir, 'wide.db') });
    const weft = engine({ wf }, storage);
    const result = await (await weft.getWorkflow('wide').createRun()).start({ inputData: { n: 0 } });
    expect(result.status).toBe('success');
    expect(ran).toHaveLength(20);
    // 40 entries (a start and an end per branch) in a few writes: the ends that come while a write is on
    // its way share the next one, rather than each waiting for a commit of its own.
    expect(storage.writes.length).toBeLessThan(8);
    expect(Math.max(...storage.writes)).toBeGreaterThan(10);
    const journal = await storage.readJournal((result as { runId: string }).runId);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
  });
});

describe('claims under load, ends that cannot be stored, replayed conditions, a closed instance', () => {
  /** Uses up the event loop's slice, so that the next claims wait for a turn first. */
  function loadedEventLoop(): Promise<void> {
    // Executions stepping without a break (a burst of runs), until their slice is used up.
    const began = performance.now();
    for (;;) {
      const turn = eventLoopTurn();
      if (turn) return turn;
      if (performance.now() - began > 1000) throw new Error('the event loop never asked for a turn');
    }
  }

  it('two starts of one run while the event loop is loaded: the step runs once and the winner stays tracked and cancelable', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let executions = 0;
    let aborted = false;
    const slow = createStep({
      id: 'slow',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData, abortSignal }) => {
        executions++;
        abortSignal.addEventListener('abort', () => (aborted = true));
        await gate;
        return inputData;
      },
    });
    const wf = createWorkflow({ id: 'twice', inputSchema: num, outputSchema: num }).then(slow).commit();
    const weft = engine({ wf }, new MemoryStorage());
    const run = await weft.getWorkflow('twice').createRun();
    const loaded = loadedEventLoop();
    const first = run.start({ inputData: { n: 1 } });
    const second = run.start({ inputData: { n: 1 } });
    await loaded;
    await expect(second).rejects.toSatisfy((e: unknown) => WeftError.is(e, 'RUN_ALREADY_CLAIMED'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(executions).toBe(1);
    expect(runServicesOf(weft).local.execution(run.runId)).toBeDefined();
    await run.cancel();
    expect(aborted).toBe(true);
    expect((await first).status).toBe('canceled');
    release();
    expect(executions).toBe(1);
  });

  it('a step that set state and returns a value that cannot be stored fails with VALUE_NOT_SERIALIZABLE; its parallel sibling ends first', async () => {
    const unstorable = createStep({
      id: 'a',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async ({ setState }) => {
        await setState({ x: 1 });
        return {
          bad: {
            toJSON() {
              throw new Error('nope');
            },
          },
        };
      },
    });
    const sibling = createStep({
      id: 'b',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { ok: 1 };
      },
    });
    const wf = createWorkflow({ id: 'unstorable', inputSchema: z.any(), outputSchema: z.any(), stateSchema: z.any() })
      .parallel([unstorable, sibling])
      .commit();
    const storage = new SqliteStorage({ path: join(dir, 'unstorable.db') });
    const weft = engine({ wf }, storage);
    const run = await weft.getWorkflow('unstorable').createRun();
    const result = await run.start({ inputData: {} });
    expect(result.status).toBe('failed');
    expect((result as { error?: { code?: string } }).error?.code).toBe('VALUE_NOT_SERIALIZABLE');
    const ends = (await storage.readJournal(run.runId))
      .filter((e) => e.type === 'step-end')
      .map((e) => JSON.parse(e.data) as { id: string; status: string });
    expect(ends.map((e) => `${e.id}:${e.status}`).sort()).toEqual(['a:failed', 'b:success']);
    const last = (await storage.readJournal(run.runId)).at(-1);
    expect(last?.type).toBe('run-end');
  });

  it('a loop condition evaluated again on resume runs only once the run is claimed', async () => {
    const storage = new MemoryStorage();
    const seen: (string | undefined)[] = [];
    const wf = createWorkflow({ id: 'looping', inputSchema: num, outputSchema: num })
      .dountil(counting('body', []), async ({ inputData, runId }) => {
        seen.push((await storage.getRun(runId))?.status);
        return inputData.n >= 2;
      })
      .then(gate())
      .commit();
    const weft = engine({ wf }, storage);
    const run = await weft.getWorkflow('looping').createRun();
    expect((await run.start({ inputData: { n: 0 } })).status).toBe('suspended');
    // On resume the loop is replayed and its last condition asked again, before anything is written.
    expect((await run.resume({ resumeData: { ok: true } })).status).toBe('success');
    expect(seen).toEqual(['running', 'running', 'running']);
  });

  it('createRun after close is refused, though the insert of a new run is not waited for', async () => {
    const wf = createWorkflow({ id: 'late', inputSchema: num, outputSchema: num }).then(counting('a', [])).commit();
    const weft = new Weft({
      workflows: { wf },
      storage: new SqliteStorage({ path: join(dir, 'late.db') }),
      recovery: false,
    });
    await weft.init();
    await weft.close();
    await expect(weft.getWorkflow('late').createRun()).rejects.toSatisfy((e: unknown) =>
      WeftError.is(e, 'STORAGE_ERROR'),
    );
  });
});
