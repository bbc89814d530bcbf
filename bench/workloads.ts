// The benchmark workloads, each defined once against the shared definition API and built for every engine.
import { z } from 'zod';
import type { BenchRun, Engine, EngineInstance, EngineName, StoreKind } from './engines.js';
import { elapsedMs, timed } from './measure.js';

/** The part of `createWorkflow` / `createStep` the workloads use; Weft and Mastra both provide it. */
export interface WorkflowApi {
  createWorkflow(params: any): any;
  createStep(params: any): any;
}

export type Zod = typeof z;

/** How one sample is taken. */
export interface SampleContext {
  engine: Engine;
  store: StoreKind;
  quick: boolean;
  /** A warm-up sample: smaller, and its numbers are thrown away. */
  warmup: boolean;
  /** Repetition number (0-based); some costly measurements run only in the first. */
  rep: number;
  /** A directory for database files. */
  dir: string;
}

/** A number a workload reports; `ratio` rows get a Weft / Mastra column. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  ratio: boolean;
}

/** One sample's metric values (a metric may be absent), and notes such as "extrapolated". */
export interface Sample {
  values: Record<string, number>;
  notes?: string[];
}

export interface Workload {
  id: string;
  title: string;
  stores: readonly StoreKind[];
  metrics: readonly MetricSpec[];
  /** Takes one sample: the metric values, plus notes (e.g. "extrapolated"). */
  sample(ctx: SampleContext): Promise<Sample>;
}

// ---- shared definitions ----

const numberIO = z.object({ n: z.number() });

function trivialStep(api: WorkflowApi, id: string): unknown {
  return api.createStep({
    id,
    inputSchema: numberIO,
    outputSchema: numberIO,
    execute: async ({ inputData }: { inputData: { n: number } }) => ({ n: inputData.n + 1 }),
  });
}

/** A workflow of `length` trivial steps in sequence. */
export function sequentialWorkflow(api: WorkflowApi, id: string, length: number): unknown {
  let wf = api.createWorkflow({ id, inputSchema: numberIO, outputSchema: numberIO });
  for (let i = 0; i < length; i++) wf = wf.then(trivialStep(api, `s${i}`));
  return wf.commit();
}

function parallelWorkflow(api: WorkflowApi, width: number): unknown {
  const branches = Array.from({ length: width }, (_, i) => trivialStep(api, `p${i}`));
  const join = api.createStep({
    id: 'join',
    inputSchema: z.record(numberIO),
    outputSchema: numberIO,
    execute: async ({ inputData }: { inputData: Record<string, { n: number }> }) => {
      let n = 0;
      for (const k in inputData) n += inputData[k]!.n;
      return { n };
    },
  });
  return api
    .createWorkflow({ id: 'w3', inputSchema: numberIO, outputSchema: numberIO })
    .parallel(branches)
    .then(join)
    .commit();
}

function foreachWorkflow(api: WorkflowApi, id: string, concurrency: number): unknown {
  const item = api.createStep({
    id: 'item',
    inputSchema: z.number(),
    outputSchema: z.number(),
    execute: async ({ inputData }: { inputData: number }) => inputData + 1,
  });
  return api
    .createWorkflow({ id, inputSchema: z.array(z.number()), outputSchema: z.array(z.number()) })
    .foreach(item, { concurrency })
    .commit();
}

function suspendWorkflow(api: WorkflowApi): unknown {
  const wait = api.createStep({
    id: 'wait',
    inputSchema: numberIO,
    outputSchema: numberIO,
    resumeSchema: z.object({ ok: z.boolean() }),
    execute: async ({
      inputData,
      resumeData,
      suspend,
    }: {
      inputData: { n: number };
      resumeData?: { ok: boolean };
      suspend: (p: unknown) => Promise<unknown>;
    }) => {
      if (!resumeData) return suspend({ reason: 'approval' });
      return { n: inputData.n + 1 };
    },
  });
  return api.createWorkflow({ id: 'w5', inputSchema: numberIO, outputSchema: numberIO }).then(wait).commit();
}

// ---- helpers ----

/** Builds `workflows` with the engine's API, opens an instance, runs `body`, closes it. */
async function withInstance<T>(
  ctx: SampleContext,
  build: (api: WorkflowApi) => Record<string, unknown>,
  body: (inst: EngineInstance) => Promise<T>,
): Promise<T> {
  const api = await ctx.engine.api();
  const inst = await ctx.engine.open(build(api), ctx.store, ctx.dir);
  try {
    return await body(inst);
  } finally {
    await inst.close();
  }
}

/** A count per engine and store, smaller for warm-up and --quick. */
function size(ctx: SampleContext, counts: Record<EngineName, Record<StoreKind, number>>): number {
  const n = counts[ctx.engine.name][ctx.store];
  const divisor = (ctx.warmup ? 4 : 1) * (ctx.quick ? 4 : 1);
  return Math.max(1, Math.round(n / divisor));
}

function expectStatus(result: { status: string }, status: string, what: string): void {
  if (result.status !== status) throw new Error(`${what}: expected status "${status}", got "${result.status}"`);
}

async function runOnce(inst: EngineInstance, key: string, inputData: unknown): Promise<BenchRun> {
  const run = await inst.createRun(key);
  const result = await run.start({ inputData });
  expectStatus(result, 'success', key);
  return run;
}

// ---- the workloads ----

const W1_SIZES = { weft: { memory: 4000, file: 600 }, mastra: { memory: 150, file: 30 } };

const w1: Workload = {
  id: 'W1',
  title: '10-step sequential workflow, runs one after another',
  stores: ['memory', 'file'],
  metrics: [{ key: 'usPerStep', label: 'µs per step', unit: 'µs', ratio: true }],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ w1: sequentialWorkflow(api, 'w1', 10) }),
      async (inst) => {
        const runs = size(ctx, W1_SIZES);
        const ms = await timed(async () => {
          for (let i = 0; i < runs; i++) await runOnce(inst, 'w1', { n: 0 });
        });
        return { values: { usPerStep: (ms * 1000) / (runs * 10) } };
      },
    );
  },
};

const w2: Workload = {
  id: 'W2',
  title: '1,000 runs of W1 started at once, with a 5 ms interval timer',
  stores: ['memory', 'file'],
  metrics: [
    { key: 'totalMs', label: 'ms for all 1,000 runs', unit: 'ms', ratio: true },
    { key: 'ticks', label: 'timer ticks (of expected)', unit: '', ratio: false },
    { key: 'maxGapMs', label: 'longest gap between ticks', unit: 'ms', ratio: false },
  ],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ w1: sequentialWorkflow(api, 'w1', 10) }),
      async (inst) => {
        const runs = ctx.warmup ? 100 : 1000;
        let ticks = 0;
        let last = performance.now();
        let maxGap = 0;
        const started = performance.now();
        const timer = setInterval(() => {
          const now = performance.now();
          ticks++;
          maxGap = Math.max(maxGap, now - last);
          last = now;
        }, 5);
        let totalMs: number;
        try {
          await Promise.all(Array.from({ length: runs }, () => runOnce(inst, 'w1', { n: 0 })));
          totalMs = elapsedMs(started);
        } finally {
          clearInterval(timer);
        }
        maxGap = Math.max(maxGap, performance.now() - last);
        return { values: { totalMs, ticks, expectedTicks: Math.floor(totalMs / 5), maxGapMs: maxGap } };
      },
    );
  },
};

const W3_SIZES = { weft: { memory: 300, file: 40 }, mastra: { memory: 20, file: 4 } };

const w3: Workload = {
  id: 'W3',
  title: '100-way parallel block and a join',
  stores: ['memory', 'file'],
  metrics: [{ key: 'msPerRun', label: 'ms per run', unit: 'ms', ratio: true }],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ w3: parallelWorkflow(api, 100) }),
      async (inst) => {
        const runs = size(ctx, W3_SIZES);
        const ms = await timed(async () => {
          for (let i = 0; i < runs; i++) await runOnce(inst, 'w3', { n: 0 });
        });
        return { values: { msPerRun: ms / runs } };
      },
    );
  },
};

const w4: Workload = {
  id: 'W4',
  title: 'foreach over 10,000 items',
  stores: ['memory', 'file'],
  metrics: [
    { key: 'usPerItemC1', label: 'µs per item, concurrency 1', unit: 'µs', ratio: true },
    { key: 'usPerItemC16', label: 'µs per item, concurrency 16', unit: 'µs', ratio: true },
  ],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ c1: foreachWorkflow(api, 'c1', 1), c16: foreachWorkflow(api, 'c16', 16) }),
      async (inst) => {
        const items = Array.from({ length: ctx.warmup || ctx.quick ? 1000 : 10_000 }, (_, i) => i);
        const values: Record<string, number> = {};
        for (const [key, metric] of [
          ['c1', 'usPerItemC1'],
          ['c16', 'usPerItemC16'],
        ] as const) {
          const ms = await timed(() => runOnce(inst, key, items));
          values[metric] = (ms * 1000) / items.length;
        }
        return { values };
      },
    );
  },
};

const W5_SIZES = { weft: { memory: 2000, file: 300 }, mastra: { memory: 150, file: 30 } };

const w5: Workload = {
  id: 'W5',
  title: 'start → suspend → resume round trips',
  stores: ['memory', 'file'],
  metrics: [{ key: 'usPerRoundTrip', label: 'µs per round trip', unit: 'µs', ratio: true }],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ w5: suspendWorkflow(api) }),
      async (inst) => {
        const trips = size(ctx, W5_SIZES);
        const ms = await timed(async () => {
          for (let i = 0; i < trips; i++) {
            const run = await inst.createRun('w5');
            expectStatus(await run.start({ inputData: { n: 0 } }), 'suspended', 'w5 start');
            expectStatus(await run.resume({ step: 'wait', resumeData: { ok: true } }), 'success', 'w5 resume');
          }
        });
        return { values: { usPerRoundTrip: (ms * 1000) / trips } };
      },
    );
  },
};

const w6: Workload = {
  id: 'W6',
  title: 'W1 through stream(), reading every event',
  stores: ['memory'],
  metrics: [
    { key: 'usPerStep', label: 'µs per step via stream()', unit: 'µs', ratio: true },
    { key: 'vsStart', label: 'stream() / start() time', unit: '×', ratio: false },
    { key: 'events', label: 'events per run', unit: '', ratio: false },
  ],
  async sample(ctx) {
    return withInstance(
      ctx,
      (api) => ({ w1: sequentialWorkflow(api, 'w1', 10) }),
      async (inst) => {
        const runs = size(ctx, W1_SIZES);
        let events = 0;
        const startBlock = (n: number) =>
          timed(async () => {
            for (let i = 0; i < n; i++) await runOnce(inst, 'w1', { n: 0 });
          });
        const streamBlock = (n: number) =>
          timed(async () => {
            for (let i = 0; i < n; i++) {
              const run = await inst.createRun('w1');
              const output = run.stream({ inputData: { n: 0 } });
              for await (const _event of output.fullStream) events++;
              expectStatus(await output.result, 'success', 'w1 stream');
            }
          });
        // Small blocks of each, alternating which goes first, so both see the same heap and store size
        // (one phase after the other would hand the second a store twice as full).
        const block = Math.max(1, Math.min(100, Math.floor(runs / 10)));
        let startMs = 0;
        let streamMs = 0;
        for (let done = 0, b = 0; done < runs; done += block, b++) {
          const n = Math.min(block, runs - done);
          if (b % 2 === 0) {
            startMs += await startBlock(n);
            streamMs += await streamBlock(n);
          } else {
            streamMs += await streamBlock(n);
            startMs += await startBlock(n);
          }
        }
        return {
          values: { usPerStep: (streamMs * 1000) / (runs * 10), vsStart: streamMs / startMs, events: events / runs },
        };
      },
    );
  },
};

const MASTRA_LIMIT_MS = 60_000;

const w7: Workload = {
  id: 'W7',
  title: 'one sequential run of 1,000 and of 10,000 steps',
  stores: ['memory'],
  metrics: [
    { key: 'ms1000', label: 'ms, 1,000 steps', unit: 'ms', ratio: true },
    { key: 'ms10000', label: 'ms, 10,000 steps', unit: 'ms', ratio: true },
    { key: 'exponent', label: 'growth exponent (1k → 10k)', unit: '', ratio: false },
  ],
  async sample(ctx): Promise<Sample> {
    const long = ctx.warmup ? 2000 : 10_000;
    return withInstance(
      ctx,
      (api) => ({
        s500: sequentialWorkflow(api, 's500', 500),
        s1000: sequentialWorkflow(api, 's1000', 1000),
        long: sequentialWorkflow(api, 'long', long),
      }),
      async (inst): Promise<Sample> => {
        const notes: string[] = [];
        const ms1000 = await timed(() => runOnce(inst, 's1000', { n: 0 }));
        if (ctx.engine.name === 'weft' || ctx.warmup) {
          const ms10000 = await timed(() => runOnce(inst, 'long', { n: 0 }));
          return { values: { ms1000, ms10000, exponent: Math.log10(ms10000 / ms1000) } };
        }
        // Mastra grows superlinearly: one 10,000-step run (first repetition only), if it is predicted
        // from 500 → 1,000 steps to take at most 60 s; otherwise that prediction stands in for it.
        if (ctx.rep > 0) return { values: { ms1000 } };
        const ms500 = await timed(() => runOnce(inst, 's500', { n: 0 }));
        const predicted = ms1000 * Math.pow(10, Math.log2(ms1000 / ms500));
        let ms10000 = predicted;
        if (!ctx.quick && predicted <= MASTRA_LIMIT_MS) ms10000 = await timed(() => runOnce(inst, 'long', { n: 0 }));
        else
          notes.push(
            `Mastra 10,000 steps extrapolated from 500 → 1,000 steps (${ctx.quick ? '--quick' : 'predicted over 60 s'}): ${Math.round(predicted)} ms`,
          );
        return { values: { ms1000, ms10000, exponent: Math.log10(ms10000 / ms1000) }, notes };
      },
    );
  },
};

export const workloads: readonly Workload[] = [w1, w2, w3, w4, w5, w6, w7];
