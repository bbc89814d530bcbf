// The order of a suspended run's `suspended` paths, compared with @mastra/core 1.71 on every store: the
// arms of a branch come in the order they suspended, those of a parallel block in the graph's order, and
// an arm resumed that suspends again keeps its place. Callers resume them in turn, as this test does.
import { Mastra } from '@mastra/core';
import * as mastraApi from '@mastra/core/workflows';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow } from '../src/index.js';
import { storeCases } from './support/stores.js';

type Block = 'branch' | 'parallel';
interface Api {
  createStep: (...args: any[]) => any;
  createWorkflow: (...args: any[]) => any;
}

const num = z.object({ n: z.number() });
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two arms that both suspend: `slow`, declared first, waits 20 ms before it does; `fast` at once. A resume
 * with `m` under 20 suspends the arm again.
 */
function build(api: Api, block: Block): any {
  const arm = (id: string, waitMs: number) =>
    api.createStep({
      id,
      inputSchema: num,
      outputSchema: z.any(),
      resumeSchema: z.object({ m: z.number() }),
      execute: async ({ inputData, resumeData, suspend }: any) => {
        if (resumeData && resumeData.m >= 20) return { id, n: inputData.n + resumeData.m };
        await delay(waitMs);
        await suspend({ id });
        return undefined;
      },
    });
  const slow = arm('slow', 20);
  const fast = arm('fast', 0);
  const wf = api.createWorkflow({ id: `two-arms-${block}`, inputSchema: num, outputSchema: z.any() });
  const both =
    block === 'branch'
      ? wf.branch([
          [async () => true, slow],
          [async () => true, fast],
        ])
      : wf.parallel([slow, fast]);
  return both.commit();
}

/** What a caller sees: start, then resume the first suspended step (once to suspend again) until the end. */
async function observe(run: any): Promise<unknown[]> {
  const seen: unknown[] = [];
  let result = await run.start({ inputData: { n: 1 } });
  for (const m of [10, 20, 20]) {
    if (result.status !== 'suspended') break;
    seen.push({ status: result.status, suspended: result.suspended });
    result = await run.resume({ step: result.suspended[0], resumeData: { m } });
  }
  seen.push({ status: result.status, result: result.result });
  return seen;
}

async function onMastra(block: Block): Promise<unknown[]> {
  const wf = build(mastraApi as unknown as Api, block);
  const mastra = new Mastra({ workflows: { [wf.id]: wf }, logger: false });
  try {
    return await observe(await (mastra.getWorkflow(wf.id) as any).createRun());
  } finally {
    await mastra.shutdown().catch(() => undefined);
  }
}

const engines: Weft[] = [];
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
});

for (const store of await storeCases()) {
  describe(`suspended paths on ${store.name} come in Mastra's order`, () => {
    it.each<[Block, string[]]>([
      ['branch', ['fast', 'slow']],
      ['parallel', ['slow', 'fast']],
    ])('%s: the arms in the order %j', async (block, order) => {
      const wf = build({ createStep, createWorkflow }, block);
      const weft = new Weft({ workflows: { [wf.id]: wf }, storage: store.open(), recovery: false });
      engines.push(weft);
      const actual = await observe(await wf.createRun());
      const paths = order.map((id) => [id]);
      // The first arm resumed suspends again and keeps its place; resumed once more, it ends.
      expect(actual.slice(0, 3)).toEqual([
        { status: 'suspended', suspended: paths },
        { status: 'suspended', suspended: paths },
        { status: 'suspended', suspended: paths.slice(1) },
      ]);
      expect(actual).toEqual(await onMastra(block));
    });
  });
}
