// Stored runs seen through the workflow: getWorkflowRunById, listWorkflowRuns, deleteWorkflowRunById (SO1, SO2, SO4).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';

const n = z.object({ n: z.number() });

let dir: string;
const engines: Weft[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-runs-'));
});
afterEach(async () => {
  for (const w of engines.splice(0)) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

function engine<W extends Record<string, any>>(workflows: W, path = join(dir, 'weft.db')): Weft {
  const weft = new Weft({ workflows, storage: new SqliteStorage({ path }), recovery: false });
  engines.push(weft);
  return weft;
}

function workflows() {
  const inc = createStep({
    id: 'inc',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
  });
  const gate = createStep({
    id: 'gate',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData, resumeData, suspend }) => {
      if (inputData.n > 10 && !resumeData) await suspend({ big: inputData.n });
      return inputData;
    },
  });
  const inner = createWorkflow({ id: 'inner', inputSchema: n, outputSchema: n }).then(gate).commit();
  const wf = createWorkflow({ id: 'listed', inputSchema: n, outputSchema: n }).then(inc).then(inner).commit();
  const other = createWorkflow({ id: 'other', inputSchema: n, outputSchema: n }).then(inc).commit();
  return { wf, other };
}

describe('stored runs', () => {
  it('SO2: getWorkflowRunById gives runId, workflowName, status, steps with dotted nested keys, result and resourceId', async () => {
    const { wf } = workflows();
    engine({ wf });
    const run = await wf.createRun({ resourceId: 'user-1' });
    await run.start({ inputData: { n: 1 } });
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view).toMatchObject({
      runId: run.runId,
      workflowName: 'listed',
      status: 'success',
      resourceId: 'user-1',
      result: { n: 2 },
      payload: { n: 1 },
    });
    expect(view!.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(view!.steps).sort()).toEqual(['inc', 'inner', 'inner.gate']);
    expect(view!.steps.inc).toMatchObject({ status: 'success', payload: { n: 1 }, output: { n: 2 } });
  });

  it('SO2: fields limits what is returned; withNestedWorkflows false leaves out dotted keys; an unknown id gives null', async () => {
    const { wf } = workflows();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 1 } });
    const only = await wf.getWorkflowRunById(run.runId, { fields: ['status'] });
    expect(only!.status).toBe('success');
    expect(only!.steps).toBeUndefined();
    expect(only!.result).toBeUndefined();
    const flat = await wf.getWorkflowRunById(run.runId, { withNestedWorkflows: false });
    expect(Object.keys(flat!.steps).sort()).toEqual(['inc', 'inner']);
    expect(await wf.getWorkflowRunById('no-such-run')).toBeNull();
  });

  it('SO2: a suspended run shows its suspended path and payload; deleteWorkflowRunById makes a later get return null', async () => {
    const { wf } = workflows();
    engine({ wf });
    const run = await wf.createRun();
    await run.start({ inputData: { n: 20 } });
    const view = await wf.getWorkflowRunById(run.runId);
    expect(view!.status).toBe('suspended');
    expect(view!.suspended).toEqual([['inner', 'gate']]);
    expect(view!.steps['inner.gate']).toMatchObject({ status: 'suspended', suspendPayload: { big: 21 } });
    await wf.deleteWorkflowRunById(run.runId);
    expect(await wf.getWorkflowRunById(run.runId)).toBeNull();
    expect((await wf.listWorkflowRuns()).runs.map((r) => r.runId)).not.toContain(run.runId);
  });

  it('SO1: listWorkflowRuns gives {runs, total}, newest first, and filters by status and resourceId', async () => {
    const { wf, other } = workflows();
    engine({ wf, other });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await wf.createRun({ runId: `run-${i}`, resourceId: i % 2 === 0 ? 'even' : 'odd' });
      await run.start({ inputData: { n: i === 4 ? 50 : i } });
      ids.push(run.runId);
      await new Promise((r) => setTimeout(r, 2));
    }
    await (await other.createRun({ runId: 'other-run' })).start({ inputData: { n: 1 } });

    const all = await wf.listWorkflowRuns();
    expect(all.total).toBe(5);
    expect(all.runs.map((r) => r.runId)).toEqual([...ids].reverse());
    expect(all.runs.every((r) => r.workflowName === 'listed')).toBe(true);

    const suspended = await wf.listWorkflowRuns({ status: 'suspended' });
    expect(suspended.runs.map((r) => r.runId)).toEqual(['run-4']);
    expect(suspended.total).toBe(1);

    const odd = await wf.listWorkflowRuns({ resourceId: 'odd' });
    expect(odd.runs.map((r) => r.runId).sort()).toEqual(['run-1', 'run-3']);

    const successEven = await wf.listWorkflowRuns({ status: 'success', resourceId: 'even' });
    expect(successEven.runs.map((r) => r.runId).sort()).toEqual(['run-0', 'run-2']);
  });

  it('SO1: listWorkflowRuns pages with page (0-based) and perPage; total ignores the page', async () => {
    const { wf } = workflows();
    engine({ wf });
    for (let i = 0; i < 5; i++) {
      await (await wf.createRun({ runId: `p-${i}` })).start({ inputData: { n: i } });
      await new Promise((r) => setTimeout(r, 2));
    }
    const page0 = await wf.listWorkflowRuns({ perPage: 2, page: 0 });
    const page1 = await wf.listWorkflowRuns({ perPage: 2, page: 1 });
    const page2 = await wf.listWorkflowRuns({ perPage: 2, page: 2 });
    expect(page0.total).toBe(5);
    expect(page1.total).toBe(5);
    expect([...page0.runs, ...page1.runs, ...page2.runs].map((r) => r.runId)).toEqual([
      'p-4',
      'p-3',
      'p-2',
      'p-1',
      'p-0',
    ]);
    expect((await wf.listWorkflowRuns({ perPage: false })).runs).toHaveLength(5);
  });

  it('SO1: listWorkflowRuns filters by fromDate and toDate', async () => {
    const { wf } = workflows();
    engine({ wf });
    await (await wf.createRun({ runId: 'early' })).start({ inputData: { n: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    const middle = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await (await wf.createRun({ runId: 'late' })).start({ inputData: { n: 1 } });
    expect((await wf.listWorkflowRuns({ fromDate: middle })).runs.map((r) => r.runId)).toEqual(['late']);
    expect((await wf.listWorkflowRuns({ toDate: middle })).runs.map((r) => r.runId)).toEqual(['early']);
  });

  it('S10: createRun writes a pending run that is listed before start', async () => {
    const { wf } = workflows();
    engine({ wf });
    const run = await wf.createRun();
    expect((await wf.getWorkflowRunById(run.runId))!.status).toBe('pending');
    expect((await wf.listWorkflowRuns({ status: 'pending' })).runs.map((r) => r.runId)).toEqual([run.runId]);
  });

  it('SO4: outputs are stored JSON-encoded, and a later change to a live object does not leak into what was stored', async () => {
    const shared = { list: [1] as number[], when: new Date(0), fn: () => 1 };
    const make = createStep({
      id: 'make',
      inputSchema: z.object({}),
      outputSchema: z.any(),
      execute: async () => shared,
    });
    const mutate = createStep({
      id: 'mutate',
      inputSchema: z.any(),
      outputSchema: z.any(),
      execute: async ({ inputData }) => {
        inputData.list.push(2);
        return { size: inputData.list.length };
      },
    });
    const wf = createWorkflow({ id: 'json', inputSchema: z.object({}), outputSchema: z.any() })
      .then(make)
      .then(mutate)
      .commit();
    const path = join(dir, 'json.db');
    engine({ wf }, path);
    const run = await wf.createRun();
    await run.start({ inputData: {} });

    // A fresh engine over the same file reads exactly what was written.
    const again = createWorkflow({ id: 'json', inputSchema: z.object({}), outputSchema: z.any() })
      .then(make)
      .then(mutate)
      .commit();
    engine({ again }, path);
    const view = await again.getWorkflowRunById(run.runId);
    expect(view!.steps.make!.output).toEqual({ list: [1], when: '1970-01-01T00:00:00.000Z' });
    expect(view!.steps.mutate!.payload).toEqual({ list: [1], when: '1970-01-01T00:00:00.000Z' });
    expect(view!.result).toEqual({ size: 2 });
  });
  it('the stored view lists each foreach item with its own timings, and a sleeping step with its wake time', async () => {
    const double = createStep({
      id: 'double',
      inputSchema: n,
      outputSchema: n,
      execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
    });
    const fan = createWorkflow({ id: 'fan', inputSchema: z.array(n), outputSchema: z.array(n) })
      .foreach(double, { concurrency: 2 })
      .sleep(60_000, { id: 'nap' })
      .commit();
    const weft = engine({ fan });
    const run = await fan.createRun();
    const before = Date.now();
    void run.start({ inputData: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    let view = await weft.getRun(run.runId);
    for (let i = 0; i < 200 && view?.status !== 'waiting'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      view = await weft.getRun(run.runId);
    }
    expect(view?.status).toBe('waiting');
    const items = view?.foreachItems?.double ?? [];
    expect(items.map((i) => i.output)).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }]);
    for (const item of items) {
      expect(item.status).toBe('success');
      expect(item.endedAt).toBeGreaterThanOrEqual(item.startedAt);
    }
    expect(view?.steps.nap?.status).toBe('waiting');
    expect(view?.steps.nap?.wakeAt).toBeGreaterThanOrEqual(before + 60_000);
    await run.cancel();
  });
});
