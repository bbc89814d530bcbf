// Entries as the engine hands them to storage: text made when first read; memory keeps values, SQLite keeps text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WeftError } from '../errors.js';
import { Weft } from '../run/weft.js';
import { createStep } from '../workflow/create-step.js';
import { createWorkflow } from '../workflow/create-workflow.js';
import { DeferredEntry } from './encoding.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { SqliteStorage } from '../storage/sqlite/index.js';
import type { WeftStorage } from '../storage/types.js';

describe('DeferredEntry', () => {
  it('reads as the JSON text of its value, the same text every time', () => {
    const value = { key: '0', payload: { list: [1, 2] } };
    const entry = new DeferredEntry(1, 'step-start', value, 5);
    expect(entry.data).toBe(JSON.stringify(value));
    value.payload.list.push(3); // once made, the text no longer follows the value
    expect(entry.data).toBe('{"key":"0","payload":{"list":[1,2]}}');
    expect({ seq: entry.seq, type: entry.type, at: entry.at }).toEqual({ seq: 1, type: 'step-start', at: 5 });
  });

  it('stores BigInts as strings and cycles as "[Circular]" instead of failing', () => {
    const cyclic: Record<string, unknown> = { big: 10n };
    cyclic.self = cyclic;
    expect(JSON.parse(new DeferredEntry(1, 'custom', cyclic, 0).data)).toEqual({ big: '10', self: '[Circular]' });
  });

  it('cannot be changed through its data field', () => {
    const entry = new DeferredEntry(1, 'custom', { a: 1 }, 0);
    expect(() => {
      (entry as { data: string }).data = '"changed"';
    }).toThrow(TypeError);
    expect(entry.data).toBe('{"a":1}');
  });
});

describe('recorded values read back from each store', () => {
  const dirs: string[] = [];
  const engines: Weft[] = [];
  afterEach(async () => {
    for (const w of engines.splice(0)) await w.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A SQLite file of its own for this test. */
  function sqliteFile(): SqliteStorage {
    const dir = mkdtempSync(join(tmpdir(), 'weft-deferred-'));
    dirs.push(dir);
    return new SqliteStorage({ path: join(dir, 'weft.db') });
  }

  /** An engine over `workflows` on a SQLite file of its own. */
  function onSqlite(workflows: Record<string, unknown>): Weft {
    const weft = new Weft({ workflows: workflows as never, storage: sqliteFile(), recovery: false });
    engines.push(weft);
    return weft;
  }

  // z.any() passes values through (an object schema would hand the next step a parsed copy), so `append`
  // changes in place the very object `make` returned, which the journal recorded as make's output.
  const list = z.any();
  const make = createStep({
    id: 'make',
    inputSchema: z.object({}),
    outputSchema: list,
    execute: async () => ({ items: ['made'] }),
  });
  const append = createStep({
    id: 'append',
    inputSchema: list,
    outputSchema: list,
    execute: async ({ inputData }) => {
      inputData.items.push('appended');
      return inputData;
    },
  });
  const wf = createWorkflow({ id: 'mutating', inputSchema: z.object({}), outputSchema: list })
    .then(make)
    .then(append)
    .commit();

  async function makeOutputAsStored(storage: WeftStorage): Promise<unknown> {
    const weft = new Weft({ workflows: { wf }, storage, recovery: false });
    engines.push(weft);
    const run = await weft.getWorkflow('wf').createRun();
    const result = await run.start({ inputData: {} });
    expect(result.status).toBe('success');
    const entries = await storage.readJournal(run.runId);
    const end = entries.find((e) => e.type === 'step-end' && (JSON.parse(e.data) as { id: string }).id === 'make');
    return (JSON.parse(end!.data) as { output: unknown }).output;
  }

  it('SQLite stores the value as it was when the step finished', async () => {
    expect(await makeOutputAsStored(sqliteFile())).toEqual({ items: ['made'] });
  });

  it('memory keeps the value itself, so a later in-place change shows (as in Mastra’s in-memory store)', async () => {
    expect(await makeOutputAsStored(new MemoryStorage())).toEqual({ items: ['made', 'appended'] });
  });

  it('on SQLite, a value that cannot be serialized fails its own run only, not the runs committed with it', async () => {
    const bad = createStep({
      id: 'bad',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => ({
        toJSON() {
          throw new Error('cannot serialize');
        },
      }),
    });
    const ok = createStep({
      id: 'ok',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => ({ ok: true }),
    });
    const last = createStep({ id: 'last', inputSchema: z.any(), outputSchema: z.any(), execute: async () => 1 });
    const badWf = createWorkflow({ id: 'bad-wf', inputSchema: z.any(), outputSchema: z.any() })
      .then(bad)
      .then(last)
      .commit();
    const okWf = createWorkflow({ id: 'ok-wf', inputSchema: z.any(), outputSchema: z.any() })
      .then(ok)
      .then(last)
      .commit();
    const weft = onSqlite({ badWf, okWf });
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await weft.getWorkflow('badWf').createRun(), await weft.getWorkflow('okWf').createRun());
    }
    // Started together, so their writes share group transactions.
    const settled = await Promise.allSettled(runs.map((run) => run.start({ inputData: {} })));
    for (let i = 0; i < runs.length; i++) {
      const stored = await weft.getRun(runs[i]!.runId);
      if (i % 2 === 1) {
        expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { status: 'success' } });
        expect(stored?.status).toBe('success');
      } else {
        expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { status: 'failed' } });
        expect(stored?.status).toBe('failed');
        expect(stored?.steps.bad?.status).toBe('failed');
        expect(String((stored?.steps.bad?.error as Error).message)).toMatch(
          /cannot be stored as JSON: cannot serialize/,
        );
        const seqs = (await weft.storage.readJournal(runs[i]!.runId)).map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, n) => n + 1)); // nothing recorded that the store did not get
      }
    }
  });

  it('on SQLite, a run whose result holds a BigInt ends, its result stored as a string', async () => {
    const big = createStep({
      id: 'big',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => ({ n: 10n }),
    });
    const bigWf = createWorkflow({ id: 'big-wf', inputSchema: z.any(), outputSchema: z.any() }).then(big).commit();
    const weft = onSqlite({ bigWf });
    const run = await weft.getWorkflow('bigWf').createRun();
    expect((await run.start({ inputData: {} })).status).toBe('success');
    const stored = await weft.getRun(run.runId);
    expect(stored?.status).toBe('success');
    expect(stored?.result).toEqual({ n: '10' });
  });

  it('on SQLite, a stream consumer changing an event payload does not change what was stored', async () => {
    const storage = sqliteFile();
    const weft = new Weft({ workflows: { wf }, storage, recovery: false });
    engines.push(weft);
    const run = await weft.getWorkflow('wf').createRun();
    const output = run.stream({ inputData: {} });
    for await (const event of output.fullStream) {
      const payload = event.payload as { id?: string; output?: { items: string[] } } | undefined;
      if (event.type === 'workflow-step-result' && payload?.id === 'make') payload.output!.items.push('consumer');
    }
    await output.result;
    const entries = await storage.readJournal(run.runId);
    const end = entries.find((e) => e.type === 'step-end' && (JSON.parse(e.data) as { id: string }).id === 'make');
    expect((JSON.parse(end!.data) as { output: unknown }).output).toEqual({ items: ['made'] });
  });

  const unstorable = (): unknown => ({
    toJSON() {
      throw Object.assign(new Error('cannot serialize'), { value: this });
    },
  });

  it('on SQLite, a parallel branch whose output cannot be stored fails, after its siblings end', async () => {
    const bad = createStep({
      id: 'bad',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => unstorable(),
    });
    const slow = createStep({
      id: 'slow',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 'slow';
      },
    });
    const par = createWorkflow({ id: 'par', inputSchema: z.any(), outputSchema: z.any() })
      .parallel([bad, slow])
      .commit();
    const weft = onSqlite({ par });
    const run = await weft.getWorkflow('par').createRun();
    const result = await run.start({ inputData: {} });
    expect(result.status).toBe('failed');
    expect(String((result.error as Error).message)).toMatch(/"bad" produced a value that cannot be stored as JSON/);
    const entries = await weft.storage.readJournal(run.runId);
    expect(entries.at(-1)?.type).toBe('run-end'); // every step ended before the run did
    const view = await weft.getRun(run.runId);
    expect(view?.steps.bad?.status).toBe('failed');
    expect(view?.steps.slow?.status).toBe('success');
  });

  it('on SQLite, resume data that cannot be stored is refused before the claim; the run stays suspended', async () => {
    const gate = createStep({
      id: 'gate',
      inputSchema: z.any(),
      outputSchema: z.any(),
      resumeSchema: z.any(),
      execute: async ({ resumeData, suspend }) => (resumeData ? 'resumed' : ((await suspend({})) as never)),
    });
    const gated = createWorkflow({ id: 'gated', inputSchema: z.any(), outputSchema: z.any() }).then(gate).commit();
    const weft = onSqlite({ gated });
    const run = await weft.getWorkflow('gated').createRun();
    expect((await run.start({ inputData: {} })).status).toBe('suspended');
    await expect(run.resume({ resumeData: unstorable() })).rejects.toSatisfy((e) =>
      WeftError.is(e, 'VALUE_NOT_SERIALIZABLE'),
    );
    expect((await weft.getRun(run.runId))?.status).toBe('suspended');
    expect((await run.resume({ resumeData: { ok: true } })).status).toBe('success');
  });
});
