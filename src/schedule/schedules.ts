// Schedule operations of an engine instance: list with next fires and recent runs, pause, resume, trigger, delete.
import { WeftError } from '../errors.js';
import type { RunStatus, StoredSchedule } from '../storage/types.js';
import { nextFireAfter } from './cron.js';
import { scheduledRunId, type ScheduleCatchup, type ScheduleOverlap } from './declaration.js';
import {
  Scheduler,
  parseSpec,
  startScheduledRun,
  syncDeclared,
  type ScheduleHost,
  type SchedulerOptions,
} from './scheduler.js';

/** A stored schedule as the API, CLI and inspector show it. */
export interface ScheduleView {
  scheduleId: string;
  workflowId: string;
  cron: string;
  timezone: string | null;
  paused: boolean;
  nextFireAt: Date | null;
  lastFireAt: Date | null;
  lastRunId: string | null;
  catchup: ScheduleCatchup;
  catchupWindowMs: number;
  overlap: ScheduleOverlap;
  inputData?: unknown;
  metadata?: Record<string, unknown>;
  /** Whether this instance's code declares it (and so fires it). */
  declaredHere: boolean;
  /** The most recent fires, newest first. */
  recentRuns: { runId: string; fireAt: Date; manual: boolean; status: RunStatus | null }[];
}

/** How many attempts a manual trigger makes at a fire time of its own (a time already recorded moves it by 1 ms). */
const TRIGGER_ATTEMPTS = 5;

/**
 * The schedules of an engine instance (`weft.schedules`): operations on the stored schedules, and
 * the scheduler that fires them (off with `scheduler: false`; the operations work either way).
 *
 * @example
 * await weft.schedules.pause('wf_report');
 * const { runId } = await weft.schedules.trigger('wf_report');
 */
export class Schedules {
  private readonly scheduler: Scheduler | undefined;

  constructor(
    private readonly host: ScheduleHost,
    options: SchedulerOptions | false | undefined,
  ) {
    this.scheduler = options === false ? undefined : new Scheduler(host, options ?? {});
  }

  /** @internal Starts the scheduler if some registered workflow declares a schedule (called on registration). */
  start(): void {
    this.scheduler?.start();
  }

  /** @internal Stops the scheduler (on close). */
  async stop(): Promise<void> {
    await this.scheduler?.stop();
  }

  /**
   * Stores the schedules the registered workflows declare, without firing them (the scheduler does
   * it when it starts): what `weft schedules --workflows FILE` does before it lists or operates.
   */
  async sync(): Promise<void> {
    await this.host.init();
    await syncDeclared(this.host, [...new Set(Object.values(this.host.listWorkflows()))]);
  }

  /** The stored schedules (of one workflow when given), by id, each with its `recentRuns` (default 5). */
  async list(options: { workflowId?: string; recentRuns?: number } = {}): Promise<ScheduleView[]> {
    await this.host.init();
    const rows = await this.host.storage.listSchedules(
      options.workflowId === undefined ? {} : { workflowId: options.workflowId },
    );
    return Promise.all(rows.map((row) => this.view(row, options.recentRuns ?? 5)));
  }

  /** One stored schedule; throws SCHEDULE_NOT_FOUND. */
  async get(scheduleId: string, options: { recentRuns?: number } = {}): Promise<ScheduleView> {
    return this.view(await this.require(scheduleId), options.recentRuns ?? 5);
  }

  /** Stops the schedule's cron fires in every process until `resume` (a trigger still runs). */
  async pause(scheduleId: string): Promise<ScheduleView> {
    await this.require(scheduleId);
    const row = await this.host.storage.setSchedulePaused(scheduleId, true, null, this.host.clock.now());
    return this.view(row ?? (await this.require(scheduleId)), 5);
  }

  /** Resumes a paused schedule from now: fires missed while it was paused are not made up. */
  async resume(scheduleId: string): Promise<ScheduleView> {
    const current = await this.require(scheduleId);
    const now = this.host.clock.now();
    const next = nextFireAfter(current.cron, current.timezone, now);
    const row = await this.host.storage.setSchedulePaused(scheduleId, false, next, now);
    this.scheduler?.wake();
    return this.view(row ?? (await this.require(scheduleId)), 5);
  }

  /**
   * Fires the schedule now, paused or not, with its input: the run is stored at once; it starts here
   * when this instance registers the workflow, else at the next tick of a scheduler that does.
   */
  async trigger(scheduleId: string): Promise<{ runId: string; startedHere: boolean }> {
    const row = await this.require(scheduleId);
    const now = this.host.clock.now();
    for (let attempt = 0; attempt < TRIGGER_ATTEMPTS; attempt++) {
      const fireAt = now + attempt;
      const runId = scheduledRunId(scheduleId, fireAt);
      const claimed = await this.host.storage.claimScheduleFire({
        scheduleId,
        fire: { fireAt, runId, manual: true },
        at: now,
      });
      if (!claimed) continue;
      const workflow = this.host.listWorkflows()[row.workflowId];
      if (workflow && this.scheduler) this.scheduler.startRun(workflow, row, runId, now);
      else if (workflow) void startScheduledRun(this.host, workflow, row, runId, now);
      return { runId, startedHere: workflow !== undefined };
    }
    throw new WeftError('STORAGE_ERROR', `Could not record a manual fire of schedule "${scheduleId}"; try again`);
  }

  /**
   * Deletes the stored schedule (its runs stay). A schedule the code still declares comes back at the
   * next start of a process that registers its workflow: remove it from the code to stop it for good,
   * or pause it.
   */
  async delete(scheduleId: string): Promise<void> {
    await this.require(scheduleId);
    await this.host.storage.deleteSchedule(scheduleId);
  }

  private async require(scheduleId: string): Promise<StoredSchedule> {
    if (typeof scheduleId !== 'string' || scheduleId === '') {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid schedule id ${JSON.stringify(scheduleId)}: expected a non-empty string`,
      );
    }
    await this.host.init();
    const row = await this.host.storage.getSchedule(scheduleId);
    if (row) return row;
    const known = (await this.host.storage.listSchedules()).map((s) => `"${s.scheduleId}"`);
    throw new WeftError(
      'SCHEDULE_NOT_FOUND',
      `Schedule "${scheduleId}" not found; stored schedules: ${known.join(', ') || 'none'}`,
    );
  }

  private async view(row: StoredSchedule, recent: number): Promise<ScheduleView> {
    const spec = parseSpec(row);
    const fires = recent > 0 ? await this.host.storage.listScheduleFires(row.scheduleId, recent) : [];
    const workflow = this.host.listWorkflows()[row.workflowId];
    const view: ScheduleView = {
      scheduleId: row.scheduleId,
      workflowId: row.workflowId,
      cron: row.cron,
      timezone: row.timezone,
      paused: row.paused,
      nextFireAt: row.nextFireAt === null ? null : new Date(row.nextFireAt),
      lastFireAt: row.lastFireAt === null ? null : new Date(row.lastFireAt),
      lastRunId: row.lastRunId,
      catchup: spec.catchup,
      catchupWindowMs: spec.catchupWindowMs,
      overlap: spec.overlap,
      declaredHere: workflow?.schedules.some((s) => s.scheduleId === row.scheduleId) ?? false,
      recentRuns: fires.map((f) => ({
        runId: f.runId,
        fireAt: new Date(f.fireAt),
        manual: f.manual,
        status: f.runStatus,
      })),
    };
    if (spec.inputData !== undefined) view.inputData = spec.inputData;
    if (spec.metadata !== undefined) view.metadata = spec.metadata;
    return view;
  }
}
