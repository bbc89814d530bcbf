// Appends a run's journal entries: numbers them, folds them into the projection, writes them to
// storage in batches (flushed before any user code runs), and announces what is stored to whoever
// follows the run, through a callback: the writer knows nothing of events or listeners.
import { DeferredEntry } from './encoding.js';
import type { JournalEntry, JournalStore, RunChange } from '../storage/types.js';
import type { EntryDataMap, EntryType } from './entries.js';
import type { RunProjection } from './projection.js';

/**
 * How a writer tells whoever follows its run about the entries it stores. Called as an entry is
 * added (numbered and folded into the projection already), it returns what to do once the entry is
 * stored, or undefined when there is nothing to announce (nobody follows the run, or the entry
 * stands for no event). The writer calls the returned function once the write that carries the
 * entry succeeds, in seq order, and never if that write is refused or fails. Its failure never
 * touches the run.
 */
export type Announce = <T extends EntryType>(type: T, data: EntryDataMap[T], seq: number) => (() => void) | undefined;

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
  /** Called once the run is claimed, before the entries added meanwhile are announced. */
  claimed?: () => void;
}

/** What a `JournalWriter` writes to, for which run, and from where. */
export interface JournalWriterOptions {
  store: JournalStore;
  runId: string;
  /** The epoch this owner holds (with `claim`, the one the claim replaces). */
  epoch: number;
  /** The seq of the last entry stored: the first entry added gets the next. */
  lastSeq: number;
  /** The run's projection, which every added entry is folded into. */
  projection: RunProjection;
  /** Output entries (`step-output`, `custom`) stored per run; later ones are announced but not stored. */
  maxOutputEntries: number;
  /** The clock that dates entries added without a time. */
  now: () => number;
  /** Tells followers of the run about stored entries; without it nothing is announced. */
  announce?: Announce;
  /** The claim the first write makes, when the run is not claimed yet. */
  claim?: DeferredClaim;
  /**
   * The run's journal as stored before this writer's entries, which the writer extends with each entry
   * it writes (`takeJournal`), up to `maxJournal` entries and `maxJournalText` characters of JSON text
   * (past either it lets the copy go).
   */
  journal?: JournalEntry[];
  maxJournal?: number;
  maxJournalText?: number;
}

/** Entry types a step adds while it executes (`writer.write`, `writer.custom`). */
const isOutput = (type: EntryType): boolean => type === 'step-output' || type === 'custom';

/** Calls an announcement, keeping its failure away from the run. */
function announceNow(show: () => void): void {
  try {
    show();
  } catch {
    // A follower's failure never touches the run.
  }
}

export class JournalWriter {
  private pending: JournalEntry[] = [];
  private chain: Promise<void> = SETTLED;
  private failure: unknown = undefined;

  readonly runId: string;
  /** The epoch this owner holds; appends carrying it are refused once another owner claims the run. */
  epoch: number;
  private seq: number;
  private readonly store: JournalStore;
  private readonly projection: RunProjection;
  private readonly maxOutputEntries: number;
  private readonly now: () => number;
  private readonly announce: Announce | undefined;

  constructor(options: JournalWriterOptions) {
    this.store = options.store;
    this.runId = options.runId;
    this.epoch = options.epoch;
    this.seq = options.lastSeq;
    this.projection = options.projection;
    this.maxOutputEntries = options.maxOutputEntries;
    this.now = options.now;
    this.announce = options.announce;
    this.copy = options.journal;
    this.maxJournal = options.maxJournal ?? Infinity;
    this.maxJournalText = options.maxJournalText ?? Infinity;
    const { claim } = options;
    this.claim = claim;
    this.onClaimed = claim?.claimed;
    this.claimPending = claim !== undefined;
  }

  private readonly onClaimed: (() => void) | undefined;

  /** The claim not yet written; undefined once it is sent (or when the run was claimed before). */
  private claim: DeferredClaim | undefined;
  /** True until the claim is made: followers have heard of nothing yet, and there is no lease to renew. */
  private claimPending: boolean;
  private refused = false;
  /**
   * Announcements of entries added but not yet stored, in seq order (`heldSeqs` gives each one's
   * seq): made once the write that stores them succeeds, dropped if it is refused, so a follower
   * never hears of what the store will not have.
   */
  private readonly held: (() => void)[] = [];
  private readonly heldSeqs: number[] = [];
  /** A write was refused or failed: nothing this writer adds is stored, so nothing more is announced. */
  private silenced = false;
  /** A flush of step output, for followers that wait for it, is scheduled. */
  private outputFlush = false;

  /** True until the run is claimed: its followers have heard of nothing yet, and it holds no lease to renew. */
  get claiming(): boolean {
    return this.claimPending;
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

  /** Writes `claim` with what is pending; the entries it stores are shown once it is made. */
  private sendClaim(claim: DeferredClaim, change?: RunChange): Promise<void> {
    this.inFlight++;
    const upTo = this.seq;
    this.chain = claim.write(this.takePending(), change).then(
      (epoch) => {
        this.claimPending = false;
        this.epoch = epoch;
        this.inFlight--;
        this.onClaimed?.();
        this.showStored(upTo);
      },
      (error: unknown) => {
        this.claimPending = false;
        this.refused = true;
        return this.writeFailed(error);
      },
    );
    return this.chain;
  }

  /**
   * Stores what is pending with `write` (the run's last change, which carries the last entries) and
   * shows it once stored. `write` resolves with null when its condition did not hold: nothing was
   * stored, and nothing is shown.
   */
  writeLast<T>(write: (entries: JournalEntry[]) => Promise<T | null>): Promise<T | null> {
    const upTo = this.seq;
    return write(this.takePending()).then(
      (stored) => {
        if (stored === null) this.silence();
        else this.showStored(upTo);
        return stored;
      },
      (error: unknown) => {
        this.silence();
        throw error;
      },
    );
  }

  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Records an entry (at `at`, by default now): numbered, folded into the projection, queued for
   * storage, and announced once stored. For a durable store its text is made first, as of
   * now (later code, a stream consumer or a condition, may change the objects; what a step hands to
   * its writer stays in its hands): a value that cannot be serialized throws here, before anything
   * changed. `text` is the data's JSON text when the caller made it already.
   */
  add<T extends EntryType>(type: T, data: EntryDataMap[T], at: number = this.now(), text?: string): void {
    const seq = this.seq + 1;
    const entry = new DeferredEntry(seq, type, data, at, text);
    const output = isOutput(type);
    if (!this.store.keepsValues || output) void entry.data;
    this.seq = seq;
    this.projection.apply(type, data, seq, at);
    // The bound is per run: the projection counts the output entries of earlier executions too.
    const kept = !output || this.projection.outputEntries <= this.maxOutputEntries;
    if (kept) this.pending.push(entry);
    if (this.silenced || !this.announce) return;
    const show = this.announce(type, data, seq);
    if (!show) return;
    // Output past the bound is never stored: it is announced at once, in its place among the others.
    if (!kept && this.held.length === 0) return announceNow(show);
    this.held.push(show);
    this.heldSeqs.push(seq);
    if (output && !this.outputFlush) {
      // Somebody follows the step's output live: store it soon, rather than when the step ends.
      this.outputFlush = true;
      queueMicrotask(this.flushOutput);
    }
  }

  private readonly flushOutput = (): void => {
    this.outputFlush = false;
    this.flushNow()?.catch(noop); // a failure is kept in `failed` and met by the step's next flush
  };

  /** Makes the held announcements of entries up to `upTo`, now stored. */
  private showStored(upTo: number): void {
    const { held, heldSeqs } = this;
    if (held.length === 0 || this.silenced) return;
    let n = 0;
    while (n < held.length && heldSeqs[n]! <= upTo) announceNow(held[n++]!);
    if (n === held.length) {
      held.length = 0;
      heldSeqs.length = 0;
    } else {
      held.splice(0, n);
      heldSeqs.splice(0, n);
    }
  }

  /** A write was refused: what was held is never announced, nor anything after it. */
  private silence(): void {
    this.silenced = true;
    this.held.length = 0;
    this.heldSeqs.length = 0;
  }

  /** Entries not yet written, taken out of the queue (for a final write that carries them with a status change). */
  private takePending(): JournalEntry[] {
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      if (this.afterJournal) this.afterJournal();
      else if (this.copy) this.extendCopy(this.copy, batch);
    }
    return batch;
  }

  private copy: JournalEntry[] | undefined;
  private copyText = 0;
  private readonly maxJournal: number;
  private readonly maxJournalText: number;
  /** Called at each write after the journal was taken. */
  private afterJournal: (() => void) | undefined = undefined;

  private extendCopy(copy: JournalEntry[], batch: readonly JournalEntry[]): void {
    if (copy.length + batch.length > this.maxJournal) {
      this.copy = undefined;
      return;
    }
    for (const entry of batch) {
      this.copyText += entry.data.length;
      copy.push(entry);
    }
    if (this.copyText > this.maxJournalText) this.copy = undefined;
  }

  /**
   * The run's whole journal as this writer's writes left it (given the journal before them), once they
   * are all stored: undefined when none was given, it grew past its bounds, or entries wait to be
   * written. The writer copies no more; `later` is called at each write it still makes (a step's output
   * written after its end, say), which the journal taken lacks.
   */
  takeJournal(later: () => void): readonly JournalEntry[] | undefined {
    const journal = this.pending.length === 0 ? this.copy : undefined;
    this.copy = undefined;
    this.afterJournal = later;
    return journal;
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
    if (this.gathering) return this.gathering;
    // A store that writes asynchronously gets the run's next write a microtask later when none is on its
    // way: what the run adds meanwhile goes with it. The arms of a parallel or branch block (the first
    // items of a foreach) start in one pass: each flushes its start before its code runs, and they all
    // begin once the one write holding every start is stored, rather than the first a write ahead of
    // the others (as in the reference, where they start together).
    if (!this.store.appendJournalNow && this.inFlight === 0 && (this.claim || this.pending.length > 0)) {
      this.gathering = Promise.resolve().then(this.sendGathered);
      return this.gathering;
    }
    return this.send();
  }

  /** The write gathered by `flushNow`, after the microtask. */
  private gathering: Promise<void> | undefined = undefined;

  private readonly sendGathered = (): Promise<void> => {
    this.gathering = undefined;
    return this.send() ?? this.chain;
  };

  /** `flushNow` without gathering: writes what is queued now. */
  private send(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { claim } = this;
    if (claim) {
      this.claim = undefined;
      return this.sendClaim(claim);
    }
    if (this.pending.length === 0) {
      if (this.inFlight > 0) return this.nextWrite ?? this.chain;
      // Everything is stored; what is held is output past the bound, that no write will carry.
      this.showStored(this.seq);
      return undefined;
    }
    const { store } = this;
    if (store.appendJournalNow && this.inFlight === 0) {
      const upTo = this.seq;
      const batch = this.takePending();
      try {
        store.appendJournalNow(this.runId, this.epoch, batch);
      } catch (error) {
        this.failure = error;
        this.silence();
        this.chain = Promise.reject(error);
        this.chain.catch(() => undefined);
        return this.chain;
      }
      this.showStored(upTo);
      return undefined;
    }
    // One write of the run on its way at a time (the claim included: the epoch to write with comes with
    // it). What is added meanwhile goes in the next write, issued as that one settles, with everything
    // pending then: the ends of a wide foreach or parallel block share commits rather than queue for one each.
    if (this.inFlight > 0) return (this.nextWrite ??= this.chain.then(this.writeNext, this.writeNext));
    const upTo = this.seq;
    const batch = this.takePending();
    let appended: Promise<void>;
    try {
      appended = store.appendJournal(this.runId, this.epoch, batch);
    } catch (error) {
      appended = Promise.reject(error);
    }
    // Nothing held: no announcement waits for this write (those of later entries wait for later writes).
    const onWritten =
      this.held.length === 0
        ? this.written
        : (): void => {
            this.inFlight--;
            this.showStored(upTo);
          };
    this.chain = appended.then(onWritten, this.writeFailed);
    this.inFlight++;
    return this.chain;
  }

  /** The write that follows the one on its way, once asked for. */
  private nextWrite: Promise<void> | undefined = undefined;

  private readonly writeNext = (): Promise<void> => {
    this.nextWrite = undefined;
    return this.send() ?? this.chain;
  };

  private inFlight = 0;

  private readonly written = (): void => {
    this.inFlight--;
  };

  private readonly writeFailed = (error: unknown): never => {
    this.inFlight--;
    this.failure = error;
    this.silence();
    throw error;
  };

  /** Waits for writes in flight, ignoring their failure (the caller reads `failed`). */
  settle(): Promise<void> | undefined {
    if (this.inFlight === 0 && this.nextWrite === undefined && this.gathering === undefined) return undefined;
    // The write gathering (not sent yet), or the one on its way, then the one that follows it, if asked for meanwhile.
    return (this.gathering ?? this.nextWrite ?? this.chain).then(noop, noop).then(() => this.settle());
  }

  get failed(): unknown {
    return this.failure;
  }
}
