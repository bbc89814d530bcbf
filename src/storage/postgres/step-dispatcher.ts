// The coordinator's side of fan-out: a run executing here stores its step attempts for any worker and waits for their results.
import { randomUUID } from 'node:crypto';
import type { AttemptResult, DispatchedAttempt, StepDispatch } from '../types.js';
import { toJson } from '../../journal/encoding.js';
import type { AttemptOutcome, NewAttempt, PgDispatchedAttempts } from './dispatched-attempts.js';
import type { PgJournalNotifier } from './pg-notifier.js';

/** A dispatched attempt this process waits for. */
interface Waiter {
  runId: string;
  resolve(result: AttemptResult): void;
  reject(error: unknown): void;
}

/** How long deletions of recorded attempts are gathered before they go out in one statement. */
const DELETE_DELAY_MS = 50;

/**
 * Stores the attempts of the runs executing here for any worker (those added in one turn of the event
 * loop go in one statement), and settles each with its result: told by the workers' notification on
 * the run, and, should one be lost, by a poll of the attempts still awaited every `pollMs`.
 */
export class PgStepDispatcher implements StepDispatch {
  private readonly waiting = new Map<string, Waiter>();
  private queued: NewAttempt[] = [];
  private inserting = false;
  private readonly toCollect = new Set<string>();
  private collecting = false;
  /** Runs whose attempts to cancel, with the epoch of their execution here. */
  private readonly toCancel = new Map<string, number>();
  private canceling = false;
  private toDelete: string[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly attempts: PgDispatchedAttempts,
    private readonly notifier: PgJournalNotifier,
    private readonly now: () => number,
    private readonly logger: { warn(message: string, ...details: unknown[]): void },
    private readonly pollMs: number,
  ) {}

  /** Listens for finished attempts, from the first one dispatched (a process that dispatches none holds no LISTEN for it). */
  private listen(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.notifier.subscribeSignal(this.attempts.doneChannel, (runId) => {
      // An empty payload: listening (re)started, and results may have come meanwhile.
      if (runId === '') this.collectAll();
      else if (this.awaits(runId)) this.collect(runId);
    });
    this.pollTimer = setInterval(() => this.collectAll(), this.pollMs);
    this.pollTimer.unref();
  }

  newId(): string {
    return randomUUID();
  }

  /** The slots of the worker in this process, which steps take before they are dispatched (set by `runWorker`). */
  localSlots: { take(): (() => void) | undefined } | undefined = undefined;

  takeLocalSlot(): (() => void) | undefined {
    return this.localSlots?.take();
  }

  attempt(attempt: DispatchedAttempt): Promise<AttemptResult> {
    if (this.closed) return Promise.reject(new Error('The step dispatcher is closed'));
    this.listen();
    const call = toJson({
      inputData: attempt.inputData,
      state: attempt.state,
      requestContext: attempt.requestContext,
      retryCount: attempt.retryCount,
      restarting: attempt.restarting,
    });
    return new Promise<AttemptResult>((resolve, reject) => {
      this.waiting.set(attempt.attemptId, { runId: attempt.runId, resolve, reject });
      this.queued.push({
        attemptId: attempt.attemptId,
        dispatchId: attempt.dispatchId,
        runId: attempt.runId,
        workflowId: attempt.workflowId,
        stepKey: attempt.key,
        epoch: attempt.epoch,
        call,
      });
      if (!this.inserting && this.queued.length === 1) setImmediate(() => void this.insert());
    });
  }

  stop(runId: string, epoch: number, cancel: boolean): void {
    for (const [attemptId, waiter] of this.waiting) if (waiter.runId === runId) this.waiting.delete(attemptId);
    this.queued = this.queued.filter((attempt) => attempt.runId !== runId);
    if (!cancel) return;
    this.toCancel.set(runId, epoch);
    void this.cancelNow();
  }

  recorded(dispatchId: string): void {
    if (this.closed) return;
    this.toDelete.push(dispatchId);
    this.deleteTimer ??= setTimeout(() => void this.deleteNow(), DELETE_DELAY_MS);
  }

  /** Stops waiting for results and stores the pending deletions. The attempts stay for whoever continues their runs. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.pollTimer);
    clearTimeout(this.deleteTimer);
    await this.deleteNow();
  }

  private awaits(runId: string): boolean {
    for (const waiter of this.waiting.values()) if (waiter.runId === runId) return true;
    return false;
  }

  /** Stores the queued attempts (one statement per batch); those found done already are settled at once. */
  private async insert(): Promise<void> {
    this.inserting = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        try {
          this.settle(await this.attempts.insert(batch, this.now()));
        } catch (error) {
          for (const attempt of batch) {
            const waiter = this.waiting.get(attempt.attemptId);
            this.waiting.delete(attempt.attemptId);
            waiter?.reject(error);
          }
        }
      }
    } finally {
      this.inserting = false;
    }
  }

  private collect(runId: string): void {
    this.toCollect.add(runId);
    if (!this.collecting) void this.collectNow();
  }

  private collectAll(): void {
    if (this.waiting.size === 0) return;
    for (const waiter of this.waiting.values()) this.toCollect.add(waiter.runId);
    if (!this.collecting) void this.collectNow();
  }

  /** Reads the results of the awaited attempts of the runs told about, until none is left to read. */
  private async collectNow(): Promise<void> {
    this.collecting = true;
    try {
      while (this.toCollect.size > 0) {
        const runs = new Set(this.toCollect);
        this.toCollect.clear();
        const ids: string[] = [];
        for (const [attemptId, waiter] of this.waiting) if (runs.has(waiter.runId)) ids.push(attemptId);
        if (ids.length === 0) continue;
        try {
          this.settle(await this.attempts.results(ids));
        } catch (error) {
          this.logger.warn('weft: reading the results of dispatched steps failed; will retry', error);
        }
      }
    } finally {
      this.collecting = false;
    }
  }

  private settle(outcomes: readonly AttemptOutcome[]): void {
    for (const outcome of outcomes) {
      const waiter = this.waiting.get(outcome.attemptId);
      if (!waiter) continue;
      this.waiting.delete(outcome.attemptId);
      try {
        waiter.resolve(JSON.parse(outcome.result) as AttemptResult);
      } catch (error) {
        waiter.reject(error);
      }
    }
  }

  private async cancelNow(): Promise<void> {
    if (this.canceling) return;
    this.canceling = true;
    try {
      while (this.toCancel.size > 0) {
        const runs = [...this.toCancel].map(([runId, epoch]) => ({ runId, epoch }));
        this.toCancel.clear();
        await this.attempts
          .cancel(runs)
          .catch((error: unknown) => this.logger.warn('weft: canceling dispatched steps failed', error));
      }
    } finally {
      this.canceling = false;
    }
  }

  private async deleteNow(): Promise<void> {
    this.deleteTimer = undefined;
    const dispatchIds = this.toDelete;
    this.toDelete = [];
    if (dispatchIds.length === 0) return;
    // Left behind, they are deleted with their run (its retention, `prune` or `deleteRun`).
    await this.attempts
      .delete(dispatchIds)
      .catch((error: unknown) => this.logger.warn('weft: deleting recorded step attempts failed', error));
  }
}
