// A worker's side of fan-out: claims step attempts dispatched by any run's coordinator, executes them, stores their results.
import { executeAttempt } from '../engine/execute-attempt.js';
import { WeftError } from '../errors.js';
import type { AttemptResult, DispatchedAttempt } from '../storage/types.js';
import { toJson } from '../journal/encoding.js';
import type { RunProjection } from '../journal/projection.js';
import { notSerializable, serializeError } from '../journal/serialize-error.js';
import { loadProjection } from '../run/load-projection.js';
import type { RunServices } from '../run/run-services.js';
import type { Weft } from '../run/weft.js';
import type { AttemptOutcome, ClaimedAttempt, PgDispatchedAttempts } from '../storage/postgres/dispatched-attempts.js';
import type { PgJournalNotifier } from '../storage/postgres/pg-notifier.js';

/** A run's journal as read for its attempts, per coordinator epoch, caught up as they need. */
interface ReadJournal {
  epoch: number;
  projection: Promise<RunProjection>;
  usedAt: number;
}

/** How long a run's journal read for its attempts is kept after its last use. */
const JOURNAL_KEPT_MS = 60_000;

/** What an attempt runner is given. */
export interface AttemptRunnerOptions {
  weft: Weft;
  services: RunServices;
  attempts: PgDispatchedAttempts;
  notifier: PgJournalNotifier;
  /** The workflows whose attempts this worker executes (those it registered). */
  workflows: readonly string[];
  /** Attempts executed at once. */
  concurrency: number;
  /** How often to look for attempts besides the notifications (and for attempts of dead workers). */
  pollMs: number;
}

/**
 * Executes the step attempts that coordinators dispatched, for the workflows registered here, up to
 * `concurrency` at once: woken by the coordinators' notification, and by a poll that also finds the
 * attempts of workers that died (their lease expired). Leases are renewed every lease / 3; an attempt
 * no longer held (its run was canceled, or it was taken over after a stall) is aborted.
 */
export class AttemptRunner {
  private readonly running = new Map<string, AbortController>();
  /** Slots taken by steps of runs executing here, which execute them here rather than dispatch them. */
  private local = 0;
  private claiming = false;
  /** Slots a claim on its way may fill: not taken by local steps meanwhile. */
  private reserved = 0;
  private claimAgain = false;
  private stopped = false;
  private completions: AttemptOutcome[] = [];
  private completing: Promise<void> | undefined;
  private readonly journals = new Map<string, ReadJournal>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: (() => void)[];
  private idle: (() => void) | undefined;

  constructor(private readonly options: AttemptRunnerOptions) {
    const { notifier, attempts } = options;
    this.unsubscribe = [
      notifier.subscribeSignal(attempts.readyChannel, () => this.fill()),
      // Attempts of a run were canceled: those executing here stop now, not at the next renewal.
      notifier.subscribeSignal(attempts.withdrawnChannel, (runId) => {
        if (runId !== '' && this.running.size > 0) void this.renew();
      }),
    ];
    const { leaseMs } = options.services;
    const poll = setInterval(() => {
      this.fill();
      this.forgetJournals();
    }, options.pollMs);
    const renew = setInterval(() => void this.renew(), Math.max(20, Math.floor(leaseMs / 3)));
    for (const timer of [poll, renew]) {
      timer.unref();
      this.timers.push(timer);
    }
    this.fill();
  }

  /**
   * Stops claiming, lets the attempts in flight finish for up to `graceMs`, then aborts the others and
   * hands them back as ready for another worker.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const left = [...this.running.keys()];
    for (const controller of this.running.values()) controller.abort();
    await this.completing;
    if (left.length > 0) {
      await this.options.attempts
        .release(this.options.services.instanceId, left)
        .catch((error: unknown) =>
          this.options.services.logger.warn('weft worker: handing step attempts back failed', error),
        );
    }
  }

  /**
   * Takes a slot for a step of a run executing here, which then executes here rather than go through
   * the database: returns the function that gives it back, or undefined when every slot is busy.
   */
  take(): (() => void) | undefined {
    if (this.stopped || this.running.size + this.local + this.reserved >= this.options.concurrency) return undefined;
    this.local++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.local--;
      // After a turn: the run's next step takes the slot first, and executes here without a round trip;
      // a slot still free then claims what waits in the database.
      setImmediate(() => this.fill());
    };
  }

  /** Claims attempts while slots are free. */
  private fill(): void {
    const free = this.startClaim();
    if (free === 0) return;
    const { services, attempts, workflows } = this.options;
    const now = services.clock.now();
    // Never rejects: `claimed` logs a failed claim.
    void this.claimed(
      free,
      attempts.claim(services.instanceId, workflows, free, now, now + services.leaseMs),
      'claiming step attempts failed; will retry',
    );
  }

  /**
   * How many attempts a claim may take now (the slots free), reserved for it; 0 when it must not claim
   * (stopped, no slot free, or a claim on its way, which claims again once back).
   */
  private startClaim(): number {
    if (this.stopped) return 0;
    if (this.claiming) {
      this.claimAgain = true;
      return 0;
    }
    const free = this.options.concurrency - this.running.size - this.local;
    if (free <= 0) return 0;
    this.claiming = true;
    this.reserved = free;
    this.claimAgain = false;
    return free;
  }

  /** Executes what a claim of up to `free` attempts took (hands it back if this runner stopped meanwhile). */
  private claimed(free: number, claim: Promise<ClaimedAttempt[]>, failure: string): Promise<void> {
    const { services, attempts } = this.options;
    return claim
      .then(
        (rows) => {
          if (this.stopped) {
            const ids = rows.map((row) => row.attemptId);
            if (ids.length > 0) void attempts.release(services.instanceId, ids).catch(() => undefined);
            return;
          }
          for (const row of rows) this.execute(row);
          if (rows.length === free) this.claimAgain = true;
        },
        (error: unknown) => services.logger.warn(`weft worker: ${failure}`, error),
      )
      .finally(() => {
        this.claiming = false;
        this.reserved = 0;
        if (this.claimAgain) this.fill();
      });
  }

  private execute(row: ClaimedAttempt): void {
    const controller = new AbortController();
    this.running.set(row.attemptId, controller);
    this.attempt(row, controller.signal)
      .then(
        (result) => {
          if (result !== undefined && !controller.signal.aborted) this.complete(row.attemptId, result);
        },
        (error: unknown) => {
          // The step is not where the coordinator says (workflows of different versions): its attempt fails, saying so.
          if (WeftError.is(error) && error.code !== 'STORAGE_ERROR') {
            this.complete(row.attemptId, { threw: true, value: serializeError(error) });
            return;
          }
          // Storage failed: the attempt stays claimed, and its lease's expiry hands it to a worker.
          this.options.services.logger.warn(`weft worker: step attempt ${row.attemptId} could not be executed`, error);
        },
      )
      .finally(() => {
        this.running.delete(row.attemptId);
        if (this.running.size === 0) this.idle?.();
        // A result on its way claims the next attempts with it (`completeNow`).
        if (!this.completing) this.fill();
      });
  }

  private async attempt(row: ClaimedAttempt, signal: AbortSignal): Promise<AttemptResult | undefined> {
    const call = JSON.parse(row.call) as Pick<
      DispatchedAttempt,
      'inputData' | 'state' | 'requestContext' | 'retryCount' | 'restarting'
    >;
    const workflow = this.options.weft.getWorkflow(row.workflowId);
    const projection = await this.journalOf(row);
    return executeAttempt(
      {
        attemptId: row.attemptId,
        dispatchId: row.dispatchId,
        runId: row.runId,
        workflowId: row.workflowId,
        epoch: row.epoch,
        key: row.stepKey,
        ...call,
        // Claimed before by a worker that died or stopped: the step runs again after a crash, as it would here.
        restarting: call.restarting || row.tries > 1,
      },
      { graph: workflow.graph, projection, services: this.options.services, signal },
    );
  }

  /**
   * The run's journal as far as the attempt needs it (what its context is rebuilt from): read once per
   * coordinator epoch, then caught up with the entries appended since whenever it lacks the attempt's
   * own step start (the coordinator stores it, after everything the step may look up, before dispatching).
   */
  private journalOf(row: ClaimedAttempt): Promise<RunProjection> {
    const { runId, epoch } = row;
    const { storage } = this.options.services;
    const now = Date.now();
    let read = this.journals.get(runId);
    if (!read || read.epoch < epoch) {
      read = { epoch, projection: loadProjection(storage, runId), usedAt: now };
      this.journals.set(runId, read);
    } else {
      read.projection = read.projection.then(async (projection) => {
        if (projection.records.get(row.stepKey)?.dispatch === row.dispatchId) return projection;
        projection.applyStored(await storage.readJournal(runId, { afterSeq: projection.lastSeq }), runId);
        return projection;
      });
    }
    const made = read;
    made.projection.catch(() => {
      if (this.journals.get(runId) === made) this.journals.delete(runId);
    });
    read.usedAt = now;
    return read.projection;
  }

  private forgetJournals(): void {
    const before = Date.now() - JOURNAL_KEPT_MS;
    for (const [runId, read] of this.journals) if (read.usedAt < before) this.journals.delete(runId);
  }

  /** Queues a result; those of one turn go out in one statement. */
  private complete(attemptId: string, result: AttemptResult): void {
    let text: string;
    try {
      text = toJson(result);
    } catch (error) {
      const failure = notSerializable('A dispatched step produced a value that cannot be stored as JSON', error, {});
      text = toJson({ threw: true, value: serializeError(failure) } satisfies AttemptResult);
    }
    this.completions.push({ attemptId, result: text });
    this.completing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.completeNow());
  }

  /**
   * Stores the results queued, and claims as many attempts as slots are free in the same statement (one
   * round trip per item for a worker kept busy, rather than one to hand a result in and one to claim).
   */
  private async completeNow(): Promise<void> {
    try {
      await this.completeQueued();
    } finally {
      this.completing = undefined;
      this.fill();
    }
  }

  private async completeQueued(): Promise<void> {
    const { attempts, services, workflows } = this.options;
    while (this.completions.length > 0) {
      const batch = this.completions;
      this.completions = [];
      const free = this.startClaim();
      // A failure leaves the attempts claimed: their leases expire and other workers execute them again.
      if (free > 0) {
        const now = services.clock.now();
        const expiresAt = now + services.leaseMs;
        await this.claimed(
          free,
          attempts.completeAndClaim(services.instanceId, batch, {
            workflowIds: workflows,
            limit: free,
            now,
            expiresAt,
          }),
          'storing step attempt results and claiming more failed',
        );
      } else {
        await attempts
          .complete(services.instanceId, batch)
          .catch((error: unknown) => services.logger.warn('weft worker: storing step attempt results failed', error));
      }
    }
  }

  /** Renews the leases of the attempts executing here; aborts those no longer held. */
  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    const { attempts, services } = this.options;
    try {
      const held = new Set(await attempts.renew(services.instanceId, ids, services.clock.now() + services.leaseMs));
      for (const id of ids) if (!held.has(id)) this.running.get(id)?.abort();
    } catch (error) {
      services.logger.warn('weft worker: renewing step attempt leases failed; will retry', error);
    }
  }
}
