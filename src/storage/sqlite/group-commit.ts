// Writes issued in the same tick, committed together by one SQLite transaction in the order they were issued.
import type { Database } from 'better-sqlite3';
import { WeftError } from '../../errors.js';

/** One write waiting for the next group commit. */
interface QueuedWrite {
  action: string;
  runId: string;
  apply(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Turns an unexpected driver error into the error to give callers. */
export type FailureWrapper = (action: string, runId: string, error: unknown) => unknown;

/**
 * Every write queued in the same tick is applied by one `BEGIN IMMEDIATE` transaction, one commit
 * for many runs: a thousand runs created, claimed or stepped at once cost one commit, not a
 * thousand. A write that fails with a WeftError (a stale epoch, a bad seq) is rejected alone, so
 * it must leave nothing behind (check before writing, or run as a nested transaction); any other
 * error fails the whole group.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private readonly commit: (group: readonly QueuedWrite[], outcomes: Outcome[]) => void;

  constructor(
    db: Database,
    private readonly wrapFailure: FailureWrapper,
  ) {
    this.commit = db.transaction((group: readonly QueuedWrite[], outcomes: Outcome[]) => {
      for (const write of group) {
        try {
          outcomes.push({ ok: true, value: write.apply() });
        } catch (error) {
          if (!WeftError.is(error)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    }).immediate;
  }

  /** Queues `apply` (run inside the group's transaction); resolves with its result once committed. */
  write<T>(action: string, runId: string, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ action, runId, apply, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Commits every queued write now. Other operations call this first, so that nothing issued
   * after a write (without awaiting it) overtakes it.
   */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const group = this.queue;
    this.queue = [];
    const outcomes: Outcome[] = [];
    try {
      this.commit(group, outcomes);
    } catch (error) {
      group.forEach((write, i) => {
        const outcome = outcomes[i];
        write.reject(outcome && !outcome.ok ? outcome.error : this.wrapFailure(write.action, write.runId, error));
      });
      return;
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }
}
