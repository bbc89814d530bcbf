// A loop on Weft alone, to profile the hot path and compare changes under a noisy machine (reports the best CPU time).
// Usage: node [--cpu-prof] --import tsx bench/profile-loop.ts <w1|w2|w5|w7> [reps] (WEFT_BENCH_SOURCE=1: from src/)
import { z } from 'zod';
import type { Weft as WeftInstance } from '../src/index.js';
import { loadWeft } from './weft-module.js';
import { sequentialWorkflow, type WorkflowApi } from './workloads.js';

type Weft = WeftInstance;
const { Weft, MemoryStorage, createStep, createWorkflow } = await loadWeft();

const [shape = 'w1', repsArg] = process.argv.slice(2);
const api = { createWorkflow, createStep } as WorkflowApi;
const io = z.object({ n: z.number() });
const wait = createStep({
  id: 'wait',
  inputSchema: io,
  outputSchema: io,
  resumeSchema: z.object({ ok: z.boolean() }),
  execute: async ({ inputData, resumeData, suspend }) => {
    if (!resumeData) return suspend({}) as never;
    return { n: inputData.n + 1 };
  },
});
const workflows = {
  w1: sequentialWorkflow(api, 'w1', 10),
  w7: sequentialWorkflow(api, 'w7', 10_000),
  w5: createWorkflow({ id: 'w5', inputSchema: io, outputSchema: io }).then(wait).commit(),
};

type Shape = { ops: number; steps: number; body: (weft: Weft) => Promise<void> };
const shapes: Record<string, Shape> = {
  w1: { ops: 2000, steps: 10, body: (weft) => sequential(weft, 'w1', 2000) },
  w7: { ops: 1, steps: 10_000, body: (weft) => sequential(weft, 'w7', 1) },
  w2: {
    ops: 1000,
    steps: 10,
    body: async (weft) => {
      const wf = weft.getWorkflow('w1');
      await Promise.all(
        Array.from({ length: 1000 }, async () => (await wf.createRun()).start({ inputData: { n: 0 } })),
      );
    },
  },
  w5: {
    ops: 1000,
    steps: 1,
    body: async (weft) => {
      const wf = weft.getWorkflow('w5');
      for (let i = 0; i < 1000; i++) {
        const run = await wf.createRun();
        await run.start({ inputData: { n: 0 } });
        const r = await run.resume({ step: 'wait', resumeData: { ok: true } });
        if (r.status !== 'success') throw new Error(`resume ended "${r.status}"`);
      }
    },
  },
};

async function sequential(weft: Weft, key: string, count: number): Promise<void> {
  const wf = weft.getWorkflow(key);
  for (let i = 0; i < count; i++) {
    const result = await (await wf.createRun()).start({ inputData: { n: 0 } });
    if (result.status !== 'success') throw new Error(`run ended "${result.status}"`);
  }
}

const chosen = shapes[shape];
if (!chosen) throw new Error(`unknown shape ${shape}`);
let best = Infinity;
let bestWall = Infinity;
for (let rep = 0; rep < Number(repsArg ?? 7); rep++) {
  const weft = new Weft({ workflows: workflows as never, storage: new MemoryStorage() });
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await chosen.body(weft);
  const used = process.cpuUsage(cpu);
  bestWall = Math.min(bestWall, performance.now() - wall);
  best = Math.min(best, (used.user + used.system) / 1000);
  await weft.close();
}
const per = (ms: number): string => ((ms * 1000) / (chosen.ops * chosen.steps)).toFixed(2);
process.stdout.write(
  `${shape}: best CPU ${per(best)} µs per step (wall ${per(bestWall)} µs), ${best.toFixed(1)} ms per rep\n`,
);
