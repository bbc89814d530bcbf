// createWorkflow: the builder (.then, .parallel, .branch, loops, .foreach, .map, sleeps), commit, and run access.
import { WeftError } from '../errors.js';
import { isSchema } from '../schema/validate.js';
import { checkId } from './create-step.js';
import type { CompiledGraph, CompiledStep, GraphNode, SerializedNode, SleepDate, SleepDuration } from './graph.js';
import { serializeGraph } from './graph.js';
import { defaultHost, type WorkflowHost } from './host.js';
import { createMapStep, type MapConfig } from './map-step.js';
import type {
  AnySchema,
  ConditionFn,
  ExecuteContext,
  Infer,
  InferInput,
  Step,
  WORKFLOW_INPUT,
  WorkflowOptions,
} from './types.js';
import type { Run, RunListFilter, RunListPage, WorkflowRunView } from './run-types.js';
import { declareSchedules, type DeclaredSchedule, type WorkflowScheduleInput } from '../schedule/declaration.js';

/** The parameters of `createWorkflow`. */
export interface WorkflowParams<TId extends string, TIn extends AnySchema, TOut extends AnySchema> {
  id: TId;
  description?: string;
  inputSchema: TIn;
  outputSchema: TOut;
  stateSchema?: AnySchema;
  requestContextSchema?: AnySchema;
  retryConfig?: { attempts?: number; delay?: number };
  options?: WorkflowOptions;
  metadata?: Record<string, unknown>;
  /** Steps the workflow uses (accepted for compatibility; the graph is what `.then` and friends build). */
  steps?: readonly unknown[];
  /**
   * Cron schedules that start runs of this workflow once it is registered with a `Weft` (see
   * `WorkflowScheduleConfig`): one, or an array whose entries each have a unique `id`. Validated
   * now, inputs included.
   */
  schedule?: WorkflowScheduleInput<NoInfer<InferInput<TIn>>>;
}

type AnyStep = Step | Workflow<any, any, any>;

interface Definition {
  params: WorkflowParams<string, AnySchema, AnySchema>;
  nodes: GraphNode[];
  graph: CompiledGraph | undefined;
  sleepCount: number;
  host: WorkflowHost<Workflow> | undefined;
  schedules: DeclaredSchedule[];
}

const WORKFLOW_BRAND = Symbol.for('weft.workflow');

/** True for a Workflow object (from any copy of the package). */
export function isWorkflow(value: unknown): value is Workflow {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[WORKFLOW_BRAND] === true;
}

/** The steps a graph node runs (none for a sleep). */
function stepsOf(node: GraphNode): readonly CompiledStep[] {
  if (node.type === 'parallel' || node.type === 'conditional') return node.steps;
  if (node.type === 'sleep' || node.type === 'sleepUntil') return [];
  return [node.step];
}

function isPromiseCallback(args: unknown[]): boolean {
  // `await wf` calls wf.then(resolve, reject): two functions, neither a step.
  return typeof args[0] === 'function' && !isWorkflow(args[0]) && (args.length < 2 || typeof args[1] === 'function');
}

/**
 * A workflow: a typed graph of steps. Build it with the chainable methods, end with `.commit()`,
 * then `createRun()` to execute it. A committed workflow can be a step of another workflow.
 */
export class Workflow<TId extends string = string, TInput = any, TOutput = any> {
  declare readonly [WORKFLOW_BRAND]: true;
  /** The input type, for `InitData` (no such property exists at run time). */
  declare readonly [WORKFLOW_INPUT]: TInput;
  /** Builder state, shared by the views `await workflow` produces. */
  private readonly def: Definition;

  constructor(params: WorkflowParams<TId, AnySchema, AnySchema>) {
    Object.defineProperty(this, WORKFLOW_BRAND, { value: true });
    const schedules = declareSchedules(params.id, params.schedule, params);
    this.def = { params, nodes: [], graph: undefined, sleepCount: 0, host: undefined, schedules };
  }

  get id(): TId {
    return this.def.params.id as TId;
  }
  get description(): string | undefined {
    return this.def.params.description;
  }
  get inputSchema(): AnySchema {
    return this.def.params.inputSchema;
  }
  get outputSchema(): AnySchema {
    return this.def.params.outputSchema;
  }
  get stateSchema(): AnySchema | undefined {
    return this.def.params.stateSchema;
  }
  get requestContextSchema(): AnySchema | undefined {
    return this.def.params.requestContextSchema;
  }
  get options(): WorkflowOptions {
    return this.def.params.options ?? {};
  }
  get metadata(): Record<string, unknown> | undefined {
    return this.def.params.metadata;
  }
  get retryConfig(): { attempts: number; delay: number } {
    const config = this.def.params.retryConfig;
    return { attempts: config?.attempts ?? 0, delay: config?.delay ?? 0 };
  }
  /** The steps, map steps and nested workflows added so far, by id (sleeps have no step object). */
  get steps(): Record<string, Step | Workflow> {
    const steps: Record<string, Step | Workflow> = {};
    for (const step of this.def.nodes.flatMap(stepsOf)) steps[step.id] = step.step as Step | Workflow;
    return steps;
  }
  /** The schedules the workflow declares, validated (`schedule` of createWorkflow). */
  get schedules(): readonly DeclaredSchedule[] {
    return this.def.schedules;
  }
  get committed(): boolean {
    return this.def.graph !== undefined && this.def.graph.nodes.length === this.def.nodes.length;
  }
  /** The JSON form of the graph (node types, ids, condition sources). */
  get serializedStepGraph(): SerializedNode[] {
    return serializeGraph(this.graph);
  }

  /**
   * Adds a step (or a committed workflow) to run after the previous one; its input is the
   * previous output. Also answers `await workflow`, which resolves to a view of the workflow
   * that is not itself awaitable, so awaiting a workflow never hangs.
   */
  then(step: AnyStep): this;
  then(onFulfilled: (value: any) => unknown, onRejected?: (reason: unknown) => unknown): void;
  then(...args: unknown[]): this | void {
    if (isPromiseCallback(args)) {
      const view = Object.create(this, { then: { value: undefined } });
      (args[0] as (value: unknown) => void)(view);
      return;
    }
    this.push({ type: 'step', step: this.compileStep(args[0], '.then()') });
    return this;
  }

  /**
   * Runs the steps at the same time; the next input is `{ [stepId]: output }`. With
   * `allowFailure`, a failed step gives `null` there instead of failing the run.
   */
  parallel(steps: readonly AnyStep[], options?: { id?: string; allowFailure?: boolean }): this {
    const compiled = this.compileList(steps, '.parallel()');
    this.push(
      options?.allowFailure
        ? { type: 'parallel', steps: compiled, allowFailure: true }
        : { type: 'parallel', steps: compiled },
    );
    return this;
  }

  /** Runs every step whose condition is true; the next input is `{ [stepId]: output }`. */
  branch(branches: readonly (readonly [ConditionFn, AnyStep])[]): this {
    if (!Array.isArray(branches) || branches.length === 0) {
      throw this.definitionError('.branch() expects a non-empty array of [condition, step] pairs');
    }
    const conditions = branches.map(([cond], i) => {
      const fn = typeof cond === 'function' ? cond : (cond as { predicate?: ConditionFn } | undefined)?.predicate;
      if (typeof fn !== 'function') throw this.definitionError(`.branch() entry ${i} has no condition function`);
      return fn;
    });
    this.push({
      type: 'conditional',
      steps: this.compileList(
        branches.map(([, s]) => s),
        '.branch()',
      ),
      conditions,
    });
    return this;
  }

  /** Runs the step, then again while the condition holds (it sees the step's output and `iterationCount`). */
  dowhile(step: AnyStep, condition: ConditionFn): this {
    return this.loop('dowhile', step, condition);
  }

  /** Runs the step, then again until the condition holds. */
  dountil(step: AnyStep, condition: ConditionFn): this {
    return this.loop('dountil', step, condition);
  }

  /** Runs the step once per item of the previous output (an array); output is the array of results in order. */
  foreach(step: AnyStep, options?: { concurrency?: number | ((ctx: any) => number | Promise<number>) }): this {
    const concurrency = options?.concurrency ?? 1;
    if (typeof concurrency === 'number' && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw this.definitionError(`.foreach() concurrency must be a whole number >= 1, got ${concurrency}`);
    }
    this.push({ type: 'foreach', step: this.compileStep(step, '.foreach()'), concurrency });
    return this;
  }

  /**
   * Adds a mapping step that builds the next input. An unnamed map gets the id `mapping_<workflowId>_<n>`,
   * where `n` counts the maps before it, named ones included, from 0 (skipping an id a step already has),
   * as the reference numbers them.
   */
  map(config: MapConfig, options?: { id?: string }): this {
    const id = options?.id !== undefined ? checkId(options.id, 'map step') : this.mapId();
    const step = createMapStep(id, config);
    this.push({ type: 'step', step: { id, kind: 'mapping', step, canSuspend: false } });
    return this;
  }

  /** Waits for `ms` (or what the function returns), durably; passes its input through. */
  sleep(duration: SleepDuration, options?: { id?: string }): this {
    if (typeof duration !== 'function' && (typeof duration !== 'number' || !(duration >= 0))) {
      throw this.definitionError(`.sleep() expects a duration in ms >= 0 or a function, got ${String(duration)}`);
    }
    this.push({ type: 'sleep', id: this.sleepId(options), duration });
    return this;
  }

  /** Waits until the date (or what the function returns), durably; passes its input through. */
  sleepUntil(date: SleepDate, options?: { id?: string }): this {
    if (typeof date !== 'function' && Number.isNaN(new Date(date as Date).getTime())) {
      throw this.definitionError(`.sleepUntil() expects a valid date or a function, got ${String(date)}`);
    }
    this.push({ type: 'sleepUntil', id: this.sleepId(options), date });
    return this;
  }

  /** Ends the definition: compiles the graph. Required before running or nesting the workflow. */
  commit(): Workflow<TId, TInput, TOutput> {
    const p = this.def.params;
    this.def.graph = Object.freeze({
      workflowId: p.id,
      nodes: Object.freeze([...this.def.nodes]),
      inputSchema: p.inputSchema,
      outputSchema: p.outputSchema,
      ...(p.stateSchema ? { stateSchema: p.stateSchema } : {}),
      ...(p.requestContextSchema ? { requestContextSchema: p.requestContextSchema } : {}),
      retryAttempts: p.retryConfig?.attempts ?? 0,
      retryDelay: p.retryConfig?.delay ?? 0,
      validateInputs: p.options?.validateInputs ?? true,
    });
    return this;
  }

  /** @internal The compiled graph; throws when the workflow is empty or has changes not yet committed. */
  get graph(): CompiledGraph {
    if (this.def.nodes.length === 0) {
      throw new WeftError(
        'WORKFLOW_EMPTY',
        `Execution flow of workflow is not defined. Add steps to the workflow via .then(), .branch(), etc. (workflow "${this.id}")`,
        { workflowId: this.id },
      );
    }
    if (!this.committed) {
      throw new WeftError(
        'WORKFLOW_NOT_COMMITTED',
        `Uncommitted step flow changes detected. Call .commit() to register the steps. (workflow "${this.id}")`,
        { workflowId: this.id },
      );
    }
    return this.def.graph!;
  }

  /** @internal Binds the workflow to an engine instance (done by `new Weft`). */
  bindHost(host: WorkflowHost<Workflow>): void {
    this.def.host = host;
  }

  /** The engine instance this workflow runs on: the one it was registered with, or a private in-memory one. */
  private host(): WorkflowHost<Workflow> {
    return (this.def.host ??= defaultHost(this));
  }

  /** Creates a run handle. With the id of a stored run, the handle operates that run (resume, cancel, ...). */
  createRun(options?: { runId?: string; resourceId?: string }): Promise<Run<TInput, TOutput>> {
    try {
      void this.graph; // refused for an empty or uncommitted workflow
    } catch (error) {
      return Promise.reject(error);
    }
    return this.host().createRun(this, options ?? {}) as Promise<Run<TInput, TOutput>>;
  }

  /** A stored run with its steps (nested steps under dotted ids), or null. */
  getWorkflowRunById(
    runId: string,
    options?: { withNestedWorkflows?: boolean; fields?: string[] },
  ): Promise<WorkflowRunView | null> {
    return this.host().getWorkflowRunById(this, runId, options ?? {});
  }

  /** Stored runs of this workflow, newest first. */
  listWorkflowRuns(filter?: RunListFilter): Promise<RunListPage> {
    return this.host().listWorkflowRuns(this, filter ?? {});
  }

  /** Deletes a stored run and its journal. */
  deleteWorkflowRunById(runId: string): Promise<void> {
    return this.host().deleteWorkflowRunById(this, runId);
  }

  /** Runs of this workflow that are running or waiting. */
  listActiveWorkflowRuns(): Promise<RunListPage> {
    return this.host().listWorkflowRuns(this, { status: ['running', 'waiting'] });
  }

  /**
   * Restarts every running or waiting run of this workflow, as `run.restart()` does (which asserts
   * that the process that ran it is gone), and resolves once they have stopped; a run that cannot be
   * restarted is logged and skipped. Crash recovery does this by itself for runs whose lease expired.
   */
  restartAllActiveWorkflowRuns(): Promise<void> {
    return this.host().restartActiveRuns(this);
  }

  // A nested workflow's own id doubles as its step id; it is executed by the engine, not through this.
  readonly execute = (_ctx: ExecuteContext): never => {
    throw new WeftError('INVALID_ARGUMENT', `Workflow "${this.id}" runs as a step only inside another workflow`);
  };

  private loop(loopType: 'dowhile' | 'dountil', step: AnyStep, condition: ConditionFn): this {
    if (typeof condition !== 'function') throw this.definitionError(`.${loopType}() expects a condition function`);
    this.push({ type: 'loop', loopType, step: this.compileStep(step, `.${loopType}()`), condition });
    return this;
  }

  private mapId(): string {
    const taken = new Set<string>();
    let maps = 0;
    for (const node of this.def.nodes) {
      if (node.type === 'sleep' || node.type === 'sleepUntil') taken.add(node.id);
      else if ('steps' in node) for (const s of node.steps) taken.add(s.id);
      else {
        taken.add(node.step.id);
        if (node.step.kind === 'mapping') maps++;
      }
    }
    while (taken.has(`mapping_${this.id}_${maps}`)) maps++;
    return `mapping_${this.id}_${maps}`;
  }

  private sleepId(options?: { id?: string }): string {
    return options?.id !== undefined ? checkId(options.id, 'sleep step') : `sleep_${this.id}_${++this.def.sleepCount}`;
  }

  private push(node: GraphNode): void {
    this.def.nodes.push(node);
  }

  private compileList(steps: readonly AnyStep[], where: string): CompiledStep[] {
    if (!Array.isArray(steps) || steps.length === 0)
      throw this.definitionError(`${where} expects a non-empty array of steps`);
    return steps.map((s) => this.compileStep(s, where));
  }

  private compileStep(value: unknown, where: string): CompiledStep {
    if (isWorkflow(value)) {
      const graph = value.graph; // throws for an empty or uncommitted nested workflow
      return { id: value.id, kind: 'workflow', step: value as unknown as Step, graph, canSuspend: true };
    }
    const step = value as Step | undefined;
    if (!step || typeof step !== 'object' || typeof step.execute !== 'function' || typeof step.id !== 'string') {
      throw this.definitionError(`${where} expects a step made with createStep or a committed workflow`);
    }
    if (!isSchema(step.inputSchema)) throw this.definitionError(`step "${step.id}" has no Standard Schema inputSchema`);
    return {
      id: step.id,
      kind: 'step',
      step,
      canSuspend: step.resumeSchema !== undefined || step.suspendSchema !== undefined,
    };
  }

  private definitionError(message: string): WeftError {
    return new WeftError('INVALID_DEFINITION', `Workflow "${this.id}": ${message}`, { workflowId: this.id });
  }
}

/**
 * Defines a workflow. Chain steps onto it and call `.commit()`.
 *
 * @example
 * const wf = createWorkflow({ id: 'order', inputSchema, outputSchema }).then(validate).then(charge).commit();
 * const run = await wf.createRun();
 * const result = await run.start({ inputData: { orderId: 'o1' } });
 */
export function createWorkflow<TId extends string, TIn extends AnySchema, TOut extends AnySchema>(
  params: WorkflowParams<TId, TIn, TOut>,
): Workflow<TId, InferInput<TIn>, Infer<TOut>> {
  if (typeof params !== 'object' || params === null) {
    throw new WeftError('INVALID_DEFINITION', 'createWorkflow expects an object with id, inputSchema and outputSchema');
  }
  checkId(params.id, 'workflow');
  for (const field of ['inputSchema', 'outputSchema'] as const) {
    if (!isSchema(params[field])) {
      throw new WeftError('INVALID_DEFINITION', `Workflow "${params.id}": ${field} must be a Standard Schema`, {
        workflowId: params.id,
      });
    }
  }
  const attempts = params.retryConfig?.attempts;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 0)) {
    throw new WeftError(
      'INVALID_DEFINITION',
      `Workflow "${params.id}": retryConfig.attempts must be a whole number >= 0`,
    );
  }
  return new Workflow(params);
}

/** A copy of a workflow under a new id, with the same graph. */
export function cloneWorkflow<W extends Workflow<any, any, any>>(workflow: W, options: { id: string }): W {
  const id = checkId(options?.id, 'workflow');
  const copy = new Workflow({ ...(workflow as any).def.params, id });
  const def = (copy as any).def as Definition;
  def.nodes.push(...((workflow as any).def as Definition).nodes);
  if (workflow.committed) copy.commit();
  return copy as unknown as W;
}
