// Entries as the engine hands them to storage: text made when first read; memory keeps values, SQLite keeps text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft } from '../run/weft.js';
import { createStep } from '../workflow/create-step.js';
import { createWorkflow } from '../workflow/create-workflow.js';
import { DeferredEntry } from './deferred-entry.js';
import { MemoryStorage } from './memory/memory-storage.js';
import { SqliteStorage } from './sqlite/index.js';
import type { WeftStorage } from './types.js';

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
    const dir = mkdtempSync(join(tmpdir(), 'weft-deferred-'));
    dirs.push(dir);
    expect(await makeOutputAsStored(new SqliteStorage({ path: join(dir, 'weft.db') }))).toEqual({ items: ['made'] });
  });

  it('memory keeps the value itself, so a later in-place change shows (as in Mastra’s in-memory store)', async () => {
    expect(await makeOutputAsStored(new MemoryStorage())).toEqual({ items: ['made', 'appended'] });
  });
});
