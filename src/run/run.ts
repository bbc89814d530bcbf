// The Run handle: start, resume, stream, cancel, restart and time travel of one run. Each verb makes a plan
// (`plans.ts`) and hands it to the pipeline (`pipeline.ts`), which claims, executes and records the run.
import { WeftError } from '../errors.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { observeRun } from '../events/observe.js';
import { createRunOutput } from '../events/run-output.js';
import { watchEvents, type WatchListener } from '../events/watch-events.js';
import { kindAtKey } from '../engine/graph-keys.js';
import type { RequestContext } from '../request-context.js';
import type { WorkflowResult } from '../workflow/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { cancelRun } from './cancel-run.js';
import { loadProjection } from './load-projection.js';
import { runPlan, type RunPlan } from './pipeline.js';
import { planResume, planStart, planTakeover, planTimeTravel } from './plans.js';
import { buildResult } from './result.js';
import type { RunServices } from './run-services.js';
import type {
  OutputOptions,
  ResumeArgs,
  Run,
  StartArgs,
  StreamArgs,
  TimeTravelArgs,
  WorkflowRunOutput,
} from '../workflow/run-types.js';

/**
 * The handle of one run of a workflow, bound to the engine instance that stores it.
 *
 * @example
 * const run = await order.createRun();
 * const result = await run.start({ inputData: { id: 7 } });
 */
export class RunHandle<TInput = any, TOutput = any> implements Run<TInput, TOutput> {
  private output: WorkflowRunOutput<TOutput> | undefined;

  /** @internal Made by the engine instance (`workflow.createRun()`). */
  constructor(
    private readonly services: RunServices,
    private readonly workflow: Workflow,
    readonly runId: string,
    readonly resourceId: string | undefined,
    /** @internal The insert of the run, when it was not waited for (see `writesInOrder`): its failure explains a refused claim. */
    created?: Promise<unknown>,
  ) {
    this.#created = created;
  }

  #created: Promise<unknown> | undefined;

  /** @internal The insert of the run, until a start has reported its failure. */
  get created(): Promise<unknown> | undefined {
    return this.#created;
  }

  get workflowId(): string {
    return this.workflow.id;
  }

  /** Runs `plan` through the pipeline for this handle; a null plan answers with the stored result. */
  private async perform<T>(
    plan: RunPlan | null,
    onClaimed: (() => void) | undefined,
    outputOptions?: OutputOptions,
  ): Promise<WorkflowResult<TInput, T>> {
    const result = plan
      ? await runPlan(this.services, this.workflow, this, plan, onClaimed)
      : buildResult(await loadProjection(this.services.storage, this.runId), this.runId, outputOptions);
    return result as WorkflowResult<TInput, T>;
  }

  /**
   * Starts the run and resolves with its result once it succeeds, fails, suspends, pauses or is canceled.
   * `onClaimed` (internal) is called once this call owns the run; streams relay events from then on.
   */
  async start(args: StartArgs<TInput> = {}, onClaimed?: () => void): Promise<WorkflowResult<TInput, TOutput>> {
    const plan = await planStart(this.services, this.workflow, this, args);
    try {
      return await this.perform(plan, onClaimed, args.outputOptions);
    } catch (error) {
      // Canceled before it started: the result says so, as a start after cancel does in the reference.
      if (WeftError.is(error, 'RUN_ALREADY_CLAIMED') && error.actualStatus === 'canceled')
        return this.perform(null, undefined, args.outputOptions);
      // The run's insert failed, and this start said so: the run was never stored, and a later start finds
      // no such run (RUN_NOT_FOUND) rather than repeat that failure.
      const created = this.#created;
      if (
        created &&
        (await created.then(
          () => false,
          () => true,
        ))
      )
        this.#created = undefined;
      throw error;
    }
  }

  /** Starts the run without waiting for it; resolves with its id at once (failures to start are logged). */
  async startAsync(args: StartArgs<TInput> = {}): Promise<{ runId: string }> {
    const started = this.start(args);
    started.catch((error: unknown) => this.services.logger.error(`weft: run "${this.runId}" failed to start`, error));
    return { runId: this.runId };
  }

  /** Starts the run and streams its events. Calling it again while the run is live returns the same output. */
  stream(args: StreamArgs<TInput> = {}): WorkflowRunOutput<TOutput> {
    if (this.output) return this.output;
    const output = createRunOutput<TOutput>(
      this.services.local,
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
    const plan = await planResume(this.services, this.workflow, this.runId, args);
    try {
      return await this.perform(plan, onClaimed);
    } catch (error) {
      // Planned from this process's copy of the run, which another process made stale (resumed, canceled,
      // deleted it...) before the claim: nothing was claimed or run, so plan again from storage. A copy
      // superseded here, or a run executing here, means a caller in this process won: this one lost, as
      // it would have without the copy.
      const copy = plan.fromCopy;
      if (
        copy &&
        !copy.superseded &&
        !this.services.local.execution(this.runId) &&
        (WeftError.is(error, 'RUN_ALREADY_CLAIMED') || WeftError.is(error, 'RUN_NOT_FOUND'))
      )
        return this.perform(await planResume(this.services, this.workflow, this.runId, args, true), onClaimed);
      throw error;
    }
  }

  async resumeAsync(args: ResumeArgs = {}): Promise<{ runId: string }> {
    const resumed = this.resume(args);
    resumed.catch((error: unknown) => this.services.logger.error(`weft: resume of run "${this.runId}" failed`, error));
    return { runId: this.runId };
  }

  resumeStream(args: ResumeArgs & { closeOnSuspend?: boolean } = {}): WorkflowRunOutput<TOutput> {
    return createRunOutput<TOutput>(
      this.services.local,
      this.runId,
      this.workflowId,
      (claimed) => this.resume(args, claimed),
      args.closeOnSuspend ?? true,
      () => this.storedResult(args.outputOptions),
    );
  }

  /** Cancels the run: running steps see their abortSignal fire, and the run is `canceled` at once. A finished run is left as it is. */
  async cancel(): Promise<void> {
    return cancelRun(this.services, this.runId);
  }

  /** Continues a run whose owner died while it was running or waiting; a finished run returns its stored result. */
  async restart(
    args: { requestContext?: RequestContext<any> | Record<string, unknown> } = {},
  ): Promise<WorkflowResult<TInput, TOutput>> {
    const plan = await planTakeover(this.services, this.workflow, this.runId, undefined, args.requestContext);
    return this.perform(plan, undefined);
  }

  /** @internal Recovery: continue a run whose lease expired, if its epoch is still the one seen. */
  async continueAfterCrash(epoch: number): Promise<WorkflowResult<TInput, TOutput>> {
    return this.perform(await planTakeover(this.services, this.workflow, this.runId, epoch, undefined), undefined);
  }

  /**
   * Runs again from a chosen step, with stored or supplied results before it; what it replaces stays readable as an earlier attempt.
   * `onClaimed` (internal) is called once this call owns the run; streams relay events from then on.
   */
  async timeTravel(args: TimeTravelArgs, onClaimed?: () => void): Promise<WorkflowResult<TInput, TOutput>> {
    return this.perform(await planTimeTravel(this.services, this.workflow, this.runId, args), onClaimed);
  }

  timeTravelStream(args: TimeTravelArgs & { closeOnSuspend?: boolean }): WorkflowRunOutput<TOutput> {
    return createRunOutput<TOutput>(
      this.services.local,
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
    const { services, runId } = this;
    const graph = this.workflow.graph;
    const watcher = watchEvents(
      listener,
      (error) => services.logger.error(`weft: a watcher of run "${runId}" failed`, error),
      { streamed: () => services.local.isStreamed(runId), kindAt: (key) => kindAtKey(graph, key) },
    );
    const unsubscribe = services.local.subscribe(runId, (event) => watcher.push(event));
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
    const { services } = this;
    const source = { storage: services.storage, init: () => services.init(), subscribe: services.local.subscribe };
    return observeRun(source, this.runId, options.fromSeq ?? 0);
  }

  /**
   * The run's result as storage holds it once the execution here (if any) has recorded its end: a stream
   * sees the run's last event before its end is stored (on Postgres, well before).
   */
  private async storedResult(outputOptions: OutputOptions | undefined): Promise<WorkflowResult<TInput, TOutput>> {
    const active = this.services.local.execution(this.runId);
    if (active) await active.finished;
    return this.perform(null, undefined, outputOptions);
  }
}
