// Seeded random workflows for the differential suite: a spec generated from a seed, and one builder
// that makes the same workflow with any engine's createWorkflow/createStep (Weft's or Mastra's).
import { z } from 'zod';

/** A small seeded generator (mulberry32): the same seed gives the same workflow everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a step does besides computing its output. */
export type StepAction = 'plain' | 'state' | 'suspend' | 'bail' | 'fail' | 'retry';

export interface StepSpec {
  kind: 'step';
  id: string;
  action: StepAction;
  /** Input schema `{ n: number }` (strips other keys) rather than `any`. */
  strict: boolean;
  /** Bail or fail when the input's number is divisible by this. */
  every: number;
  /** Runs alongside siblings (parallel, branch, foreach > 1): reads no state it writes. */
  concurrent: boolean;
  /** Calls `writer.write` (a `workflow-step-output` event). */
  writes: boolean;
  /** Reads the output of this earlier step with `getStepResult`. */
  reads?: string;
  /** Reads the request context, or (not where siblings run alongside) sets a value in it. */
  context?: 'read' | 'write';
  /** Has a `stateSchema` that knows only `count`: its updates are parsed by it (other keys stripped). */
  stateSchema?: boolean;
}

export interface WorkflowSpec {
  kind: 'workflow';
  id: string;
  /** `retryConfig.attempts` of the workflow (steps without `retries` of their own retry so often). */
  attempts?: number;
  nodes: NodeSpec[];
}

export type Unit = StepSpec | WorkflowSpec;

export type NodeSpec =
  | { type: 'then'; unit: Unit }
  | { type: 'parallel'; units: Unit[] }
  | { type: 'branch'; arms: { mod: number; rem: number; unit: Unit; withState: boolean }[] }
  /** Goes on for `iterations` at most; with `byValue`, stops early when the output's number is a multiple of 7. */
  | { type: 'loop'; loopType: 'dowhile' | 'dountil'; unit: Unit; iterations: number; byValue: boolean }
  | { type: 'foreach'; unit: Unit; concurrency: number; items: number; mapId?: string }
  /** With `from`, a config map (`{ step, path }` and `{ value, schema }` entries) reading that earlier step. */
  | { type: 'map'; id?: string; from?: string }
  /** With `computed`, the duration comes from a function of the input. */
  | { type: 'sleep'; id: string; ms: number; computed: boolean };

type Shape = 'n' | 'other' | 'array';

/** Generates the spec of one random workflow (ids unique within it, nested ones included). */
export function randomWorkflowSpec(seed: number): WorkflowSpec {
  const rand = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let counter = 0;
  const nextId = (prefix: string): string => `${prefix}${++counter}`;

  // Ids a step may read with getStepResult: steps of its own workflow level that ran before it as a
  // sequence step or a block branch. A nested workflow does not see its parent's steps in the reference
  // (Weft's getStepResult also reaches them), and a loop or foreach body's record changes per iteration.
  const readable: string[][] = [];
  const step = (shape: Shape, concurrent: boolean, allowSuspend: boolean): StepSpec => {
    const actions: StepAction[] = ['plain', 'plain', 'state', 'state', 'bail', 'fail', 'retry'];
    if (allowSuspend) actions.push('suspend', 'suspend');
    const spec: StepSpec = {
      kind: 'step',
      id: nextId('s'),
      action: pick(actions),
      // Now and then where the input has no number: the input validation error is compared too.
      strict: shape === 'n' ? rand() < 0.4 : rand() < 0.05,
      every: int(2, 5),
      concurrent,
      writes: rand() < 0.2,
    };
    if (spec.action === 'state' && rand() < 0.25) spec.stateSchema = true;
    const roll = rand();
    if (roll < 0.15) spec.context = 'read';
    else if (roll < 0.25 && !concurrent) spec.context = 'write';
    const level = readable[readable.length - 1]!;
    if (level.length > 0 && rand() < 0.25) spec.reads = pick(level);
    return spec;
  };

  // Suspensions in concurrent units inside a nested workflow are left out: the reference then reports
  // whichever leaf its bookkeeping kept (one path of several), which no program can rely on.
  const unit = (shape: Shape, concurrent: boolean, depth: number, allowSuspend = true): Unit =>
    depth < 2 && rand() < 0.18
      ? workflow(shape, concurrent, depth + 1)
      : step(shape, concurrent, allowSuspend && !(concurrent && depth > 0));

  /**
   * A block whose branches both suspend and bail is left out: after the resume the reference stays
   * `suspended` with nothing suspended (its bug); the bail becomes a plain step there.
   */
  const block = (units: Unit[]): Unit[] => {
    if (!units.some((u) => u.kind === 'step' && u.action === 'suspend')) return units;
    for (const u of units) if (u.kind === 'step' && u.action === 'bail') u.action = 'plain';
    return units;
  };

  const workflow = (shape: Shape, concurrent: boolean, depth: number): WorkflowSpec => {
    const id = depth === 0 ? `wf${seed}` : nextId('w');
    const nodes: NodeSpec[] = [];
    const count = depth === 0 ? int(2, 6) : int(1, 3);
    const level: string[] = [];
    readable.push(level);
    const canRead = (units: Unit[]): void => {
      for (const u of units) if (u.kind === 'step') level.push(u.id);
    };
    let current = shape;
    for (let i = 0; i < count; i++) {
      const kind = pick(['then', 'then', 'then', 'parallel', 'branch', 'loop', 'foreach', 'map', 'sleep'] as const);
      switch (kind) {
        case 'then': {
          const u = unit(current, concurrent, depth);
          nodes.push({ type: 'then', unit: u });
          canRead([u]);
          current = u.kind === 'step' ? 'n' : 'other';
          break;
        }
        case 'parallel': {
          const units = block(Array.from({ length: int(2, 3) }, () => unit(current, true, depth)));
          nodes.push({ type: 'parallel', units });
          canRead(units);
          current = 'other';
          break;
        }
        case 'branch': {
          const arms = Array.from({ length: int(1, 3) }, () => {
            const mod = int(2, 3);
            return {
              mod,
              rem: int(0, mod - 1),
              unit: unit(current, true, depth),
              withState: !concurrent && rand() < 0.3,
            };
          });
          block(arms.map((a) => a.unit));
          canRead(arms.map((a) => a.unit));
          nodes.push({ type: 'branch', arms });
          current = 'other';
          break;
        }
        case 'loop': {
          const u = unit('n', concurrent, depth);
          const loopType = pick(['dowhile', 'dountil'] as const);
          // The body's first input is the node before; later ones its own output.
          nodes.push({ type: 'loop', loopType, unit: u, iterations: int(1, 3), byValue: rand() < 0.3 });
          current = u.kind === 'step' ? 'n' : 'other';
          break;
        }
        case 'foreach': {
          const concurrency = int(1, 3);
          const mapId = rand() < 0.3 ? nextId('m') : undefined;
          nodes.push({
            type: 'foreach',
            unit: unit('n', concurrent || concurrency > 1, depth),
            concurrency,
            items: int(0, 4),
            ...(mapId ? { mapId } : {}),
          });
          current = 'array';
          break;
        }
        case 'map': {
          const node: NodeSpec = rand() < 0.4 ? { type: 'map', id: nextId('m') } : { type: 'map' };
          if (level.length > 0 && rand() < 0.4) node.from = pick(level);
          nodes.push(node);
          current = 'n';
          break;
        }
        case 'sleep':
          // Not where siblings run alongside: a timer there decides which of them a failure stops first.
          if (!concurrent) nodes.push({ type: 'sleep', id: nextId('z'), ms: int(0, 3), computed: rand() < 0.3 });
          break;
      }
    }
    if (nodes.length === 0) nodes.push({ type: 'then', unit: step(current, concurrent, false) });
    readable.pop();
    return rand() < 0.2 ? { kind: 'workflow', id, nodes, attempts: 1 } : { kind: 'workflow', id, nodes };
  };

  const root = workflow('n', false, 0);
  // The reference ignores a workflow's retryConfig in a resume (steps and nested workflows are not tried
  // again there, though they are on a start); Weft retries alike in every execution. No retryConfig in
  // workflows that can suspend, then.
  if (hasSuspend(root)) clearAttempts(root);
  return root;
}

function units(spec: WorkflowSpec): Unit[] {
  return spec.nodes.flatMap((node): Unit[] => {
    if (node.type === 'parallel') return node.units;
    if (node.type === 'branch') return node.arms.map((a) => a.unit);
    if (node.type === 'then' || node.type === 'loop' || node.type === 'foreach') return [node.unit];
    return [];
  });
}

function hasSuspend(spec: WorkflowSpec): boolean {
  return units(spec).some((u) => (u.kind === 'step' ? u.action === 'suspend' : hasSuspend(u)));
}

function clearAttempts(spec: WorkflowSpec): void {
  delete spec.attempts;
  for (const u of units(spec)) if (u.kind === 'workflow') clearAttempts(u);
}

/** The ids of the units that are bodies of `type` nodes (foreach or loop) in a spec, nested ones included. */
export function bodyIds(spec: WorkflowSpec, type: 'foreach' | 'loop', into = new Set<string>()): Set<string> {
  const visit = (u: Unit): void => {
    if (u.kind === 'workflow') bodyIds(u, type, into);
  };
  for (const node of spec.nodes) {
    if (node.type === type) into.add(node.unit.id);
    if (node.type === 'then' || node.type === 'loop' || node.type === 'foreach') visit(node.unit);
    if (node.type === 'parallel') node.units.forEach(visit);
    if (node.type === 'branch') node.arms.forEach((a) => visit(a.unit));
  }
  return into;
}

/** The number a value carries: the sum of its numbers, deep, modulo 1000. */
export function num(value: unknown): number {
  if (typeof value === 'number') return Math.abs(Math.trunc(value)) % 1000;
  if (Array.isArray(value)) return value.reduce<number>((s, v) => (s + num(v)) % 1000, 0);
  if (value && typeof value === 'object') {
    let s = 0;
    for (const k of Object.keys(value).sort()) s = (s + num((value as Record<string, unknown>)[k])) % 1000;
    return s;
  }
  return 0;
}

function idHash(id: string): number {
  let h = 7;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 1000;
  return h;
}

/** The part of an engine's API the builder uses: the same calls on Weft and on Mastra. */
export interface WorkflowApi {
  createWorkflow: (params: any) => any;
  createStep: (params: any) => any;
}

const NUM = z.object({ n: z.number() });
const RESUME = z.object({ add: z.number() });
const STATE = z.object({ count: z.number().optional() });

function describeKeys(input: unknown): string {
  if (Array.isArray(input)) return `[${input.length}]`;
  // Keys with a value only: an absent key and an undefined one read back the same from storage.
  if (input && typeof input === 'object')
    return Object.keys(input)
      .filter((k) => (input as Record<string, unknown>)[k] !== undefined)
      .sort()
      .join(',');
  return typeof input;
}

function buildStep(api: WorkflowApi, spec: StepSpec): unknown {
  const { id, action, every, concurrent } = spec;
  return api.createStep({
    id,
    inputSchema: spec.strict ? NUM : z.any(),
    outputSchema: z.any(),
    ...(action === 'suspend' ? { resumeSchema: RESUME, suspendSchema: z.any() } : {}),
    ...(action === 'retry' ? { retries: 1 } : {}),
    ...(spec.stateSchema ? { stateSchema: STATE } : {}),
    execute: async (ctx: any) => {
      const { inputData, state } = ctx;
      const seen = concurrent ? 0 : Number(state?.count ?? 0);
      const base = num(inputData);
      const n = (base * 7 + idHash(id) + seen) % 1000;
      const out: Record<string, unknown> = { n, by: id, keys: describeKeys(inputData) };
      if (spec.reads) out.read = ctx.getStepResult(spec.reads) ?? null;
      if (spec.writes) await ctx.writer.write({ from: id, n });
      if (spec.context === 'read')
        out.context = [ctx.requestContext.get('tenant'), ctx.requestContext.get('last') ?? null];
      if (spec.context === 'write') ctx.requestContext.set('last', id);
      switch (action) {
        case 'state':
          // Concurrent steps write keys of their own (one per input: a foreach body runs once per item).
          await ctx.setState(concurrent ? { [`k_${id}_${base}`]: n } : { [`k_${id}`]: n, count: seen + 1 });
          return out;
        case 'suspend':
          if (!ctx.resumeData) {
            await ctx.suspend({ at: id, n: base });
            return undefined;
          }
          return { ...out, n: (n + ctx.resumeData.add) % 1000, resumed: true };
        case 'bail':
          if (base % every === 0) return ctx.bail({ ...out, bailed: true });
          return out;
        case 'fail':
          // The message names the step, not the item: which of two items failing together is reported
          // depends on which ends first.
          if (base % every === 1) throw new Error(`boom in ${id}`);
          return out;
        case 'retry':
          if (ctx.retryCount === 0) throw new Error(`flaky ${id}`);
          return { ...out, retried: ctx.retryCount };
        default:
          return out;
      }
    },
  });
}

function buildUnit(api: WorkflowApi, unit: Unit, built?: Map<string, unknown>): unknown {
  const made = unit.kind === 'step' ? buildStep(api, unit) : buildWorkflow(api, unit);
  built?.set(unit.id, made);
  return made;
}

/** Builds the workflow of `spec` with `api`, committed. */
export function buildWorkflow(api: WorkflowApi, spec: WorkflowSpec): any {
  let wf = api.createWorkflow({
    id: spec.id,
    inputSchema: z.any(),
    outputSchema: z.any(),
    ...(spec.attempts === undefined ? {} : { retryConfig: { attempts: spec.attempts } }),
  });
  const built = new Map<string, unknown>();
  for (const node of spec.nodes) {
    switch (node.type) {
      case 'then':
        wf = wf.then(buildUnit(api, node.unit, built));
        break;
      case 'parallel':
        wf = wf.parallel(node.units.map((u) => buildUnit(api, u, built)));
        break;
      case 'branch':
        wf = wf.branch(
          node.arms.map((arm) => [
            async ({ inputData, state }: { inputData: unknown; state: any }) =>
              (num(inputData) + (arm.withState ? Number(state?.count ?? 0) : 0)) % arm.mod === arm.rem,
            buildUnit(api, arm.unit, built),
          ]),
        );
        break;
      case 'loop': {
        const { iterations, byValue } = node;
        const body = buildUnit(api, node.unit);
        const done = ({ iterationCount, inputData }: { iterationCount: number; inputData: unknown }): boolean =>
          iterationCount >= iterations || (byValue && num(inputData) % 7 === 0);
        wf =
          node.loopType === 'dowhile'
            ? wf.dowhile(body, async (ctx: { iterationCount: number; inputData: unknown }) => !done(ctx))
            : wf.dountil(body, async (ctx: { iterationCount: number; inputData: unknown }) => done(ctx));
        break;
      }
      case 'foreach': {
        const { items } = node;
        const toItems = async ({ inputData }: { inputData: unknown }) =>
          Array.from({ length: items }, (_, i) => ({ n: (num(inputData) + i * 13) % 1000 }));
        wf = node.mapId ? wf.map(toItems, { id: node.mapId }) : wf.map(toItems);
        wf = wf.foreach(buildUnit(api, node.unit), { concurrency: node.concurrency });
        break;
      }
      case 'map': {
        const source = node.from === undefined ? undefined : built.get(node.from);
        const config = source
          ? {
              n: { step: source, path: 'n' },
              whole: { step: source, path: '.' },
              seven: { value: 7, schema: z.number() },
            }
          : async ({ inputData }: { inputData: unknown }) => ({ n: (num(inputData) + 1) % 1000 });
        wf = node.id ? wf.map(config, { id: node.id }) : wf.map(config);
        break;
      }
      case 'sleep':
        wf = node.computed
          ? wf.sleep(async ({ inputData }: { inputData: unknown }) => num(inputData) % 3, { id: node.id })
          : wf.sleep(node.ms, { id: node.id });
        break;
    }
  }
  return wf.commit();
}
