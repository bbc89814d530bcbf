// Writes issued in the same tick, committed together by one SQLite transaction in the order they were issued.
import type { Database } from 'better-sqlite3';
import { WeftError } from '../../errors.js';

/** One write waiting for the next group commit. */
interface QueuedWrite {
  action: string;
  runId: string | undefined;
  apply(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How long one scheduled transaction may hold the event loop (ms). */
const SLICE_MS = 4;

/** Writes per transaction from which the next commit waits for a turn of the event loop, grouping more. */
const AWAIT_TURN_FROM = 8;

/** Turns an unexpected driver error into the error to give callers. */
export type FailureWrapper = (action: string, runId: string | undefined, error: unknown) => unknown;

/**
 * The writes queued in the same tick are applied together by `BEGIN IMMEDIATE` transactions, one
 * commit for many runs: a thousand runs created, claimed or stepped at once cost a few commits,
 * not a thousand. Each scheduled transaction takes as many writes as fit in about 4 ms, the rest
 * going to the next turn of the event loop. A write that fails with a WeftError (a stale epoch, a bad seq) is rejected alone, so
 * it must leave nothing behind (check before writing, or run as a nested transaction); any other
 * error rolls the transaction back and fails every write it had applied, and the one that threw;
 * the writes after it go to the next transaction.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  /** Applies writes from the head of the queue in one transaction, until the queue or the time (`deadline`) runs out. */
  private readonly commit: (queue: readonly QueuedWrite[], outcomes: Outcome[], deadline: number) => void;

  constructor(
    private readonly db: Database,
    private readonly wrapFailure: FailureWrapper,
    /**
     * How long a commit waits for another connection's write lock before its writes fail (ms). The
     * connection itself must not wait (`busy_timeout = 0`): a scheduled commit that finds the lock
     * taken tries again 1 ms later, so the event loop goes on meanwhile, and waiting writers of
     * several processes each get their turn.
     */
    private readonly busyTimeoutMs = 5000,
    /** Called after each commit. */
    private readonly committed: () => void = () => undefined,
  ) {
    this.commit = db.transaction((queue: readonly QueuedWrite[], outcomes: Outcome[], deadline: number) => {
      for (const write of queue) {
        this.applying = true;
        try {
          outcomes.push({ ok: true, value: write.apply() });
        } catch (error) {
          if (!WeftError.is(error)) throw error;
          outcomes.push({ ok: false, error });
        }
        this.applying = false;
        if (performance.now() >= deadline) break;
      }
    }).immediate;
  }

  /** Queues `apply` (run inside the group's transaction); resolves with its result once committed. */
  write<T>(action: string, runId: string | undefined, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ action, runId, apply, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Schedules the commit of the queued writes. It runs in a tick (`process.nextTick`), once the
   * microtasks running now have drained: every run they move on issues its writes before it, so
   * they share the commit, and a run stepping alone waits for no turn of the event loop. It waits
   * for a turn (`setImmediate`) instead after a transaction of `AWAIT_TURN_FROM` writes or more:
   * many runs are stepping, and a turn groups the writes of all it moves on (with every commit in
   * a tick, a thousand runs made 1.5 times as many commits and wrote a quarter more WAL pages); and
   * once commits chained in ticks (a write awaited, the next issued) have held the event loop for
   * `SLICE_MS`, so that a loop of awaited writes never starves timers and I/O.
   */
  private schedule(): void {
    if (this.scheduled) return;
    const now = performance.now();
    if (this.turnStarted === 0) {
      this.turnStarted = now;
      setImmediate(this.turned);
    }
    if (this.lastGroup >= AWAIT_TURN_FROM || now - this.turnStarted >= SLICE_MS) {
      this.scheduleTurn();
    } else {
      this.scheduled = true;
      process.nextTick(this.commitSlice);
    }
  }

  /** Schedules the commit for the next turn of the event loop. */
  private scheduleTurn(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.commitSlice);
  }

  /** How many writes the last transaction committed. */
  private lastGroup = 0;

  /** When the first commit since the event loop last turned was scheduled (0: none since). */
  private turnStarted = 0;
  private readonly turned = (): void => {
    this.turnStarted = 0;
  };

  /**
   * The scheduled commit: one transaction of the writes that fit in about `SLICE_MS`, the rest in
   * the next turn of the event loop, so that a thousand runs stepping at once do not hold timers
   * and I/O for tens of milliseconds.
   */
  private readonly commitSlice = (): void => {
    this.scheduled = false;
    if (!this.commitQueued(performance.now() + SLICE_MS)) return;
    if (this.queue.length > 0) this.scheduleTurn();
  };

  /** Since when commits have found the write lock taken (0: the last attempt did not). */
  private busySince = 0;
  /** True while a write's `apply` runs (so an error thrown then is that write's, not the commit's). */
  private applying = false;

  /** The write lock was taken: try again in a moment, or fail the queued writes once waiting took too long. */
  private retryWhenFree(error: unknown): void {
    const now = performance.now();
    if (this.busySince === 0) this.busySince = now;
    if (now - this.busySince < this.busyTimeoutMs) {
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(this.commitSlice, 1);
      }
      return;
    }
    this.busySince = 0;
    const queue = this.queue;
    this.queue = [];
    for (const write of queue) write.reject(this.wrapFailure(write.action, write.runId, error));
  }

  /**
   * Commits every queued write now. Other operations call this first, so that nothing issued
   * after a write (without awaiting it) overtakes it. If another connection holds the write lock,
   * this one waits for it here, blocking, as long as the busy timeout allows.
   */
  flush(): void {
    // Each pass commits or fails at least one write; a driver error requeues the writes after the one it failed.
    while (this.queue.length > 0) {
      if (this.commitQueued(Infinity)) continue;
      const before = this.db.pragma('busy_timeout', { simple: true }) as number;
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      try {
        this.commitQueued(Infinity, true);
      } finally {
        this.db.pragma(`busy_timeout = ${before}`);
      }
    }
  }

  /**
   * Commits queued writes in one transaction, in the order they were issued: all of them, or those
   * applied by `deadline`. Returns false, keeping them queued, when the write lock was taken.
   */
  private commitQueued(deadline: number, failWhenBusy = false): boolean {
    const queue = this.queue;
    if (queue.length === 0) return true;
    this.queue = [];
    const outcomes: Outcome[] = [];
    this.applying = false;
    try {
      this.commit(queue, outcomes, deadline);
    } catch (error) {
      if (!failWhenBusy && outcomes.length === 0 && (error as { code?: unknown }).code === 'SQLITE_BUSY') {
        this.requeue(queue, 0, false);
        this.retryWhenFree(error);
        return false;
      }
      this.busySince = 0;
      // Nothing of this transaction was kept: every write it applied fails, and the one that threw, if one did.
      // Nothing applied and no write threw: the transaction itself failed to begin, so every write queued fails.
      const failed =
        outcomes.length === 0 && !this.applying
          ? queue.length
          : Math.min(queue.length, outcomes.length + (this.applying ? 1 : 0));
      this.applying = false;
      for (let i = 0; i < failed; i++) {
        const outcome = outcomes[i];
        const write = queue[i]!;
        write.reject(outcome && !outcome.ok ? outcome.error : this.wrapFailure(write.action, write.runId, error));
      }
      this.requeue(queue, failed);
      return true;
    }
    this.busySince = 0;
    this.lastGroup = outcomes.length;
    this.committed();
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) queue[i]!.resolve(outcome.value);
      else queue[i]!.reject(outcome.error);
    }
    this.requeue(queue, outcomes.length);
    return true;
  }

  /** Puts back, ahead of anything queued since, the writes after the first `done`. */
  private requeue(queue: QueuedWrite[], done: number, schedule = true): void {
    if (done >= queue.length) return;
    const rest = done === 0 ? queue : queue.slice(done);
    this.queue = this.queue.length === 0 ? rest : rest.concat(this.queue);
    if (schedule && !this.scheduled) this.schedule();
  }
}
