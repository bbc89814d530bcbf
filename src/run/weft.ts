// The engine instance: registers workflows, owns storage, live listeners, leases and crash recovery.
import { randomUUID } from 'node:crypto';
import { checkRunId, newRunId } from './run-id.js';
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import { systemClock, type Clock } from '../engine/execution.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { observeRun } from '../events/observe.js';
import { FINISHED_STATUSES, type RunStatus, type StoredRun, type WeftStorage } from '../storage/types.js';
import {
  checkPruneStatuses,
  parseDuration,
  pruneInBatches,
  retentionRules,
  type Duration,
  type RetentionOptions,
  type RetentionRule,
} from './retention.js';
import { isWorkflow, type Workflow } from '../workflow/create-workflow.js';
import type { WorkflowHost } from '../workflow/host.js';
import type { Logger } from '../workflow/types.js';
import { cancelRun } from './cancel-run.js';
import { defaultStorage } from './default-storage.js';
import { loadProjection } from './load-projection.js';
import { LocalRuns } from './local-runs.js';
import { SuspendedRuns } from './suspended-runs.js';
import { recoverExpiredRuns } from './recovery.js';
import { buildView } from './result.js';
import { RunHandle } from './run.js';
import { scheduleOf } from '../schedule/declaration.js';
import { Schedules } from '../schedule/schedules.js';
import type { SchedulerOptions } from '../schedule/scheduler.js';
import type { RunServices } from './run-services.js';
import { storeRun } from './store-run.js';
import type { RunListFilter, RunListPage, WorkflowRunView } from '../workflow/run-types.js';

/** Any workflow, whatever its id, input and output types. */
type AnyWorkflow = Workflow<any, any, any>;

/** The registered workflows by their own ids (a workflow may be registered under another key). */
type WorkflowsById<TWorkflows extends Record<string, AnyWorkflow>> = {
  [K in keyof TWorkflows as TWorkflows[K] extends Workflow<infer TId, any, any> ? TId : never]: TWorkflows[K];
};

/** Options of `new Weft`. */
export interface WeftOptions<TWorkflows extends Record<string, AnyWorkflow> = Record<string, AnyWorkflow>> {
  /** The workflows to register, by key; `getWorkflow(key)` returns each with its input and output types. */
  workflows?: TWorkflows;
  /**
   * Where runs live. Default: the SQLite file of `WEFT_DB`, else `.weft/weft.db` in the current
   * directory (as for `weft serve` and the CLI), opened on first use. `new MemoryStorage()` keeps
   * runs in this process only; `PostgresStorage` from 'weft/postgres' shares them between machines.
   */
  storage?: WeftStorage;
  logger?: Logger;
  /** Time source; inject one to test long sleeps without waiting. */
  clock?: Clock;
  /**
   * How long a lease on a running run lasts without renewal (default 30 s): after a crash, another
   * instance continues the run this long after the last renewal. Shorter recovers sooner, but an
   * instance that stalls longer than this (a blocked event loop, a network partition) loses its
   * runs to another, which runs the steps in flight again. At least 100 ms.
   */
  leaseMs?: number;
  /** Recover runs whose owner died (default true). */
  recovery?: boolean;
  /** How often to look for runs to recover (default: the lease length / 2). */
  recoveryIntervalMs?: number;
  /**
   * How often to renew the leases of the runs executing here and check they are still ours
   * (default 1 s, at most a third of the lease). A run canceled or taken over by another
   * process stops here within this time.
   */
  ownershipCheckMs?: number;
  /** Most `writer.write`/`custom` events stored per run; later ones are streamed live only (default 10,000). */
  maxOutputEntries?: number;
  /**
   * How long finished runs are kept: e.g. `{ successAfter: '7d', failedAfter: '30d' }`. Older ones are
   * deleted with their journals at `init()` and then every `intervalMs` (default 1 hour), in batches.
   * Active, suspended, paused and pending runs are never deleted. Default: kept forever.
   */
  retention?: RetentionOptions;
  /**
   * The scheduler of the workflows' `schedule`s: `{ tickIntervalMs }` (default 10 s), or `false` for an
   * instance that must not fire them (a one-shot command). It runs once a registered workflow declares a schedule.
   */
  scheduler?: SchedulerOptions | false;
}

const quietLogger: Logger = { debug() {}, info() {}, warn: console.warn, error: console.error };

/** The services each instance hands its runs; kept out of the instance's own (published) members. */
const servicesOf = new WeakMap<Weft<any>, RunServices>();

/** The run services of an engine instance: for the modules of this package that drive runs (the worker). */
export function runServicesOf(weft: Weft<any>): RunServices {
  return servicesOf.get(weft)!;
}

/**
 * The handle of a stored run its caller has just read (`row`), made without a statement: for a worker,
 * whose job reads the run before executing it (`createRun({ runId })` would store it, or read it, again).
 */
export function storedRunHandle(weft: Weft<any>, workflow: Workflow, row: StoredRun): RunHandle {
  const services = runServicesOf(weft);
  const cached = services.local.handle(row.runId) as RunHandle | undefined;
  if (cached && cached.workflowId === workflow.id) return cached;
  return new RunHandle(services, workflow, row.runId, row.resourceId ?? undefined);
}

/**
 * A Weft engine instance. Registration binds the workflow objects: afterwards `wf.createRun()`
 * uses this instance's storage, and `weft.getWorkflow(id)` returns the same object. Without a
 * `storage`, runs are stored in the SQLite file `.weft/weft.db` (or `WEFT_DB`); a workflow never
 * registered runs on a memory store of its own.
 *
 * @example
 * const weft = new Weft({ workflows: { order } }); // runs stored in .weft/weft.db
 * const run = await order.createRun();
 */
export class Weft<
  out TWorkflows extends Record<string, AnyWorkflow> = Record<string, AnyWorkflow>,
> implements WorkflowHost<Workflow> {
  readonly storage: WeftStorage;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly instanceId = randomUUID();
  readonly leaseMs: number;
  readonly maxOutputEntries: number;
  /** The stored schedules: list, pause, resume, trigger, delete. */
  readonly schedules: Schedules;
  readonly #services: RunServices;
  readonly #local: LocalRuns;
  readonly #workflows = new Map<string, Workflow>();
  private readonly recovery: boolean;
  private readonly recoveryIntervalMs: number;
  private readonly ownershipCheckMs: number;
  private ownershipTimer: ReturnType<typeof setInterval> | undefined;
  /** A lease renewal, or a recovery pass of the timer, is on its way. */
  private renewing = false;
  private recovering = false;
  /** Asked for a recovery pass while one was on its way: make one more after it. */
  private recoverAgain = false;
  private stopFollowingReleases: (() => void) | undefined;
  private ready: Promise<void> | undefined;
  /** `ready` resolved: storage is open and the first recovery pass is done. */
  private initialized = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private readonly retention: RetentionRule[];
  private readonly retentionIntervalMs: number;
  private retentionTimer: ReturnType<typeof setInterval> | undefined;
  /** The retention pass under way, if any. */
  private pruning: Promise<unknown> | undefined;

  constructor(options: WeftOptions<TWorkflows> = {}) {
    this.storage = options.storage ?? defaultStorage();
    this.logger = options.logger ?? quietLogger;
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 30_000;
    if (!Number.isFinite(this.leaseMs) || this.leaseMs < 100) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid leaseMs ${String(options.leaseMs)}: expected a number of milliseconds, at least 100`,
      );
    }
    this.recovery = options.recovery ?? true;
    this.recoveryIntervalMs = options.recoveryIntervalMs ?? Math.max(50, Math.floor(this.leaseMs / 2));
    this.ownershipCheckMs = options.ownershipCheckMs ?? Math.max(20, Math.min(1000, Math.floor(this.leaseMs / 3)));
    this.maxOutputEntries = options.maxOutputEntries ?? 10_000;
    this.retention = retentionRules(options.retention ?? {});
    this.retentionIntervalMs = parseDuration(options.retention?.intervalMs ?? 3_600_000, 'retention.intervalMs');
    this.#local = new LocalRuns(() => this.renewLeasesWhileRunning());
    const { storage, clock } = this;
    this.#services = {
      storage,
      logger: this.logger,
      clock,
      instance: this,
      instanceId: this.instanceId,
      leaseMs: this.leaseMs,
      maxOutputEntries: this.maxOutputEntries,
      local: this.#local,
      // Reading a store that keeps values costs nothing; one that does not check `updatedAt` cannot tell a stale copy.
      suspended: storage.keepsValues || !storage.checksUpdatedAt ? undefined : new SuspendedRuns(),
      init: () => this.init(),
      stepDispatch: () => storage.stepDispatch?.({ now: clock.now, logger: this.logger }),
      fanOut: new Set(),
      setWaiting: async (runId, epoch, wakeAt) => {
        await storage.updateRun(
          runId,
          { epoch },
          { status: wakeAt === null ? 'running' : 'waiting', wakeAt, updatedAt: clock.now() },
        );
      },
    };
    servicesOf.set(this, this.#services);
    for (const [key, workflow] of Object.entries(options.workflows ?? {})) this.addWorkflow(workflow, key);
    this.schedules = new Schedules(this, options.scheduler);
    this.schedules.start();
  }

  /** Registers a workflow (committing it if needed) and binds it to this instance. */
  addWorkflow(workflow: Workflow<any, any, any>, key?: string): void {
    if (!isWorkflow(workflow)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Cannot register ${JSON.stringify(key)}: expected a workflow made with createWorkflow`,
      );
    }
    if (!workflow.committed) workflow.commit();
    void workflow.graph; // throws for an empty workflow
    workflow.bindHost(this);
    this.#workflows.set(workflow.id, workflow);
    if (key !== undefined && key !== workflow.id) this.#workflows.set(key, workflow);
    // Undefined while the constructor registers its workflows: it starts the scheduler after.
    (this.schedules as Schedules | undefined)?.start();
  }

  /**
   * The registered workflow with this registration key (or its own id), typed as registered:
   * `new Weft({ workflows: { qa } }).getWorkflow('qa')` is `qa`, and its runs take `qa`'s input.
   */
  getWorkflow<TKey extends keyof TWorkflows & string>(key: TKey): TWorkflows[TKey];
  getWorkflow<TOwn extends Record<string, AnyWorkflow>, TId extends keyof WorkflowsById<TOwn> & string>(
    this: Weft<TOwn>,
    id: TId,
  ): WorkflowsById<TOwn>[TId];
  getWorkflow(id: string): AnyWorkflow {
    return this.lookUpWorkflow(id);
  }

  private lookUpWorkflow(id: string): AnyWorkflow {
    const wf = this.#workflows.get(id);
    if (!wf) {
      throw new WeftError(
        'WORKFLOW_NOT_FOUND',
        `Workflow "${id}" is not registered; registered: ${[...new Set(this.#workflows.values())].map((w) => `"${w.id}"`).join(', ') || 'none'}`,
        { workflowId: id },
      );
    }
    return wf;
  }

  /** True when a workflow with this id (or registration key) is registered here. */
  hasWorkflow(id: string): boolean {
    return this.#workflows.has(id);
  }

  /** The registered workflow with this id (or registration key), typed as registered. */
  getWorkflowById<TOwn extends Record<string, AnyWorkflow>, TId extends keyof WorkflowsById<TOwn> & string>(
    this: Weft<TOwn>,
    id: TId,
  ): WorkflowsById<TOwn>[TId];
  getWorkflowById<TKey extends keyof TWorkflows & string>(key: TKey): TWorkflows[TKey];
  getWorkflowById(id: string): AnyWorkflow {
    return this.lookUpWorkflow(id);
  }

  /** The registered workflows by id. */
  listWorkflows(): Record<string, Workflow> {
    const out: Record<string, Workflow> = {};
    for (const wf of this.#workflows.values()) out[wf.id] = wf;
    return out;
  }

  /** Runs storage migrations and starts crash recovery. Called by every operation; call it yourself to recover at start-up. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await this.storage.init();
      if (this.recovery && !this.closed) {
        await this.recoverNow();
        this.timer = setInterval(() => void this.recoverQuietly(), this.recoveryIntervalMs);
        this.timer.unref();
        // Runs another instance hands over on its shutdown are continued at once.
        this.stopFollowingReleases = this.storage.notifier?.subscribeReleases?.(() => void this.recoverQuietly());
      }
      if (this.retention.length > 0 && !this.closed) {
        this.applyRetentionQuietly();
        this.retentionTimer = setInterval(() => this.applyRetentionQuietly(), this.retentionIntervalMs);
        this.retentionTimer.unref();
      }
      this.initialized = true;
    })();
    return this.ready;
  }

  /** Looks for runs whose owner died and restarts them (normally done on a timer). */
  async recoverNow(): Promise<number> {
    return recoverExpiredRuns(this.#services, (id) => this.#workflows.get(id));
  }

  /**
   * Stops recovery and lease renewal and closes storage. Runs executing here stop without an
   * outcome (their callers get ENGINE_CLOSED) and their leases expire at once, so another
   * instance continues them; finished steps are kept.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.schedules.stop();
    this.stopFollowingReleases?.();
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.pruning;
    if (this.ownershipTimer) clearInterval(this.ownershipTimer);
    // Runs executing here are not canceled: they stop, keep what finished, and are handed to recovery.
    const running = this.#local.executions();
    for (const exec of running) exec.handOver();
    await Promise.all(running.map((exec) => exec.finished));
    if (running.length > 0) {
      this.logger.info(
        `weft: ${running.length} run${running.length === 1 ? '' : 's'} still executing handed over to recovery (another instance, or this one when it starts again, continues them)`,
      );
    }
    await this.storage.close();
  }

  // ---- WorkflowHost ----

  async createRun(workflow: Workflow, options: { runId?: string; resourceId?: string }): Promise<RunHandle> {
    if (options.runId !== undefined) checkRunId(options.runId);
    if (!this.initialized) await this.init();
    const { storage } = this;
    const runId = options.runId ?? newRunId();
    // A new id on a store that keeps its writes in order: no stored run can conflict, and the insert is
    // not waited for. What comes next sees it (a start issued now shares its commit); if it fails, so
    // does the start, with its error.
    const waited = options.runId !== undefined || !storage.writesInOrder || this.closed;
    if (waited) {
      const cached = this.#local.handle(runId) as RunHandle | undefined;
      // A handle of another workflow falls through to storage, which refuses it with WORKFLOW_MISMATCH.
      if (cached && cached.workflowId === workflow.id) return cached;
      // Thousands of runs created at once would otherwise hold the event loop until all are stored.
      const turn = eventLoopTurn();
      if (turn) await turn;
    }
    if (!waited) {
      const created = storage.createRun({
        runId,
        workflowId: workflow.id,
        resourceId: options.resourceId ?? null,
        createdAt: this.clock.now(),
        claimFollows: true,
      });
      created.catch((error: unknown) => this.logger.error(`weft: run "${runId}" could not be stored`, error));
      return new RunHandle(this.#services, workflow, runId, options.resourceId, created);
    }
    const row = await storeRun(this.#services, workflow, runId, options.resourceId);
    return new RunHandle(this.#services, workflow, runId, row.resourceId ?? undefined);
  }

  async getWorkflowRunById(
    workflow: Workflow,
    runId: string,
    options: { withNestedWorkflows?: boolean; fields?: string[] },
  ): Promise<WorkflowRunView | null> {
    const view = await this.getRun(runId, options);
    return view && view.workflowName === workflow.id ? view : null;
  }

  listWorkflowRuns(workflow: Workflow, filter: RunListFilter): Promise<RunListPage> {
    return this.listRuns({ ...filter, workflowId: workflow.id });
  }

  async deleteWorkflowRunById(_workflow: Workflow, runId: string): Promise<void> {
    await this.deleteRun(runId);
  }

  async restartActiveRuns(workflow: Workflow): Promise<void> {
    const { runs } = await this.listWorkflowRuns(workflow, { status: ['running', 'waiting'] });
    await Promise.all(
      runs.map(async ({ runId }) => {
        try {
          await (await this.createRun(workflow, { runId })).restart();
        } catch (error) {
          this.logger.error(`weft: run "${runId}" of workflow "${workflow.id}" could not be restarted`, error);
        }
      }),
    );
  }

  /** The running and waiting runs of every workflow, newest first. */
  listActiveWorkflowRuns(): Promise<RunListPage> {
    return this.listRuns({ status: ['running', 'waiting'] });
  }

  /**
   * Restarts the running and waiting runs of every registered workflow (see
   * `Workflow.restartAllActiveWorkflowRuns`); resolves once they have stopped.
   */
  async restartAllActiveWorkflowRuns(): Promise<void> {
    await Promise.all([...new Set(this.#workflows.values())].map((workflow) => this.restartActiveRuns(workflow)));
  }

  // ---- runs in the store, whatever workflow they belong to ----

  /** A stored run with its steps, or null. Works without the workflow's definition. */
  async getRun(
    runId: string,
    options: { withNestedWorkflows?: boolean; fields?: string[] } = {},
  ): Promise<WorkflowRunView | null> {
    await this.init();
    const row = await this.storage.getRun(runId);
    if (!row) return null;
    return buildView(row, await loadProjection(this.storage, runId), options);
  }

  /** Stored runs, newest first. */
  async listRuns(filter: RunListFilter & { workflowId?: string } = {}): Promise<RunListPage> {
    await this.init();
    const { runs, total } = await this.storage.listRuns({
      ...(filter.workflowId !== undefined ? { workflowId: filter.workflowId } : {}),
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(filter.resourceId !== undefined ? { resourceId: filter.resourceId } : {}),
      ...(filter.fromDate !== undefined ? { fromDate: new Date(filter.fromDate).getTime() } : {}),
      ...(filter.toDate !== undefined ? { toDate: new Date(filter.toDate).getTime() } : {}),
      ...(filter.scheduleId !== undefined ? { scheduleId: filter.scheduleId } : {}),
      ...(typeof filter.perPage === 'number' ? { perPage: filter.perPage, page: filter.page ?? 0 } : {}),
    });
    return {
      runs: runs.map((r) => ({
        runId: r.runId,
        workflowName: r.workflowId,
        resourceId: r.resourceId,
        status: r.status,
        createdAt: new Date(r.createdAt),
        updatedAt: new Date(r.updatedAt),
        ...scheduleOf(r.runId),
      })),
      total,
    };
  }

  /** Deletes a run and its journal. A run executing here is canceled first. */
  async deleteRun(runId: string): Promise<boolean> {
    await this.init();
    this.#local.execution(runId)?.cancel();
    this.#services.suspended?.forget(runId);
    return this.storage.deleteRun(runId);
  }

  /**
   * Cancels a stored run, whatever its workflow and wherever it executes; needs no definition.
   * A finished run is left as it is. Throws RUN_NOT_FOUND when there is no such run.
   */
  async cancelRun(runId: string): Promise<void> {
    await this.init();
    if (!(await this.storage.getRun(runId)))
      throw new WeftError('RUN_NOT_FOUND', `Run "${runId}" not found`, { runId });
    await cancelRun(this.#services, runId);
  }

  /**
   * Deletes the finished runs (by default of every finished status) that stopped more than `olderThan`
   * ago, with their journals, in batches; returns how many. Active, suspended, paused and pending runs
   * are never deleted.
   *
   * @example
   * await weft.pruneRuns({ olderThan: '7d', status: 'success' });
   */
  async pruneRuns(options: { olderThan: Duration; status?: RunStatus | readonly RunStatus[] }): Promise<number> {
    const olderThanMs = parseDuration(options.olderThan, 'olderThan');
    const statuses = checkPruneStatuses(
      options.status === undefined ? FINISHED_STATUSES : ([] as RunStatus[]).concat(options.status),
    );
    await this.init();
    return pruneInBatches(this.storage, statuses, this.clock.now() - olderThanMs, () => this.closed);
  }

  /** Applies the retention settings once: each rule's runs older than its time go. */
  async applyRetention(): Promise<number> {
    let total = 0;
    for (const rule of this.retention) {
      if (this.closed) break;
      total += await pruneInBatches(this.storage, [rule.status], this.clock.now() - rule.afterMs, () => this.closed);
    }
    return total;
  }

  private applyRetentionQuietly(): void {
    if (this.closed || this.pruning) return;
    this.pruning = this.applyRetention()
      .then((deleted) => {
        if (deleted > 0) this.logger.info(`weft: retention deleted ${deleted} finished run${deleted === 1 ? '' : 's'}`);
      })
      .catch((error: unknown) => {
        if (!this.closed) this.logger.warn('weft: retention could not delete old runs; will retry', error);
      })
      .finally(() => (this.pruning = undefined));
  }

  /** The run's events after `afterSeq` (stored ones first), then live ones until it stops. */
  observeRun(runId: string, options: { afterSeq?: number } = {}): ReadableStream<WorkflowEvent> {
    return observeRun(this, runId, options.afterSeq ?? 0);
  }

  // ---- live listeners and lease renewal ----

  /** Subscribes to a run's live events in this process; returns the function that ends it. */
  subscribe(runId: string, listener: (event: WorkflowEvent) => void): () => void {
    return this.#local.subscribe(runId, listener);
  }

  /** Starts renewing the leases of the runs executing here (an execution began). */
  private renewLeasesWhileRunning(): void {
    if (this.ownershipTimer || this.closed) return;
    this.ownershipTimer = setInterval(() => void this.renewLeases(), this.ownershipCheckMs);
    this.ownershipTimer.unref();
  }

  /** Renews the leases of the runs executing here; stops those this instance no longer owns. */
  private async renewLeases(): Promise<void> {
    const local = this.#local;
    const executing = local.executions();
    // A run still being claimed holds no lease yet: its first write takes one.
    const checked = executing.filter((exec) => !exec.writer.claiming);
    if (executing.length === 0 || this.closed) {
      clearInterval(this.ownershipTimer);
      this.ownershipTimer = undefined;
      return;
    }
    // One renewal at a time: while storage is slow or reconnecting, the timer's ticks do not pile up.
    if (checked.length === 0 || this.renewing) return;
    this.renewing = true;
    try {
      const ids = checked.map((exec) => exec.runId);
      const kept = new Set(await this.storage.renewLeases(this.instanceId, ids, this.clock.now() + this.leaseMs));
      // Canceled or taken over by another process: stop executing it here. Only the execution that was
      // asked about: meanwhile its run may have stopped and started again here (a resume) under a new
      // execution, whose lease the answer says nothing about.
      for (const exec of checked) if (!kept.has(exec.runId) && local.execution(exec.runId) === exec) exec.cancel();
    } catch (error) {
      this.logger.warn('weft: lease renewal failed; will retry', error);
    } finally {
      this.renewing = false;
    }
  }

  private async recoverQuietly(): Promise<void> {
    if (this.closed) return;
    if (this.recovering) {
      this.recoverAgain = true;
      return;
    }
    this.recovering = true;
    try {
      do {
        this.recoverAgain = false;
        await this.recoverNow();
      } while (this.recoverAgain && !this.closed);
    } catch (error) {
      this.logger.warn('weft: crash recovery failed; will retry', error);
    } finally {
      this.recovering = false;
    }
  }
}
