// Appends a run's journal entries: numbers them, folds them into the projection, tells live
// listeners, and writes them to storage in batches (flushed before any user code runs).
import { DeferredEntry } from '../storage/deferred-entry.js';
import type { JournalEntry, JournalStore, RunChange } from '../storage/types.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { entryToEvent } from '../events/to-events.js';
import type { EntryDataMap, EntryType } from './journal-entries.js';
import type { RunProjection } from './run-projection.js';

/** Finds the listeners of a run, if any (a map lookup: free when nobody listens). */
export type ListenerLookup = (runId: string) => ReadonlySet<(event: WorkflowEvent) => void> | undefined;

const noop = (): void => undefined;

/** The chain of a writer that wrote nothing yet: one settled promise for all of them. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * The claim of a run, made by the writer's first write rather than by a write of its own: the run
 * becomes this owner's in the same transaction that stores the first entries (one commit fewer per
 * start and resume). No user code runs before the first write, so none runs for a run not claimed.
 */
export interface DeferredClaim {
  /**
   * Claims the run and stores `entries` with it, applying `change` on top of the claim's own (a run
   * that ends before its first write claims and ends in one). Resolves with the epoch now held, or
   * rejects with why the claim was refused.
   */
  write(entries: readonly JournalEntry[], change?: RunChange): Promise<number>;
  /** Called once the run is claimed, before the entries added meanwhile are shown to listeners. */
  claimed?: () => void;
}

export class JournalWriter {
  private pending: JournalEntry[] = [];
  private chain: Promise<void> = SETTLED;
  private failure: unknown = undefined;

  constructor(
    private readonly store: JournalStore,
    readonly runId: string,
    private readonly workflowId: string,
    /** The epoch this owner holds; appends carrying it are refused once another owner claims the run. */
    public epoch: number,
    private seq: number,
    private readonly projection: RunProjection,
    private readonly listeners: ListenerLookup,
    private readonly maxOutputEntries: number,
    private readonly now: () => number,
    claim?: DeferredClaim,
  ) {
    this.claim = claim;
    this.onClaimed = claim?.claimed;
    if (claim) this.unannounced = [];
  }

  private readonly onClaimed: (() => void) | undefined;

  /** The claim not yet written; undefined once it is sent (or when the run was claimed before). */
  private claim: DeferredClaim | undefined;
  /** Entries added before the claim was made: shown to listeners once it is (none if it is refused). */
  private unannounced: [EntryType, unknown, number][] | undefined;
  private refused = false;

  /** True until the run is claimed: its listeners have seen nothing yet, and it holds no lease to renew. */
  get claiming(): boolean {
    return this.unannounced !== undefined;
  }

  /** True when the deferred claim was refused (another owner, a cancel, or no such run). */
  get claimRefused(): boolean {
    return this.refused;
  }

  /**
   * Makes the claim not written yet, in one write that also applies `change` and stores what is
   * pending (a run that ends before its first write). Undefined when the claim was made already.
   */
  claimWith(change: RunChange): Promise<void> | undefined {
    const claim = this.claim;
    if (!claim) return undefined;
    this.claim = undefined;
    return this.sendClaim(claim, change);
  }

  /** Writes `claim` with what is pending; the entries added meanwhile are announced once it is made. */
  private sendClaim(claim: DeferredClaim, change?: RunChange): Promise<void> {
    this.inFlight++;
    this.chain = claim.write(this.takePending(), change).then(
      (epoch) => {
        const entries = this.unannounced!;
        this.unannounced = undefined;
        this.epoch = epoch;
        this.inFlight--;
        this.onClaimed?.();
        for (const [type, data, seq] of entries) this.announce(type, data as never, seq);
      },
      (error: unknown) => {
        this.unannounced = undefined;
        this.refused = true;
        return this.writeFailed(error);
      },
    );
    return this.chain;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Records an entry (at `at`, by default now): numbered, folded into the projection, shown to
   * listeners, queued for storage. For a durable store its text is made first, as of now (later
   * code, a stream consumer or a condition, may change the objects; what a step hands to its writer
   * stays in its hands): a value that cannot be serialized throws here, before anything changed.
   * `text` is the data's JSON text when the caller made it already.
   */
  add<T extends EntryType>(type: T, data: EntryDataMap[T], at: number = this.now(), text?: string): void {
    const seq = this.seq + 1;
    const entry = new DeferredEntry(seq, type, data, at, text);
    if (!this.store.keepsValues || type === 'step-output' || type === 'custom') void entry.data;
    this.seq = seq;
    this.projection.apply(type, data, seq, at);
    if (this.unannounced) this.unannounced.push([type, data, seq]);
    else this.announce(type, data, seq);
    // The bound is per run: the projection counts the output entries of earlier executions too.
    if ((type === 'step-output' || type === 'custom') && this.projection.outputEntries > this.maxOutputEntries) return;
    this.pending.push(entry);
  }

  /** Shows an entry to the run's listeners as its event. */
  private announce<T extends EntryType>(type: T, data: EntryDataMap[T], seq: number): void {
    const set = this.listeners(this.runId);
    if (!set || set.size === 0) return;
    const started =
      type === 'step-end' ? this.projection.records.get((data as EntryDataMap['step-end']).key) : undefined;
    const event = entryToEvent(type, data, seq, this.runId, this.workflowId, started);
    if (!event) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch {
        // A listener's failure never touches the run.
      }
    }
  }

  /** Entries not yet written, taken out of the queue (for a final write that carries them with a status change). */
  takePending(): JournalEntry[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  /** Writes what is queued. Resolves once stored; rejects (and keeps rejecting) if a write failed. */
  flush(): Promise<void> {
    return this.flushNow() ?? this.chain;
  }

  /**
   * Writes what is queued, returning undefined when it is stored already (nothing was queued, or
   * the store appends at once): the hot path then awaits nothing. Otherwise as `flush`.
   */
  flushNow(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { claim } = this;
    if (claim) {
      this.claim = undefined;
      return this.sendClaim(claim);
    }
    if (this.pending.length === 0) return this.inFlight === 0 ? undefined : this.chain;
    const { store } = this;
    if (store.appendJournalNow && this.inFlight === 0) {
      const batch = this.takePending();
      try {
        store.appendJournalNow(this.runId, this.epoch, batch);
        return undefined;
      } catch (error) {
        this.failure = error;
        this.chain = Promise.reject(error);
        this.chain.catch(() => undefined);
        return this.chain;
      }
    }
    if (this.unannounced) {
      // The claim is on its way and the epoch to write with comes with it: what is pending then
      // (these entries and any added meanwhile) goes in one write once it is made.
      this.afterClaim ??= this.chain.then(() => {
        this.afterClaim = undefined;
        return this.flushNow() ?? this.chain;
      });
      return this.afterClaim;
    }
    // Issued now, even behind writes in flight: the store applies one run's appends in the order they
    // were issued, so parallel branches ending together share a commit rather than queue for one each.
    const batch = this.takePending();
    let appended: Promise<void>;
    try {
      appended = store.appendJournal(this.runId, this.epoch, batch);
    } catch (error) {
      appended = Promise.reject(error);
    }
    const written = appended.then(this.written, this.writeFailed);
    if (this.inFlight === 0) this.chain = written;
    else {
      written.catch(noop); // its failure reaches callers through the chain (or an earlier one did)
      // Settles once every write has: after an earlier failure too (keeping that failure), so that
      // `settle()` never returns with a write still on its way.
      this.chain = this.chain.then(
        () => written,
        (error: unknown) =>
          written.then(
            () => Promise.reject(error),
            () => Promise.reject(error),
          ),
      );
    }
    this.inFlight++;
    return this.chain;
  }

  /** The write that follows the claim, while it is on its way. */
  private afterClaim: Promise<void> | undefined = undefined;

  private inFlight = 0;

  private readonly written = (): void => {
    this.inFlight--;
  };

  private readonly writeFailed = (error: unknown): never => {
    this.inFlight--;
    this.failure = error;
    throw error;
  };

  /** Waits for writes in flight, ignoring their failure (the caller reads `failed`). */
  settle(): Promise<void> | undefined {
    return this.inFlight === 0 ? undefined : this.chain.then(noop, noop);
  }

  get failed(): unknown {
    return this.failure;
  }
}
