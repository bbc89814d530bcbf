// The Run handle: start, resume, stream, cancel, restart and time travel of one run.
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import type { RunResumeData, RunStartData } from '../journal/entries.js';
import { RunProjection } from '../journal/projection.js';
import { notSerializable } from '../journal/serialize-error.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { createRunOutput } from '../events/run-output.js';
import { watchEvents, type WatchListener } from '../events/watch-events.js';
import { kindAtKey } from '../engine/graph-keys.js';
import { RequestContext } from '../request-context.js';
import { formatIssues, validate, type Issue, type ValidationResult } from '../schema/validate.js';
import { toJson } from '../journal/encoding.js';
import type { RunStatus, StoredRun } from '../storage/types.js';
import type { AnySchema, WorkflowResult } from '../workflow/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { claim, deferredClaim, execute, loadProjection, plainContext, type ExecuteOptions } from './lifecycle.js';
import { cancelRun } from './cancel-run.js';
import { resolveResumeTarget } from './resume-target.js';
import { buildResult } from './result.js';
import type {
  OutputOptions,
  ResumeArgs,
  Run,
  StartArgs,
  StreamArgs,
  TimeTravelArgs,
  WorkflowRunOutput,
} from '../workflow/run-types.js';
import { prepareTimeTravel } from './time-travel.js';
import type { Weft } from './weft.js';

/**
 * The validated value, through a promise only when the schema validates asynchronously (callers
 * await only a promise: an await costs a turn of the microtask queue); throws `fail(issues)` when invalid.
 */
function check(
  schema: AnySchema | undefined,
  value: unknown,
  fail: (issues: Issue[]) => WeftError,
): Valid | Promise<Valid> {
  if (!schema) return { ok: true, value };
  const r = validate(schema, value);
  return r instanceof Promise ? r.then((v) => valid(v, fail)) : valid(r, fail);
}

type Valid = { ok: true; value: unknown };

function valid(result: ValidationResult<unknown>, fail: (issues: Issue[]) => WeftError): Valid {
  if (!result.ok) throw fail(result.issues);
  return result;
}

function contextFrom(
  stored: Record<string, unknown>,
  given: RequestContext<any> | Record<string, unknown> | undefined,
): RequestContext<any> {
  const rc = given instanceof RequestContext ? given : new RequestContext(plainContext(given));
  for (const [k, v] of Object.entries(stored)) if (!rc.has(k)) rc.set(k, v);
  return rc;
}

/** How long a resume waits for a run still on its way to a suspension (here or in another process). */
const RESUME_WAIT_MS = 2000;
const RESUME_POLL_MS = 25;

/** The run's row once it is not pending, running or waiting, or the last one seen after a bounded wait. */
async function settledRow(weft: Weft, runId: string): Promise<StoredRun | null> {
  const deadline = Date.now() + RESUME_WAIT_MS;
  for (;;) {
    await weft.activeExecution(runId)?.finished;
    const row = await weft.storage.getRun(runId);
    if (!row || !['pending', 'running', 'waiting'].includes(row.status) || Date.now() >= deadline) return row;
    await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
  }
}

/** The JSON text of a caller's value, or VALUE_NOT_SERIALIZABLE naming it (thrown before anything is claimed). */
function storable(value: unknown, what: string, runId: string): string {
  try {
    return toJson(value);
  } catch (error) {
    throw notSerializable(`Cannot store the ${what} of run "${runId}" as JSON`, error, { runId });
  }
}

/** The handle of one run of a workflow, bound to the engine instance that stores it. */
export class RunHandle<TInput = any, TOutput = any> implements Run<TInput, TOutput> {
  private output: WorkflowRunOutput<TOutput> | undefined;

  constructor(
    private readonly weft: Weft,
    private readonly workflow: Workflow,
    readonly runId: string,
    readonly resourceId: string | undefined,
    /** The insert of the run, when it was not waited for (see `writesInOrder`): its failure explains a refused claim. */
    private readonly created?: Promise<unknown>,
  ) {}

  get workflowId(): string {
    return this.workflow.id;
  }

  /**
   * Starts the run and resolves with its result once it succeeds, fails, suspends, pauses or is canceled.
   * `onClaimed` (internal) is called once this call owns the run; streams relay events from then on.
   */
  async start(args: StartArgs<TInput> = {}, onClaimed?: () => void): Promise<WorkflowResult<TInput, TOutput>> {
    const { workflow, weft, runId } = this;
    const graph = workflow.graph;
    const wfId = workflow.id;
    const input = check(
      graph.inputSchema,
      args.inputData,
      (issues) =>
        new WeftError('INVALID_INPUT', `Invalid input data: ${formatIssues(issues)}`, {
          runId,
          workflowId: wfId,
          issues,
        }),
    );
    const inputData = (input instanceof Promise ? await input : input).value;
    const state = check(
      graph.stateSchema,
      args.initialState ?? {},
      (issues) =>
        new WeftError('INVALID_INITIAL_STATE', `Invalid initial data: ${formatIssues(issues)}`, {
          runId,
          workflowId: wfId,
          issues,
        }),
    );
    const initialState = (state instanceof Promise ? await state : state).value as Record<string, unknown>;
    const requestContext =
      args.requestContext instanceof RequestContext
        ? args.requestContext
        : new RequestContext(plainContext(args.requestContext));
    const contextSchema = graph.requestContextSchema;
    if (contextSchema) {
      const context = check(
        contextSchema,
        requestContext.toJSON(),
        (issues) =>
          new WeftError(
            'INVALID_REQUEST_CONTEXT',
            `Request context validation failed for workflow '${wfId}': ${formatIssues(issues)}`,
            { runId, workflowId: wfId, issues },
          ),
      );
      if (context instanceof Promise) await context;
    }
    const canceledResult = async (): Promise<WorkflowResult<TInput, TOutput>> =>
      buildResult(await loadProjection(weft, runId), runId, args.outputOptions) as WorkflowResult<TInput, TOutput>;
    if (workflow.options.onStart) {
      // onStart must not run for a run canceled before it started; without it, the claim tells.
      if ((await weft.storage.getRun(runId))?.status === 'canceled') return canceledResult();
      await workflow.options.onStart({
        status: 'running',
        runId,
        workflowId: wfId,
        resourceId: this.resourceId,
        steps: {},
        state: initialState,
        stepExecutionPath: [],
        requestContext,
        getInitData: () => inputData as any,
        logger: weft.logger,
        weft,
        mastra: weft,
      });
    }
    const startData: RunStartData = {
      input: inputData,
      state: initialState,
      requestContext: requestContext.toJSON(),
      resourceId: this.resourceId ?? null,
    };
    if (args.perStep) startData.perStep = true;
    try {
      return await this.claimAndExecute(
        ['pending'],
        'start',
        { input: storable(inputData ?? null, 'input', runId) },
        onClaimed,
        {
          projection: new RunProjection(),
          requestContext,
          perStep: args.perStep === true,
          outputOptions: args.outputOptions,
          first: ['run-start', startData],
        },
      );
    } catch (error) {
      // Canceled before it started: the result says so, as a start after cancel does in the reference.
      if (WeftError.is(error, 'RUN_ALREADY_CLAIMED') && error.actualStatus === 'canceled') return canceledResult();
      throw error;
    }
  }

  /** Starts the run without waiting for it; resolves with its id at once (failures to start are logged). */
  async startAsync(args: StartArgs<TInput> = {}): Promise<{ runId: string }> {
    const started = this.start(args);
    started.catch((error: unknown) => this.weft.logger.error(`weft: run "${this.runId}" failed to start`, error));
    return { runId: this.runId };
  }

  /** Starts the run and streams its events. Calling it again while the run is live returns the same output. */
  stream(args: StreamArgs<TInput> = {}): WorkflowRunOutput<TOutput> {
    if (this.output) return this.output;
    const output = createRunOutput<TOutput>(
      this.weft,
      this.runId,
      this.workflowId,
      (claimed) => this.start(args, claimed),
      args.closeOnSuspend ?? true,
      () => this.storedResult(args.outputOptions),
    );
    this.output = output;
    const release = (): void => {
      if (this.output === output) this.output = undefined;
    };
    output.result.then(release, release);
    return output;
  }

  /**
   * Resumes a suspended step with `resumeData`; with no `step` or `label`, the only suspended one.
   * `onClaimed` (internal) is called once this call owns the run; streams relay events from then on.
   */
  async resume(args: ResumeArgs = {}, onClaimed?: () => void): Promise<WorkflowResult<TInput, TOutput>> {
    const { weft, runId, workflow } = this;
    const row = await settledRow(weft, runId);
    if (!row) throw new WeftError('RUN_NOT_FOUND', `Cannot resume run "${runId}": no such run in storage`, { runId });
    if (row.status !== 'suspended') {
      throw new WeftError(
        'RUN_NOT_SUSPENDED',
        `Cannot resume run "${runId}": its status is "${row.status}", expected "suspended" (This workflow run was not suspended)`,
        { runId, workflowId: workflow.id, actualStatus: row.status },
      );
    }
    const projection = await loadProjection(weft, runId);
    const target = resolveResumeTarget(workflow, projection, runId, args);
    const resume = check(
      target.resumeSchema,
      args.resumeData,
      (issues) =>
        new WeftError('INVALID_RESUME_DATA', `Invalid resume data: ${formatIssues(issues)}`, {
          runId,
          stepId: target.stepId,
          issues,
        }),
    );
    const resumeData = (resume instanceof Promise ? await resume : resume).value;
    const requestContext = contextFrom(projection.requestContext, args.requestContext);
    const data: RunResumeData = { keys: target.keys, resumeData, requestContext: requestContext.toJSON() };
    if (args.label) data.label = args.label;
    if (args.perStep) data.perStep = true;
    return this.claimAndExecute(['suspended'], 'resume', { epoch: row.epoch }, onClaimed, {
      projection,
      requestContext,
      perStep: args.perStep === true,
      resumeKeys: target.keys,
      resumeData,
      resumeLabel: args.label || undefined,
      outputOptions: args.outputOptions,
      first: ['run-resume', data],
    });
  }

  async resumeAsync(args: ResumeArgs = {}): Promise<{ runId: string }> {
    const resumed = this.resume(args);
    resumed.catch((error: unknown) => this.weft.logger.error(`weft: resume of run "${this.runId}" failed`, error));
    return { runId: this.runId };
  }

  resumeStream(args: ResumeArgs & { closeOnSuspend?: boolean } = {}): WorkflowRunOutput<TOutput> {
    return createRunOutput<TOutput>(
      this.weft,
      this.runId,
      this.workflowId,
      (claimed) => this.resume(args, claimed),
      args.closeOnSuspend ?? true,
      () => this.storedResult(args.outputOptions),
    );
  }

  /** Cancels the run: running steps see their abortSignal fire, and the run is `canceled` at once. A finished run is left as it is. */
  async cancel(): Promise<void> {
    return cancelRun(this.weft, this.runId);
  }

  /** Continues a run whose owner died while it was running or waiting; a finished run returns its stored result. */
  async restart(
    args: { requestContext?: RequestContext<any> | Record<string, unknown> } = {},
  ): Promise<WorkflowResult<TInput, TOutput>> {
    return this.takeOver(undefined, args.requestContext);
  }

  /** @internal Recovery: continue a run whose lease expired, if its epoch is still the one seen. */
  continueAfterCrash(epoch: number): Promise<WorkflowResult<TInput, TOutput>> {
    return this.takeOver(epoch, undefined);
  }

  private async takeOver(
    epoch: number | undefined,
    rc: RequestContext<any> | Record<string, unknown> | undefined,
  ): Promise<WorkflowResult<TInput, TOutput>> {
    const { weft, runId, workflow } = this;
    // The run executes in this very process (e.g. automatic recovery took it first): its owner is
    // alive, so wait for it instead of taking over and running its current step a second time.
    const local = weft.activeExecution(runId);
    if (local) {
      await local.finished;
      return buildResult(await loadProjection(weft, runId), runId) as WorkflowResult<TInput, TOutput>;
    }
    const row = await weft.storage.getRun(runId);
    if (!row) throw new WeftError('RUN_NOT_FOUND', `Cannot restart run "${runId}": no such run in storage`, { runId });
    if (row.status === 'success' || row.status === 'failed') {
      return buildResult(await loadProjection(weft, runId), runId) as WorkflowResult<TInput, TOutput>;
    }
    if (row.status !== 'running' && row.status !== 'waiting') {
      throw new WeftError(
        'RUN_NOT_ACTIVE',
        `Cannot restart run "${runId}": its status is "${row.status}", expected "running" or "waiting" (This workflow run was not active)`,
        { runId, workflowId: workflow.id, actualStatus: row.status },
      );
    }
    const claimed = await claim(weft, runId, ['running', 'waiting'], 'restart', epoch === undefined ? {} : { epoch });
    // The previous owner can no longer append: the journal read now is complete.
    const projection = await loadProjection(weft, runId);
    const requestContext = contextFrom(projection.requestContext, rc);
    return this.execute({
      run: claimed,
      projection,
      requestContext,
      perStep: projection.perStep,
      resumeKeys: projection.resumeKeys,
      resumeData: projection.resumeData,
      ...(projection.resumeLabel ? { resumeLabel: projection.resumeLabel } : {}),
      first: ['run-restart', { requestContext: requestContext.toJSON() }],
    });
  }

  /**
   * Runs again from a chosen step, with stored or supplied results before it; what it replaces stays readable as an earlier attempt.
   * `onClaimed` (internal) is called once this call owns the run; streams relay events from then on.
   */
  async timeTravel(args: TimeTravelArgs, onClaimed?: () => void): Promise<WorkflowResult<TInput, TOutput>> {
    const { weft, runId, workflow } = this;
    const stillRunning = (status: RunStatus): WeftError =>
      new WeftError(
        'RUN_STILL_RUNNING',
        `Cannot time travel run "${runId}": its status is "${status}" (This workflow run is still running, cannot time travel)`,
        { runId, actualStatus: status },
      );
    // Refused at once, as in the reference: waiting for the execution here would deadlock a step that time-travels its own run.
    if (weft.activeExecution(runId)) throw stillRunning('running');
    const row = await weft.storage.getRun(runId);
    if (!row)
      throw new WeftError('RUN_NOT_FOUND', `Cannot time travel run "${runId}": no such run in storage`, { runId });
    if (row.status === 'running' || row.status === 'waiting') throw stillRunning(row.status);
    const projection = await loadProjection(weft, runId);
    const plan = await prepareTimeTravel(workflow, projection, runId, args);
    const requestContext = contextFrom(projection.requestContext, args.requestContext);
    return this.claimAndExecute([row.status], 'time travel', { epoch: row.epoch }, onClaimed, {
      projection,
      requestContext,
      perStep: args.perStep === true,
      resumeKeys: plan.resumeKeys,
      resumeData: args.resumeData,
      outputOptions: args.outputOptions,
      first: ['run-time-travel', { ...plan.data, requestContext: requestContext.toJSON() }],
    });
  }

  timeTravelStream(args: TimeTravelArgs & { closeOnSuspend?: boolean }): WorkflowRunOutput<TOutput> {
    return createRunOutput<TOutput>(
      this.weft,
      this.runId,
      this.workflowId,
      (claimed) => this.timeTravel(args, claimed),
      args.closeOnSuspend ?? true,
    );
  }

  /**
   * Calls `listener` with each step event of this run from now on, in this process, as Mastra's
   * `watch` does: no `workflow-start` or `workflow-finish`, a `workflow-step-finish` after each step
   * result, and the steps' writer events only while a stream relays the run. Returns the function
   * that stops it. (`stream()` and `observeStream()` give the stream's events.)
   */
  watch(listener: WatchListener): () => void {
    const { weft, runId } = this;
    const graph = this.workflow.graph;
    const watcher = watchEvents(
      listener,
      (error) => weft.logger.error(`weft: a watcher of run "${runId}" failed`, error),
      { streamed: () => weft.isStreamed(runId), kindAt: (key) => kindAtKey(graph, key) },
    );
    const unsubscribe = weft.subscribe(runId, (event) => watcher.push(event));
    return () => {
      watcher.stop();
      unsubscribe();
    };
  }

  /** Same as `watch`, resolving with the unwatch function (Mastra's asynchronous form). */
  async watchAsync(listener: WatchListener): Promise<() => void> {
    return this.watch(listener);
  }

  /** The output of this handle's `stream()` while its run is live, else undefined. */
  get streamOutput(): WorkflowRunOutput<TOutput> | undefined {
    return this.output;
  }

  /** The run's events: stored ones after `fromSeq`, then live ones until it stops. Works from any process. */
  observeStream(options: { fromSeq?: number } = {}): ReadableStream<WorkflowEvent> {
    return this.weft.observeRun(this.runId, { afterSeq: options.fromSeq ?? 0 });
  }

  /**
   * The run's result as storage holds it once the execution here (if any) has recorded its end: a stream
   * sees the run's last event before its end is stored (on Postgres, well before).
   */
  private async storedResult(outputOptions: OutputOptions | undefined): Promise<WorkflowResult<TInput, TOutput>> {
    const active = this.weft.activeExecution(this.runId);
    if (active) await active.finished;
    return buildResult(await loadProjection(this.weft, this.runId), this.runId, outputOptions) as WorkflowResult<
      TInput,
      TOutput
    >;
  }

  /**
   * Claims the run, lets a waiting stream relay events, and executes the run while this handle is
   * held. The claim is made by the execution's first write, before any user code runs; while
   * another execution of this run is under way here, it is made first, so that this one ends at once.
   */
  private async claimAndExecute(
    from: readonly RunStatus[],
    verb: string,
    condition: { epoch?: number; input?: string },
    onClaimed: (() => void) | undefined,
    /** A fresh object of the caller's, completed here (no copy: this runs for every start and resume). */
    options: Omit<ExecuteOptions, 'run'>,
  ): Promise<WorkflowResult<TInput, TOutput>> {
    const { weft, runId } = this;
    const opts = options as ExecuteOptions;
    // What this call records first must be storable before the run is claimed: otherwise it would fail an existing
    // run. A durable store needs that text anyway; a store that keeps values cannot fail on it.
    if (opts.first && !weft.storage.keepsValues) opts.firstText = storable(opts.first[1], 'data', runId);
    // Thousands of runs started at once would otherwise hold the event loop until all are claimed.
    const turn = eventLoopTurn();
    if (turn) await turn;
    // Checked after the turn, and nothing awaited until `execute` tracks this execution: of two calls,
    // the second always sees the first.
    if (weft.activeExecution(runId)) {
      await this.created;
      opts.run = await claim(weft, runId, from, verb, condition);
      onClaimed?.();
      return this.execute(opts);
    }
    opts.run = { runId, workflowId: this.workflow.id, resourceId: this.resourceId ?? null, epoch: 0 };
    opts.claim = deferredClaim(weft, runId, from, verb, condition, onClaimed, this.created);
    return this.execute(opts);
  }

  /** Executes the claimed run, keeping this handle as the one `createRun({ runId })` returns meanwhile. */
  private execute<T>(options: ExecuteOptions): Promise<WorkflowResult<TInput, T>> {
    options.release = this.weft.holdHandle(this as RunHandle);
    return execute(this.weft, this.workflow, options) as Promise<WorkflowResult<TInput, T>>;
  }
}
