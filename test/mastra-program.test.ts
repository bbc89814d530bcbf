// A program written for Mastra's workflow API, run on Weft with only its import changed (and durable
// without a store configured: its runs go to the default SQLite file, here one WEFT_DB per test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
// In Mastra: import { createStep, createWorkflow } from '@mastra/core/workflows'; import { Mastra } from '@mastra/core';
import { createStep, createWorkflow, Weft as Mastra } from '../src/index.js';

function buildProgram() {
  const fetchOrders = createStep({
    id: 'fetch-orders',
    inputSchema: z.object({ customer: z.string(), count: z.number() }),
    outputSchema: z.array(z.object({ id: z.string(), amount: z.number() })),
    execute: async ({ inputData }) =>
      Array.from({ length: inputData.count }, (_, i) => ({
        id: `${inputData.customer}-${i + 1}`,
        amount: (i + 1) * 10,
      })),
  });

  const priceOrder = createStep({
    id: 'price-order',
    inputSchema: z.object({ id: z.string(), amount: z.number() }),
    outputSchema: z.object({ id: z.string(), total: z.number() }),
    execute: async ({ inputData }) => ({ id: inputData.id, total: Math.round(inputData.amount * 1.2) }),
  });

  const sumTotals = createStep({
    id: 'sum-totals',
    inputSchema: z.array(z.object({ id: z.string(), total: z.number() })),
    outputSchema: z.object({ total: z.number() }),
    execute: async ({ inputData }) => ({ total: inputData.reduce((s, o) => s + o.total, 0) }),
  });

  const loyalty = createStep({
    id: 'loyalty',
    inputSchema: z.object({ total: z.number() }),
    outputSchema: z.object({ points: z.number() }),
    execute: async ({ inputData }) => ({ points: Math.floor(inputData.total / 10) }),
  });

  const fraudScore = createStep({
    id: 'fraud-score',
    inputSchema: z.object({ total: z.number() }),
    outputSchema: z.object({ score: z.number() }),
    execute: async ({ inputData }) => ({ score: inputData.total > 100 ? 0.9 : 0.1 }),
  });

  const review = createStep({
    id: 'manual-review',
    inputSchema: z.object({ score: z.number(), points: z.number() }),
    outputSchema: z.object({ approved: z.boolean(), points: z.number() }),
    resumeSchema: z.object({ approved: z.boolean() }),
    suspendSchema: z.object({ reason: z.string() }),
    execute: async ({ inputData, resumeData, suspend }) => {
      if (!resumeData) {
        await suspend({ reason: `score ${inputData.score}` });
        return { approved: false, points: 0 };
      }
      return { approved: resumeData.approved, points: inputData.points };
    },
  });

  const autoApprove = createStep({
    id: 'auto-approve',
    inputSchema: z.object({ score: z.number(), points: z.number() }),
    outputSchema: z.object({ approved: z.boolean(), points: z.number() }),
    execute: async ({ inputData }) => ({ approved: true, points: inputData.points }),
  });

  const notify = createStep({
    id: 'notify',
    inputSchema: z.object({
      'manual-review': z.object({ approved: z.boolean(), points: z.number() }).optional(),
      'auto-approve': z.object({ approved: z.boolean(), points: z.number() }).optional(),
    }),
    outputSchema: z.object({ message: z.string() }),
    execute: async ({ inputData, getInitData, runId }) => {
      const decision = inputData['manual-review'] ?? inputData['auto-approve']!;
      const { customer } = getInitData<{ customer: string }>();
      return {
        message: `${customer}: ${decision.approved ? 'approved' : 'rejected'} (+${decision.points}) [${runId}]`,
      };
    },
  });

  const checkout = createWorkflow({
    id: 'checkout',
    inputSchema: z.object({ customer: z.string(), count: z.number() }),
    outputSchema: z.object({ message: z.string() }),
  })
    .then(fetchOrders)
    .foreach(priceOrder, { concurrency: 2 })
    .then(sumTotals)
    .parallel([loyalty, fraudScore])
    .map(async ({ inputData }) => ({ score: inputData['fraud-score'].score, points: inputData.loyalty.points }))
    .branch([
      [async ({ inputData }) => inputData.score > 0.5, review],
      [async ({ inputData }) => inputData.score <= 0.5, autoApprove],
    ])
    .then(notify)
    .commit();

  return new Mastra({ workflows: { checkout } });
}

let dir: string;
const defaultDb = process.env.WEFT_DB;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-mastra-program-'));
  process.env.WEFT_DB = join(dir, 'weft.db');
});
afterEach(() => {
  process.env.WEFT_DB = defaultDb;
  rmSync(dir, { recursive: true, force: true });
});

describe('a Mastra program', () => {
  it('runs unchanged except its import: foreach, parallel, map, branch, suspend and resume', async () => {
    const mastra = buildProgram();
    const workflow = mastra.getWorkflow('checkout');

    const small = await workflow.createRun({ runId: 'small' });
    const smallResult = await small.start({ inputData: { customer: 'ann', count: 2 } });
    expect(smallResult.status).toBe('success');
    expect(smallResult.result).toEqual({ message: 'ann: approved (+3) [small]' });
    expect(smallResult.steps['price-order'].output).toEqual([
      { id: 'ann-1', total: 12 },
      { id: 'ann-2', total: 24 },
    ]);

    const big = await workflow.createRun({ runId: 'big' });
    const bigResult = await big.start({ inputData: { customer: 'bob', count: 5 } });
    expect(bigResult.status).toBe('suspended');
    expect(bigResult.suspended).toEqual([['manual-review']]);
    expect(bigResult.steps['manual-review'].suspendPayload).toEqual({ reason: 'score 0.9' });

    const resumed = await big.resume({ step: 'manual-review', resumeData: { approved: true } });
    expect(resumed.status).toBe('success');
    expect(resumed.result).toEqual({ message: 'bob: approved (+18) [big]' });

    const stored = await workflow.getWorkflowRunById('big');
    expect(stored?.status).toBe('success');
  });

  it('streams the same program with stream().fullStream and result', async () => {
    const mastra = buildProgram();
    const run = await mastra.getWorkflow('checkout').createRun();
    const output = run.stream({ inputData: { customer: 'cy', count: 1 } });
    const types: string[] = [];
    for await (const chunk of output.fullStream) types.push(chunk.type);
    expect(types[0]).toBe('workflow-start');
    expect(types.at(-1)).toBe('workflow-finish');
    expect(types).toContain('workflow-step-progress');
    const result = await output.result;
    expect(result.status).toBe('success');
  });
});
