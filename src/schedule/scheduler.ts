// The scheduler: keeps the stored schedules in step with the code and fires them, each fire claimed exactly once.
import { WeftError, refusedBeforeClaim } from '../errors.js';
import type { ScheduleFire, StoredSchedule, WeftStorage } from '../storage/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { Logger } from '../workflow/types.js';
import { firesToMake } from './catchup.js';
import { fireTimesBetween, nextFireAfter } from './cron.js';
import { scheduledRunId, type DeclaredSchedule, type ScheduleSpec } from './declaration.js';

/** Options of the scheduler (`new Weft({ scheduler })`). */
export interface SchedulerOptions {
  /**
   * How often the store is read for due fires, pauses and triggers made elsewhere (default 10 s).
   * A fire this process knows of is started at its time, not at the next tick.
   */
  tickIntervalMs?: number;
}

/** What the scheduler needs of the engine instance. */
export interface ScheduleHost {
  readonly storage: WeftStorage;
  readonly clock: { now(): number };
  readonly logger: Logger;
  init(): Promise<void>;
  listWorkflows(): Record<string, Workflow>;
  cancelRun(runId: string): Promise<void>;
}

/** Run statuses during which a schedule's run is active, for `overlap`. */
const ACTIVE = new Set(['pending', 'running', 'waiting']);
/** Most fires made up per schedule in one tick (`catchup: 'all'`); the rest follow at the next. */
const MAX_FIRES_PER_TICK = 100;
/** Fires read per schedule and tick: the recent runs that decide overlap, and pending fires to start. */
const FIRES_READ = 50;
/**
 * A pending fire claimed by another process is left to it for this long before this one starts it,
 * and for as long again after each sign that a start is in progress (its run's `updatedAt`, renewed
 * every third of this by the process starting it until the run is claimed: a slow `onStart`).
 */
const CLAIMER_GRACE_MS = 1000;

/** The declared schedule of a stored one in this process's code, if any. */
function declaredHere(workflows: Workflow[], row: StoredSchedule): Workflow | undefined {
  return workflows.find(
    (wf) => wf.id === row.workflowId && wf.schedules.some((s: DeclaredSchedule) => s.scheduleId === row.scheduleId),
  );
}

/** Parses a stored spec (written by `declareSchedules`). */
export function parseSpec(row: StoredSchedule): ScheduleSpec {
  return JSON.parse(row.spec) as ScheduleSpec;
}

/** What a schedule's runs start with. */
function startArgs(row: StoredSchedule): {
  inputData: unknown;
  initialState?: Record<string, unknown>;
  requestContext?: Record<string, unknown>;
} {
  const spec = parseSpec(row);
  return {
    inputData: spec.inputData,
    ...(spec.initialState ? { initialState: spec.initialState } : {}),
    ...(spec.requestContext ? { requestContext: spec.requestContext } : {}),
  };
}

/**
 * Makes the stored schedules of `workflows` the ones their code declares: new ones are inserted with
 * their next fire from now, changed ones updated (a changed cron or timezone moves the next fire),
 * and those no longer declared deleted.
 */
export async function syncDeclared(host: ScheduleHost, workflows: readonly Workflow[]): Promise<void> {
  const now = host.clock.now();
  const definitions = workflows.flatMap((wf) =>
    wf.schedules.map((s) => ({
      scheduleId: s.scheduleId,
      workflowId: s.workflowId,
      cron: s.cron,
      timezone: s.timezone,
      spec: JSON.stringify(s.spec),
      nextFireAt: nextFireAfter(s.cron, s.timezone, now),
    })),
  );
  await host.storage.syncSchedules(
    workflows.map((wf) => wf.id),
    definitions,
    now,
  );
}

/**
 * Fires the stored schedules whose workflow this process registered and declares. Each tick reads the
 * schedules, claims their due fires (see `claimScheduleFire`) under their catchup and overlap policies,
 * and starts the runs of the fires claimed here, and of pending fires (queued, triggered, or claimed by
 * a process that died before starting them). The next tick comes at the next known fire or after
 * `tickIntervalMs`, whichever is sooner.
 */
export class Scheduler {
  readonly tickIntervalMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private tickAgain = false;
  /** Runs whose start this process has issued and that may not be claimed yet. */
  private readonly starting = new Set<string>();

  constructor(
    private readonly host: ScheduleHost,
    options: SchedulerOptions = {},
  ) {
    this.tickIntervalMs = options.tickIntervalMs ?? 10_000;
    if (!Number.isFinite(this.tickIntervalMs) || this.tickIntervalMs < 10) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Invalid scheduler.tickIntervalMs ${String(options.tickIntervalMs)}: expected a number of milliseconds, at least 10`,
      );
    }
  }

  /** Starts firing once a registered workflow declares a schedule (idempotent; later registrations are picked up). */
  start(): void {
    if (this.stopped) return;
    if (this.started) {
      this.wake();
      return;
    }
    if (!this.workflows().some((wf) => wf.schedules.length > 0)) return;
    this.started = true;
    this.wake();
  }

  /** Stops firing and waits for the tick in progress (runs already started go on). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Ticks as soon as possible (after the one in progress). */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.schedule(0);
  }

  private synced = new Set<Workflow>();

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.schedule(0);
        }
      });
    }, delay);
    this.timer.unref();
  }

  private workflows(): Workflow[] {
    return [...new Set(Object.values(this.host.listWorkflows()))];
  }

  /** One pass: sync the declarations not yet stored, fire what is due, start what is pending; then plan the next. */
  private async tick(): Promise<void> {
    let nextAt: number | null = null;
    try {
      await this.host.init();
      await this.syncDeclarations();
      const workflows = this.workflows();
      const rows = await this.host.storage.listSchedules();
      for (const row of rows) {
        if (this.stopped) return;
        const workflow = declaredHere(workflows, row);
        if (!workflow) continue;
        try {
          // Lost to another process: its next fire as that process left it.
          const next =
            (await this.fireDue(workflow, row)) ??
            (await this.host.storage.getSchedule(row.scheduleId))?.nextFireAt ??
            null;
          await this.startPending(workflow, row);
          if (next !== null && !row.paused) nextAt = nextAt === null ? next : Math.min(nextAt, next);
        } catch (error) {
          this.host.logger.error(`weft: schedule "${row.scheduleId}" could not fire; will retry`, error);
        }
      }
    } catch (error) {
      if (!this.stopped) this.host.logger.warn('weft: the scheduler could not read the schedules; will retry', error);
    }
    const now = this.host.clock.now();
    const delay = nextAt === null ? this.tickIntervalMs : Math.min(this.tickIntervalMs, Math.max(0, nextAt - now));
    this.schedule(delay);
  }

  /** Stores the schedules of workflows registered since the last sync (deleting those their code no longer declares). */
  private async syncDeclarations(): Promise<void> {
    const fresh = this.workflows().filter((wf) => !this.synced.has(wf));
    if (fresh.length === 0) return;
    await syncDeclared(this.host, fresh);
    for (const wf of fresh) this.synced.add(wf);
  }

  /**
   * Claims the schedule's due fires under its policies; returns its next fire time (after the claims),
   * or null when another process moved it meanwhile (the next tick reads it again).
   */
  private async fireDue(workflow: Workflow, row: StoredSchedule): Promise<number | null> {
    const now = this.host.clock.now();
    if (row.paused || row.nextFireAt === null || row.nextFireAt > now) return row.nextFireAt;
    const spec = parseSpec(row);
    const due = fireTimesBetween(row.cron, row.timezone, row.nextFireAt, now, MAX_FIRES_PER_TICK);
    const newest = due[due.length - 1] ?? row.nextFireAt;
    const after = nextFireAfter(row.cron, row.timezone, newest);
    // More fires are due than one tick reads: the schedule moves past this batch, and only the batch
    // that reaches the present may make the fire of 'latest' (or 'none'); 'all' makes every one in its window.
    const more = after !== null && after <= now;
    const fires = more && spec.catchup !== 'all' ? [] : firesToMake(spec, due, now, this.tickIntervalMs);
    const { storage } = this.host;
    let from = row.nextFireAt;
    let recent = await storage.listScheduleFires(row.scheduleId, FIRES_READ);
    for (const [i, fireAt] of fires.entries()) {
      const to = i < fires.length - 1 ? nextFireAfter(row.cron, row.timezone, fireAt) : after;
      const active = recent.some((f) => f.runStatus !== null && ACTIVE.has(f.runStatus));
      const skipped = spec.overlap === 'skip' && active;
      const runId = scheduledRunId(row.scheduleId, fireAt);
      const claimed = await storage.claimScheduleFire({
        scheduleId: row.scheduleId,
        advance: { from, to },
        ...(skipped ? {} : { fire: { fireAt, runId, manual: false } }),
        at: now,
      });
      if (!claimed) {
        // Another process claimed it, or a manual fire took this very time: then it stands for this fire.
        const current = await storage.getSchedule(row.scheduleId);
        if (current?.nextFireAt !== from) return null;
        if (!(await storage.claimScheduleFire({ scheduleId: row.scheduleId, advance: { from, to }, at: now })))
          return null;
      } else if (skipped) {
        this.host.logger.info(
          `weft: schedule "${row.scheduleId}" skipped its fire at ${new Date(fireAt).toISOString()}: its previous run is still active`,
        );
      } else {
        // A queued fire waits, pending, for the active run to stop (startPending starts it).
        if (spec.overlap !== 'queue' || !active) this.startRun(workflow, row, runId, now);
        const fire: ScheduleFire = {
          scheduleId: row.scheduleId,
          fireAt,
          runId,
          manual: false,
          claimedAt: now,
          runStatus: 'pending',
        };
        recent = [fire, ...recent];
      }
      from = to ?? from;
      if (to === null) return null;
    }
    if (fires[fires.length - 1] !== newest) {
      // The fires passed over: the schedule moves on without them.
      if (!(await storage.claimScheduleFire({ scheduleId: row.scheduleId, advance: { from, to: after }, at: now })))
        return null;
    }
    return after;
  }

  /**
   * Starts the schedule's pending fires: queued ones (`overlap: 'queue'`) one at a time once no run
   * of the schedule is active, others (triggered elsewhere, or left by a process that died after its
   * claim) once their claimer had time to start them.
   */
  private async startPending(workflow: Workflow, row: StoredSchedule): Promise<void> {
    const fires = await this.host.storage.listScheduleFires(row.scheduleId, FIRES_READ);
    const pending = fires.filter((f) => f.runStatus === 'pending' && !this.starting.has(f.runId)).reverse();
    if (pending.length === 0) return;
    const spec = parseSpec(row);
    const now = this.host.clock.now();
    if (spec.overlap === 'queue') {
      const running = fires.some((f) => f.runStatus === 'running' || f.runStatus === 'waiting');
      if (running || fires.some((f) => this.starting.has(f.runId))) return;
      // The oldest queued fire, unless another process is starting it: one that it reserved lately.
      const run = await this.host.storage.getRun(pending[0]!.runId);
      // Untouched since its claim, it is free; a store that cannot reserve it waits out the grace.
      const untouched = run?.updatedAt === run?.createdAt && this.host.storage.checksUpdatedAt === true;
      if (run?.status === 'pending' && (untouched || run.updatedAt <= now - CLAIMER_GRACE_MS))
        this.startRun(workflow, row, run.runId, run.updatedAt);
      return;
    }
    for (const fire of pending as ScheduleFire[]) {
      if (fire.claimedAt > now - CLAIMER_GRACE_MS) continue;
      const run = await this.host.storage.getRun(fire.runId);
      if (run?.status === 'pending' && run.updatedAt <= now - CLAIMER_GRACE_MS)
        this.startRun(workflow, row, fire.runId, run.updatedAt);
    }
  }

  /**
   * Starts a fire's run without waiting for it (`startScheduledRun`), and looks for a queued fire to
   * start once it stops.
   */
  startRun(workflow: Workflow, row: StoredSchedule, runId: string, seen: number): void {
    this.starting.add(runId);
    void startScheduledRun(this.host, workflow, row, runId, seen).finally(() => {
      this.starting.delete(runId);
      // A queued fire may start now that this run stopped.
      this.wake();
    });
  }
}

/**
 * Starts a fire's run (created pending by its claim) as `createRun({ runId }).start()` does, once this
 * process has reserved its start (`reserveStart`, from the run's `updatedAt` as `seen`); settles when
 * the run stops or its start was given up. A start another process reserved or won is fine; a start
 * refused before its claim (the input no longer matches the schema) cancels the run, so that it is
 * not tried again at every tick.
 */
export async function startScheduledRun(
  host: ScheduleHost,
  workflow: Workflow,
  row: StoredSchedule,
  runId: string,
  seen: number,
): Promise<void> {
  let reservation: { stop(): void } | null = null;
  try {
    reservation = await reserveStart(host, runId, seen);
    if (reservation) await (await workflow.createRun({ runId })).start(startArgs(row));
  } catch (error) {
    if (WeftError.is(error, 'RUN_ALREADY_CLAIMED') || WeftError.is(error, 'ENGINE_CLOSED')) return;
    host.logger.error(`weft: scheduled run "${runId}" of schedule "${row.scheduleId}" could not start`, error);
    if (refusedBeforeClaim(error)) await host.cancelRun(runId).catch(() => undefined);
  } finally {
    reservation?.stop();
  }
}

/**
 * Reserves the start of the pending run `runId`, last seen with `updatedAt` `seen`: a compare-and-set
 * that moves `updatedAt` on, so that of the processes that saw the fire free to start, one only starts
 * it (and calls `onStart`). Until `stop` or the claim, it renews `updatedAt` every third of the grace,
 * each time from the value it wrote last, never back in time: the others see a start in progress
 * however long `onStart` takes. Null: another process reserved or claimed the run first. A store that
 * does not check `updatedAt` gets compare-and-sets on `pending` alone.
 */
async function reserveStart(host: ScheduleHost, runId: string, seen: number): Promise<{ stop(): void } | null> {
  const { storage, clock, logger } = host;
  let last = seen;
  const renew = async (): Promise<boolean> => {
    const next = Math.max(clock.now(), last + 1);
    const condition = storage.checksUpdatedAt ? { updatedAt: last } : {};
    // (After a lost connection the store itself finds out whether the lost attempt had committed.)
    const held = (await storage.updateRun(runId, { status: ['pending'], ...condition }, { updatedAt: next })) !== null;
    if (held) last = next;
    return held;
  };
  if (!(await renew())) return null;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    renew()
      .then(
        (held) => {
          if (!held) clearInterval(timer); // claimed (or canceled): the run row speaks for itself now
        },
        (error: unknown) => logger.debug(`weft: could not renew the start of scheduled run "${runId}"`, error),
      )
      .finally(() => (renewing = false));
  }, CLAIMER_GRACE_MS / 3);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
