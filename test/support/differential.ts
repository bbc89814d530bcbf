// Runs one random workflow on Weft and on @mastra/core through start+resume or stream+resumeStream,
// and reduces what each engine shows to a form where the two can be compared.
import { isDeepStrictEqual } from 'node:util';
import { Mastra } from '@mastra/core';
import { RequestContext as MastraRequestContext } from '@mastra/core/request-context';
import * as mastraApi from '@mastra/core/workflows';
import * as weftApi from '../../src/index.js';
import { MemoryStorage, Weft } from '../../src/index.js';
import type { WeftStorage } from '../../src/storage/types.js';
import { buildWorkflow, bodyIds, type WorkflowApi, type WorkflowSpec } from './random-workflows.js';

export type Mode = 'start' | 'stream';

/** What a caller saw after one call (a start or a resume), normalised. */
export interface Observation {
  call: string;
  result: unknown;
  events?: { sequence: string[]; perStep: Record<string, string[]> };
}

/** Resumes at most this many times: loops can suspend once per iteration. */
const MAX_RESUMES = 12;

const TIME_KEYS = new Set(['startedAt', 'endedAt', 'suspendedAt', 'resumedAt']);

/**
 * A value with what cannot be equal across engines taken out: times, run ids, and Errors as their message.
 * Deliberate differences are normalised by the caller, not here.
 */
export function normalise(value: unknown): unknown {
  if (value instanceof Error) return { message: value.message };
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (TIME_KEYS.has(key) || v === undefined) continue;
      if (key === 'runId' && typeof v === 'string') continue;
      out[key] = normalise(v);
    }
    return out;
  }
  return value;
}

const STEP_FIELDS = ['status', 'output', 'payload', 'suspendPayload', 'resumePayload', 'error', 'metadata'] as const;

/** The parts of a run result the suite compares. */
export function normaliseOne(r: any, bodies: { foreach: ReadonlySet<string>; loop: ReadonlySet<string> }): unknown {
  const steps: Record<string, Record<string, unknown>> = {};
  for (const [id, s] of Object.entries<any>(r.steps ?? {})) {
    if (id === 'input') continue;
    const picked: Record<string, unknown> = {};
    for (const f of STEP_FIELDS) if (s?.[f] !== undefined) picked[f] = s[f];
    // Weft keeps a resumed step's suspendPayload beside its resume fields (behaviour catalogue R4);
    // the reference drops it once the step ends. Compared only while the step is suspended.
    if (picked.status !== 'suspended') delete picked.suspendPayload;
    if (bodies.foreach.has(id)) normaliseForeach(picked);
    else keepPath(picked);
    // The reference starts a loop's next iteration from the last one's record: an iteration that was
    // never resumed still shows the resumePayload of the one before. Not compared for loop bodies.
    if (bodies.loop.has(id)) delete picked.resumePayload;
    steps[id] = picked;
  }
  compactPayloads(steps, r.steps?.input, r.stepExecutionPath);
  return normalise({
    status: r.status,
    result: r.status === 'success' ? r.result : undefined,
    error: r.error ? { message: r.error.message } : undefined,
    suspended: r.suspended,
    steps,
    // Not for a failed run: the reference drops what the steps of a nested workflow that failed set
    // (its nested run's state is merged into the parent's only when it ends well); Weft keeps it.
    state: r.status === 'failed' ? undefined : r.state,
  });
}

/**
 * The reference's record of a foreach step is its own bookkeeping: an item that fails or bails replaces
 * it (its payload becomes that item's), and `__workflow_meta` carries per-item records in shapes that
 * change with each resume. Its status, output, error and the index of the suspended item are compared.
 */
function normaliseForeach(step: Record<string, unknown>): void {
  if (step.status !== 'success' || !Array.isArray(step.output)) delete step.payload;
  const meta = (step.suspendPayload as { __workflow_meta?: Record<string, unknown> } | undefined)?.__workflow_meta;
  if (step.status !== 'suspended') delete step.suspendPayload;
  else if (meta)
    step.suspendPayload = { ...(step.suspendPayload as object), __workflow_meta: { foreachIndex: meta.foreachIndex } };
}

/**
 * A nested workflow's suspendPayload: its `__workflow_meta` is compared by `path` only (the reference
 * copies in the bookkeeping of a foreach suspended inside it too).
 */
function keepPath(step: Record<string, unknown>): void {
  const payload = step.suspendPayload as { __workflow_meta?: { path?: unknown } } | undefined;
  if (payload?.__workflow_meta)
    step.suspendPayload = { ...payload, __workflow_meta: { path: payload.__workflow_meta.path } };
}

/**
 * Mastra's result leaves out a step's `payload` when it deep-equals the previous output along
 * `stepExecutionPath` (reference, quirk 8); Weft keeps it. The same rule is applied to both sides.
 */
function compactPayloads(steps: Record<string, Record<string, unknown>>, input: unknown, path: unknown): void {
  if (!Array.isArray(path)) return;
  let previous = input;
  for (const id of path as string[]) {
    const step = steps[id];
    if (!step) continue;
    if (isDeepStrictEqual(normalise(step.payload), normalise(previous))) delete step.payload;
    if (step.status === 'success') previous = step.output;
  }
}

/**
 * Event types in order (workflow-level, and per step), which the interleaving of parallel work cannot
 * change. Normalised: consecutive foreach progress events count as one (how many items a foreach with
 * concurrency starts before a sibling's failure or bail stops it depends on which finishes first), and
 * `workflow-finish` without its status (the result's status is compared; the reference's stream says
 * `success` after a resume that leaves another step suspended).
 */
export function normaliseEvents(events: any[]): { sequence: string[]; perStep: Record<string, string[]> } {
  const sequence: string[] = [];
  const perStep: Record<string, string[]> = {};
  for (const e of events) {
    const id = e.payload?.id;
    if (typeof id === 'string' && e.type.startsWith('workflow-step-')) {
      const list = (perStep[id] ??= []);
      if (e.type === 'workflow-step-progress' && list[list.length - 1] === e.type) continue;
      const iteration = e.payload?.metadata?.iterationCount;
      const label = e.payload?.status ? `${e.type}(${e.payload.status})` : e.type;
      list.push(iteration === undefined ? label : `${label}@${iteration}`);
    } else if (!e.type.startsWith('workflow-step-')) {
      sequence.push(e.type);
    }
  }
  return { sequence, perStep };
}

/** An engine under comparison: builds the workflow and makes runs of it. */
export interface Engine {
  createRun(): Promise<any>;
  /** A request context of this engine's own class. */
  requestContext(entries: [string, unknown][]): unknown;
  close(): Promise<void>;
}

export async function openWeft(spec: WorkflowSpec, storage: WeftStorage = new MemoryStorage()): Promise<Engine> {
  const wf = buildWorkflow(weftApi as unknown as WorkflowApi, spec);
  const weft = new Weft({ workflows: { [spec.id]: wf }, storage, recovery: false });
  await weft.init();
  return {
    createRun: () => weft.getWorkflow(spec.id).createRun(),
    requestContext: (entries) => new weftApi.RequestContext(entries),
    close: () => weft.close(),
  };
}

export async function openMastra(spec: WorkflowSpec): Promise<Engine> {
  const wf = buildWorkflow(mastraApi as unknown as WorkflowApi, spec);
  const mastra = new Mastra({ workflows: { [spec.id]: wf }, logger: false });
  return {
    createRun: () => (mastra.getWorkflow(spec.id) as any).createRun(),
    requestContext: (entries) => new MastraRequestContext(entries as never),
    close: async () => {
      await mastra.shutdown().catch(() => undefined);
    },
  };
}

const INPUT = (seed: number) => ({ n: seed % 97 });

async function readAll(stream: ReadableStream<unknown>): Promise<any[]> {
  const out: any[] = [];
  for await (const e of stream as unknown as AsyncIterable<unknown>) out.push(e);
  return out;
}

/**
 * The arguments of the next resume: the first suspended step, resumed with a number; every other
 * resume of a run with one suspended step names none (the engine finds it).
 */
function nextResume(result: any, i: number): { step?: string[]; resumeData: { add: number } } | undefined {
  if (result.status !== 'suspended' || !Array.isArray(result.suspended) || result.suspended.length === 0)
    return undefined;
  if (result.suspended.length === 1 && i % 2 === 1) return { resumeData: { add: i + 1 } };
  return { step: result.suspended[0], resumeData: { add: i + 1 } };
}

/** Runs the workflow to its end (or MAX_RESUMES resumes) and says what each call showed. */
export async function observe(engine: Engine, spec: WorkflowSpec, seed: number, mode: Mode): Promise<Observation[]> {
  const bodies = { foreach: bodyIds(spec, 'foreach'), loop: bodyIds(spec, 'loop') };
  const normaliseResult = (r: unknown): unknown => normaliseOne(r, bodies);
  const run = await engine.createRun();
  const observations: Observation[] = [];
  const startArgs = {
    inputData: INPUT(seed),
    initialState: { count: 0 },
    requestContext: engine.requestContext([['tenant', `t${seed % 5}`]]),
    outputOptions: { includeState: true },
  };
  let result: any;
  if (mode === 'start') {
    result = await run.start(startArgs);
    observations.push({ call: 'start', result: normaliseResult(result) });
  } else {
    const out = run.stream(startArgs);
    const events = await readAll(out.fullStream);
    result = await out.result;
    observations.push({ call: 'stream', result: normaliseResult(result), events: normaliseEvents(events) });
  }
  for (let i = 0; i < MAX_RESUMES; i++) {
    const args = nextResume(result, i);
    if (!args) break;
    const resumeArgs = { ...args, outputOptions: { includeState: true } };
    const call = `resume ${args.step?.join('.') ?? '(the suspended step)'}`;
    try {
      if (mode === 'start') {
        result = await run.resume(resumeArgs);
        observations.push({ call, result: normaliseResult(result) });
      } else {
        const out = run.resumeStream(resumeArgs);
        const events = await readAll(out.fullStream);
        result = await out.result;
        observations.push({ call, result: normaliseResult(result), events: normaliseEvents(events) });
      }
    } catch (error) {
      observations.push({ call, result: { thrown: (error as Error).message } });
      break;
    }
  }
  return observations;
}
