// The same workflows run on @mastra/core 1.71 and on Weft, watched end to end, for the suites that
// compare what run.watch() gives (test/mastra-watch*.test.ts).
import { expect } from 'vitest';
import { z } from 'zod';
import * as weftApi from '../../src/index.js';
import { Weft, type WeftStorage } from '../../src/index.js';
import { askingStep, numSchema, numStep } from './step-factories.js';

/** The definitions API both engines share (their own types differ; the calls are the same). */
export interface Api {
  createWorkflow: typeof weftApi.createWorkflow;
  createStep: typeof weftApi.createStep;
}

/** What the comparison calls on a run of either engine. */
export interface AnyRun {
  watch(cb: (event: WatchedEvent) => void): () => void;
  start(args: object): Promise<{ status: string }>;
  resume(args: object): Promise<{ status: string }>;
  stream(args: object): { fullStream: AsyncIterable<unknown>; result: Promise<{ status: string }> };
}

export interface WatchedEvent {
  type: string;
  payload?: Record<string, any>;
  data?: unknown;
}

const num = numSchema;

/** Workflows with nested workflows, suspend/resume, parallel, loops, foreach, branch, sleep, bail and failure. */
export function define({ createWorkflow, createStep }: Api) {
  const add = (id: string, k: number) => numStep(id, (n) => n + k, createStep);
  const ask = askingStep('ask', createStep);
  const inner = createWorkflow({ id: 'inner', inputSchema: num, outputSchema: num })
    .then(add('one', 1))
    .then(ask)
    .commit();
  const tick = add('tick', 1);
  const full = createWorkflow({ id: 'full', inputSchema: num, outputSchema: num })
    .then(inner)
    .parallel([add('left', 10), add('right', 20)])
    .map(async ({ inputData }) => ({ n: inputData.left.n + inputData.right.n }), { id: 'merge' })
    .dountil(tick, async ({ inputData }) => inputData.n >= 5 + 1)
    .sleep(5, { id: 'nap' })
    .then(add('last', 100))
    .commit();

  const explode = createStep({
    id: 'explode',
    inputSchema: num,
    outputSchema: z.array(num),
    execute: async ({ inputData }) => [inputData, { n: inputData.n + 1 }, { n: inputData.n + 2 }],
  });
  const pick = createStep({
    id: 'pick',
    inputSchema: z.array(num),
    outputSchema: num,
    execute: async ({ inputData }) => inputData[2]!,
  });
  const stop = createStep({
    id: 'stop',
    inputSchema: z.object({ big: num.optional(), small: num.optional() }),
    outputSchema: num,
    execute: async ({ bail }) => bail({ n: -1 }),
  });
  const shaped = createWorkflow({ id: 'shaped', inputSchema: num, outputSchema: num })
    .then(explode)
    .foreach(add('each', 1), { concurrency: 2 })
    .then(pick)
    .branch([
      [async ({ inputData }) => inputData.n > 2, add('big', 0)],
      [async ({ inputData }) => inputData.n <= 2, add('small', 0)],
    ])
    .then(stop)
    .then(add('never', 0))
    .commit();

  const boom = createStep({
    id: 'boom',
    inputSchema: num,
    outputSchema: num,
    execute: async () => {
      throw new Error('kaboom');
    },
  });
  const failing = createWorkflow({ id: 'failing', inputSchema: num, outputSchema: num })
    .then(add('fine', 1))
    .then(boom)
    .commit();
  const stepwise = createWorkflow({ id: 'stepwise', inputSchema: num, outputSchema: num })
    .then(add('first', 1))
    .then(add('second', 1))
    .commit();
  const writer = createStep({
    id: 'writer',
    inputSchema: num,
    outputSchema: num,
    execute: async ({ inputData, writer }) => {
      await writer.write({ progress: 50 });
      await writer.custom({ type: 'data-progress', data: { pct: 50 } });
      return inputData;
    },
  });
  const writing = createWorkflow({ id: 'writing', inputSchema: num, outputSchema: num }).then(writer).commit();
  const asking = createWorkflow({ id: 'asking', inputSchema: num, outputSchema: z.any() })
    .then(explode)
    .foreach(askingStep('ask-each', createStep), { concurrency: 1 })
    .then(pick)
    .commit();
  return { full, shaped, failing, stepwise, writing, asking };
}

type Scenario = (run: AnyRun) => Promise<void>;

export const scenarios: Record<string, { workflow: string; play: Scenario }> = {
  'a nested workflow that suspends and is resumed, a parallel block, a map, a loop, a sleep': {
    workflow: 'full',
    play: async (run) => {
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
      expect((await run.resume({ step: ['inner', 'ask'], resumeData: { add: 1 } })).status).toBe('success');
    },
  },
  'a foreach, a branch and a bail': {
    workflow: 'shaped',
    play: async (run) => {
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('success');
    },
  },
  'a failing step': {
    workflow: 'failing',
    play: async (run) => {
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('failed');
    },
  },
  'a run paused by perStep': {
    workflow: 'stepwise',
    play: async (run) => {
      expect((await run.start({ inputData: { n: 1 }, perStep: true })).status).toBe('paused');
    },
  },
  'a foreach whose items suspend and are resumed one by one': {
    workflow: 'asking',
    play: async (run) => {
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('suspended');
      for (const index of [0, 1]) {
        await run.resume({ step: 'ask-each', forEachIndex: index, resumeData: { add: 1 } });
      }
      expect((await run.resume({ step: 'ask-each', forEachIndex: 2, resumeData: { add: 1 } })).status).toBe('success');
    },
  },
  'a streamed step that writes': {
    workflow: 'writing',
    play: async (run) => {
      const output = run.stream({ inputData: { n: 1 } });
      for await (const _ of output.fullStream);
      expect((await output.result).status).toBe('success');
    },
  },
};

export type Host = { getWorkflow(key: string): { createRun(options?: object): Promise<AnyRun> } };

/** The events watched, with the run's id written `<run>` (Mastra's nested suspend payloads carry it). */
export async function watchScenario(host: Host, name: string): Promise<WatchedEvent[]> {
  const { workflow, play } = scenarios[name]!;
  const run = await host.getWorkflow(workflow).createRun({ runId: `run-${++runs}` });
  const events: WatchedEvent[] = [];
  const unwatch = run.watch((event) => events.push(event));
  await play(run);
  await new Promise((resolve) => setTimeout(resolve, 20)); // Mastra publishes the last events after the run resolves
  unwatch();
  return JSON.parse(JSON.stringify(events).replaceAll(`"run-${runs}"`, '"<run>"')) as WatchedEvent[];
}

let runs = 0;

/** The scenario on @mastra/core, with its default in-memory store. */
export async function onMastra(name: string): Promise<WatchedEvent[]> {
  const mastraApi = (await import('@mastra/core/workflows')) as unknown as Api;
  const { Mastra } = await import('@mastra/core');
  const mastra = new Mastra({ workflows: define(mastraApi) as never, logger: false });
  try {
    return await watchScenario(mastra as unknown as Host, name);
  } finally {
    await mastra.shutdown().catch(() => undefined);
  }
}

/** The scenario on a Weft instance over `storage` (closed afterwards). */
export async function onWeft(name: string, storage: WeftStorage): Promise<WatchedEvent[]> {
  const weft = new Weft({ workflows: define(weftApi), storage });
  try {
    return await watchScenario(weft as unknown as Host, name);
  } finally {
    await weft.close();
  }
}

/** The event's kind and step, and, for a step event, the status it reports. */
function outline(event: WatchedEvent): string {
  const p = event.payload ?? {};
  return [event.type, p.id, p.status].filter((part) => part !== undefined).join(' ');
}

/** Fields whose values both engines must agree on where Mastra gives them (times and call ids differ by nature). */
const COMPARED = [
  'id',
  'status',
  'payload',
  'output',
  'suspendPayload',
  'resumePayload',
  'error',
  'metadata',
  'completedCount',
  'totalCount',
  'currentIndex',
  'iterationStatus',
  'iterationOutput',
] as const;

/** The event's fields and its payload's, sorted (JSON has dropped fields that are undefined). */
function shape(event: WatchedEvent): { event: string[]; payload: string[] } {
  return { event: Object.keys(event).sort(), payload: Object.keys(event.payload ?? {}).sort() };
}

/**
 * Expects Weft's watched events to be Mastra's: the same kinds, steps and statuses in the same
 * order, the same fields in each event and its payload, and the same values for the fields that do
 * not depend on time or ids.
 */
export function expectSameEvents(weft: WatchedEvent[], mastra: WatchedEvent[]): void {
  expect(weft.map(outline)).toEqual(mastra.map(outline));
  // (JSON has dropped Mastra's fields that are undefined, such as `tripwire` of a failed step.)
  expect(weft.map(shape)).toEqual(mastra.map(shape));
  for (const [i, expected] of mastra.entries()) {
    const actual = weft[i]!;
    for (const field of COMPARED) {
      if (expected.payload && field in expected.payload) {
        expect({ event: i, field, value: actual.payload![field] }).toEqual({
          event: i,
          field,
          value: expected.payload[field],
        });
      }
    }
    if ('data' in expected) expect(actual.data).toEqual(expected.data);
  }
}
