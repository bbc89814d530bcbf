// run.watch() gives what Mastra's watch gives: the same workflows run on @mastra/core 1.71 and on
// Weft (memory and SQLite; Postgres in mastra-watch.pg.test.ts), watched end to end, compared event by event.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as weftApi from '../src/index.js';
import { MemoryStorage, Weft } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { numSchema, numStep, recordingLogger } from './support/step-factories.js';
import {
  define,
  expectSameEvents,
  onMastra,
  onWeft,
  scenarios,
  type Api,
  type AnyRun,
  type Host,
} from './support/watch-comparison.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['memory', 'sqlite'] as const)('run.watch() on %s gives what Mastra 1.71 gives', (store) => {
  it.each(Object.keys(scenarios))('%s', async (name) => {
    const storage =
      store === 'memory' ? new MemoryStorage() : new SqliteStorage({ path: join(dir, `${randomUUID()}.db`) });
    expectSameEvents(await onWeft(name, storage), await onMastra(name));
  });
});

describe('run.watch()', () => {
  it('gives each step finish after the results of the parallel branches that ended with it, and inner steps finish before their workflow', async () => {
    const events = await onWeft(
      'a nested workflow that suspends and is resumed, a parallel block, a map, a loop, a sleep',
      new MemoryStorage(),
    );
    const around = (type: string, id: string) => events.findIndex((e) => e.type === type && e.payload?.id === id);
    expect(around('workflow-step-finish', 'left')).toBeGreaterThan(around('workflow-step-result', 'right'));
    expect(around('workflow-step-finish', 'inner.ask')).toBeLessThan(around('workflow-step-result', 'inner'));
    expect(events.some((e) => e.type === 'workflow-start' || e.type === 'workflow-finish')).toBe(false);
  });

  it('a branch that ends long before its sibling gets its finish without waiting for it', async () => {
    const slow = weftApi.createStep({
      id: 'slow',
      inputSchema: numSchema,
      outputSchema: numSchema,
      execute: async ({ inputData }) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return inputData;
      },
    });
    const wf = weftApi
      .createWorkflow({ id: 'uneven', inputSchema: numSchema, outputSchema: z.any() })
      .parallel([numStep('fast'), slow])
      .commit();
    new Weft({ workflows: { wf }, storage: new MemoryStorage() });
    const run = await wf.createRun();
    const seen: string[] = [];
    run.watch((event) => seen.push(`${event.type} ${event.payload?.id}`));
    await run.start({ inputData: { n: 1 } });
    expect(seen).toEqual([
      'workflow-step-start fast',
      'workflow-step-start slow',
      'workflow-step-result fast',
      'workflow-step-finish fast',
      'workflow-step-result slow',
      'workflow-step-finish slow',
    ]);
  });

  it("gets a step's writer events only while a stream relays the run, as with Mastra", async () => {
    const mastra = await onMastraStarted();
    const weft = define(weftApi);
    new Weft({ workflows: weft, storage: new MemoryStorage() });
    const run = await weft.writing.createRun();
    const types: string[] = [];
    run.watch((event) => types.push(event.type));
    await run.start({ inputData: { n: 1 } });
    expect(types).toEqual(mastra);
    expect(types).toEqual(['workflow-step-start', 'workflow-step-result', 'workflow-step-finish']);
  });

  it('keeps nothing for an unwatched listener, and a failing listener does not touch the run', async () => {
    const weft = define(weftApi);
    const logger = recordingLogger();
    new Weft({ workflows: weft, storage: new MemoryStorage(), logger });
    const run = await weft.stepwise.createRun();
    const seen: string[] = [];
    const unwatch = run.watch((event) => {
      seen.push(event.type);
      unwatch();
    });
    run.watch(async () => {
      throw new Error('listener failed');
    });
    expect((await run.start({ inputData: { n: 1 } })).status).toBe('success');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['workflow-step-start']);
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(6); // one per event it got
  });
});

/** The event types Mastra's watch gives for the writing workflow when it is started, not streamed. */
async function onMastraStarted(): Promise<string[]> {
  const mastraApi = (await import('@mastra/core/workflows')) as unknown as Api;
  const { Mastra } = await import('@mastra/core');
  const mastra = new Mastra({ workflows: define(mastraApi) as never, logger: false });
  const run = (await (mastra as unknown as Host).getWorkflow('writing').createRun()) as AnyRun;
  const types: string[] = [];
  run.watch((event) => types.push(event.type));
  await run.start({ inputData: { n: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  await mastra.shutdown().catch(() => undefined);
  return types;
}
