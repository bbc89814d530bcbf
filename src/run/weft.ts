// The engine instance: registers workflows, owns storage, live listeners, leases and crash recovery.
import { randomUUID } from 'node:crypto';
import { newRunId } from './run-id.js';
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import { systemClock, type Clock, type Execution, type ExecutionServices } from '../engine/execution.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { observeRun } from '../events/observe.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import type { WeftStorage } from '../storage/types.js';
import { isWorkflow, type Workflow } from '../workflow/create-workflow.js';
import { setDefaultHostFactory, type WorkflowHost } from '../workflow/host.js';
import type { Logger } from '../workflow/types.js';
import { loadProjection } from './lifecycle.js';
import { recoverExpiredRuns } from './recovery.js';
import { buildView } from './result.js';
import { RunHandle } from './run.js';
import type { RunListFilter, RunListPage, WorkflowRunView } from './run-types.js';

/** Options of `new Weft`. */
export interface WeftOptions {
  workflows?: Record<string, Workflow<any, any, any>>;
  /** Where runs live. Default: a `MemoryStorage` (use `SqliteStorage` from 'weft/sqlite' for durability). */
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
}

const quietLogger: Logger = { debug() {}, info() {}, warn: console.warn, error: console.error };

/**
 * A Weft engine instance. Registration binds the workflow objects: afterwards `wf.createRun()`
 * uses this instance's storage, and `weft.getWorkflow(id)` returns the same object.
 *
 * @example
 * const weft = new Weft({ workflows: { order }, storage: new SqliteStorage({ path: '.weft/weft.db' }) });
 * const run = await order.createRun();
 */
export class Weft implements WorkflowHost {
  readonly storage: WeftStorage;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly instanceId = randomUUID();
  readonly leaseMs: number;
  readonly maxOutputEntries: number;
  readonly services: ExecutionServices;
  private readonly workflows = new Map<string, Workflow>();
  private readonly listeners = new Map<string, Set<(event: WorkflowEvent) => void>>();
  private readonly active = new Map<string, Execution>();
  private readonly handles = new Map<string, RunHandle>();
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

  constructor(options: WeftOptions = {}) {
    this.storage = options.storage ?? new MemoryStorage();
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
    this.services = {
      logger: this.logger,
      clock: this.clock,
      instance: this,
      setWaiting: async (runId, epoch, wakeAt) => {
        await this.storage.updateRun(
          runId,
          { epoch },
          { status: wakeAt === null ? 'running' : 'waiting', wakeAt, updatedAt: this.clock.now() },
        );
      },
    };
    for (const [key, workflow] of Object.entries(options.workflows ?? {})) this.addWorkflow(workflow, key);
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
    this.workflows.set(workflow.id, workflow);
    if (key !== undefined && key !== workflow.id) this.workflows.set(key, workflow);
  }

  /** The registered workflow with this id (or registration key). */
  getWorkflow(id: string): Workflow {
    const wf = this.workflows.get(id);
    if (!wf) {
      throw new WeftError(
        'WORKFLOW_NOT_FOUND',
        `Workflow "${id}" is not registered; registered: ${[...new Set(this.workflows.values())].map((w) => `"${w.id}"`).join(', ') || 'none'}`,
        { workflowId: id },
      );
    }
    return wf;
  }

  /** True when a workflow with this id (or registration key) is registered here. */
  hasWorkflow(id: string): boolean {
    return this.workflows.has(id);
  }

  /** Same as `getWorkflow` (Mastra's name). */
  getWorkflowById(id: string): Workflow {
    return this.getWorkflow(id);
  }

  /** The registered workflows by id. */
  listWorkflows(): Record<string, Workflow> {
    const out: Record<string, Workflow> = {};
    for (const wf of this.workflows.values()) out[wf.id] = wf;
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
      this.initialized = true;
    })();
    return this.ready;
  }

  /** Looks for runs whose owner died and restarts them (normally done on a timer). */
  async recoverNow(): Promise<number> {
    return recoverExpiredRuns(this);
  }

  /**
   * Stops recovery and lease renewal and closes storage. Runs executing here stop without an
   * outcome (their callers get ENGINE_CLOSED) and their leases expire at once, so another
   * instance continues them; finished steps are kept.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopFollowingReleases?.();
    if (this.timer) clearInterval(this.timer);
    if (this.ownershipTimer) clearInterval(this.ownershipTimer);
    // Runs executing here are not canceled: they stop, keep what finished, and are handed to recovery.
    const running = [...this.active.values()];
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
    if (!this.initialized) await this.init();
    const { storage } = this;
    const runId = options.runId ?? newRunId();
    // A new id on a store that keeps its writes in order: no stored run can conflict, and the insert is
    // not waited for. What comes next sees it (a start issued now shares its commit); if it fails, so
    // does the start, with its error.
    const waited = options.runId !== undefined || !storage.writesInOrder || this.closed;
    if (waited) {
      const cached = this.handles.get(runId);
      // A handle of another workflow falls through to storage, which refuses it with WORKFLOW_MISMATCH.
      if (cached && cached.workflowId === workflow.id) return cached;
      // Thousands of runs created at once would otherwise hold the event loop until all are stored.
      const turn = eventLoopTurn();
      if (turn) await turn;
    }
    const created = storage.createRun({
      runId,
      workflowId: workflow.id,
      resourceId: options.resourceId ?? null,
      createdAt: this.clock.now(),
    });
    if (!waited) {
      created.catch((error: unknown) => this.logger.error(`weft: run "${runId}" could not be stored`, error));
      return new RunHandle(this, workflow, runId, options.resourceId, created);
    }
    const row = await created;
    if (row.workflowId !== workflow.id) {
      throw new WeftError(
        'WORKFLOW_MISMATCH',
        `Run "${runId}" belongs to workflow "${row.workflowId}", not "${workflow.id}"`,
        { runId, workflowId: workflow.id },
      );
    }
    return new RunHandle(this, workflow, runId, row.resourceId ?? undefined);
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

  // ---- runs in the store, whatever workflow they belong to ----

  /** A stored run with its steps, or null. Works without the workflow's definition. */
  async getRun(
    runId: string,
    options: { withNestedWorkflows?: boolean; fields?: string[] } = {},
  ): Promise<WorkflowRunView | null> {
    await this.init();
    const row = await this.storage.getRun(runId);
    if (!row) return null;
    return buildView(row, await loadProjection(this, runId), options);
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
      })),
      total,
    };
  }

  /** Deletes a run and its journal. A run executing here is canceled first. */
  async deleteRun(runId: string): Promise<boolean> {
    await this.init();
    this.active.get(runId)?.cancel();
    return this.storage.deleteRun(runId);
  }

  /** The run's events after `afterSeq` (stored ones first), then live ones until it stops. */
  observeRun(runId: string, options: { afterSeq?: number } = {}): ReadableStream<WorkflowEvent> {
    return observeRun(this, runId, options.afterSeq ?? 0);
  }

  // ---- internal: live listeners and executions ----

  /** Subscribes to a run's live events in this process. */
  subscribe(runId: string, listener: (event: WorkflowEvent) => void): () => void {
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  /** @internal */
  readonly listenersOf = (runId: string): ReadonlySet<(event: WorkflowEvent) => void> | undefined =>
    this.listeners.get(runId);

  /** @internal The execution of a run in this process, if any. */
  activeExecution(runId: string): Execution | undefined {
    return this.active.get(runId);
  }

  /** @internal Keeps the run handle while its run executes, so createRun({ runId }) returns the same one. */
  holdHandle(handle: RunHandle): () => void {
    this.handles.set(handle.runId, handle);
    return () => {
      if (this.handles.get(handle.runId) === handle) this.handles.delete(handle.runId);
    };
  }

  /** @internal Records an execution as active here; the returned function ends that. */
  track(exec: Execution): () => void {
    this.active.set(exec.runId, exec);
    if (!this.ownershipTimer && !this.closed) {
      this.ownershipTimer = setInterval(() => void this.checkOwnership(), this.ownershipCheckMs);
      this.ownershipTimer.unref();
    }
    return () => {
      if (this.active.get(exec.runId) === exec) this.active.delete(exec.runId);
    };
  }

  /** Renews the leases of the runs executing here; stops those this instance no longer owns. */
  private async checkOwnership(): Promise<void> {
    // A run still being claimed holds no lease yet: its first write takes one.
    const checked = [...this.active.values()].filter((exec) => !exec.writer.claiming);
    if (this.active.size === 0 || this.closed) {
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
      for (const exec of checked) if (!kept.has(exec.runId) && this.active.get(exec.runId) === exec) exec.cancel();
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

// An unregistered workflow gets a private in-memory instance; binding it does not commit it, so an
// uncommitted workflow is still refused when run (registration with `new Weft` commits, as in Mastra).
setDefaultHostFactory((workflow) => {
  const weft = new Weft({ recovery: false });
  workflow.bindHost(weft);
  return weft;
});
