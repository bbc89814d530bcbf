// Retried steps keep every attempt in the journal (`step-retry`): its error and its times, read back from a SQLite file.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStep, Weft } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { numSchema, numWorkflow } from './support/step-factories.js';

let dir: string;
const engines: Weft[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-retries-'));
});
afterEach(async () => {
  for (const w of engines.splice(0)) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A step that throws `failures` times (waiting `ms` each attempt), then returns n + 1. */
function flakyStep(id: string, failures: number, ms = 15) {
  return createStep({
    id,
    inputSchema: numSchema,
    outputSchema: numSchema,
    execute: async ({ inputData, retryCount }) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (retryCount < failures) throw new Error(`transient ${retryCount + 1}`);
      return { n: inputData.n + 1 };
    },
  });
}

function workflows() {
  return {
    flaky: numWorkflow('flaky', { retryConfig: { attempts: 3, delay: 30 } })
      .then(flakyStep('fetch', 2))
      .commit(),
    items: numWorkflow('items')
      .map(async ({ inputData }) => [inputData, { n: inputData.n + 10 }])
      .foreach(
        createStep({
          id: 'item',
          inputSchema: numSchema,
          outputSchema: numSchema,
          retries: 1,
          execute: async ({ inputData, retryCount }) => {
            if (inputData.n > 5 && retryCount === 0) throw new Error('first try of a big item');
            return inputData;
          },
        }),
      )
      .commit(),
  };
}

function engine(path = join(dir, 'weft.db')): Weft {
  const weft = new Weft({ workflows: workflows(), storage: new SqliteStorage({ path }), recovery: false });
  engines.push(weft);
  return weft;
}

describe('retry history', () => {
  it('stores each attempt of a retried step with its error and duration, and reads them back in another instance', async () => {
    const weft = engine();
    const run = await weft.getWorkflow('flaky').createRun();
    const result = await run.start({ inputData: { n: 1 } });
    expect(result.status).toBe('success');
    // The result of start keeps Mastra's step shape: no tries there.
    expect(result.steps.fetch).not.toHaveProperty('tries');
    await weft.close();

    const view = await engine().getRun(run.runId);
    const tries = view!.steps.fetch!.tries!;
    expect(tries.map((t) => [t.attempt, t.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'success'],
    ]);
    expect(tries.map((t) => (t.error as { message?: string } | undefined)?.message)).toEqual([
      'transient 1',
      'transient 2',
      undefined,
    ]);
    for (const t of tries) expect(t.endedAt! - t.startedAt).toBeGreaterThanOrEqual(10);
    // The 30 ms retry delay lies between attempts, not inside them.
    expect(tries[1]!.startedAt - tries[0]!.endedAt!).toBeGreaterThanOrEqual(25);
    expect(tries[2]!.endedAt).toBe(view!.steps.fetch!.endedAt);
  });

  it('records the attempts of foreach items', async () => {
    const weft = engine();
    const run = await weft.getWorkflow('items').createRun();
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('success');
    const view = await weft.getRun(run.runId);
    const [small, big] = Object.values(view!.foreachItems!)[0]!;
    expect(small!.tries).toBeUndefined();
    expect(big!.tries!.map((t) => t.status)).toEqual(['failed', 'success']);
  });

  it('reads a journal written without step-retry entries (before they existed) as steps tried once', async () => {
    const path = join(dir, 'old.db');
    const weft = engine(path);
    const run = await weft.getWorkflow('flaky').createRun();
    await run.start({ inputData: { n: 1 } });
    await weft.close();
    const db = new Database(path);
    const removed = db.prepare("DELETE FROM journal WHERE type = 'step-retry'").run().changes;
    db.close();
    expect(removed).toBe(2);

    const view = await engine(path).getRun(run.runId);
    expect(view!.status).toBe('success');
    expect(view!.steps.fetch!.status).toBe('success');
    expect(view!.steps.fetch!.tries).toBeUndefined();
  });
});
