// In-process storage: the default for workflows never registered with a store, and for tests.
import { DeferredEntry } from '../../journal/encoding.js';
import { checkJournalBatch, conditionHolds, ownershipLost, seqNotAfterJournal } from '../journal-checks.js';
import type {
  JournalEntry,
  JournalNotifier,
  NewRun,
  PruneFilter,
  RunChange,
  RunCondition,
  RunFilter,
  ScheduleDefinition,
  ScheduleFire,
  ScheduleFireClaim,
  StoredRun,
  StoredSchedule,
  WeftStorage,
} from '../types.js';
import { MemorySchedules } from './memory-schedules.js';
import { ACTIVE_STATUSES } from '../types.js';
import { checkPruneFilter } from '../prune-filter.js';
import { pendingRunRow } from '../pending-run.js';

/**
 * A run and its journal, the journal in two flat arrays: entries are the bulk of what a memory store
 * keeps, and an object per entry (with its boxed time) would be most of that, and most of the
 * garbage collector's copying while runs are young.
 */
interface MemoryRun {
  row: StoredRun;
  /** Three slots per entry: its seq, its type, and its data (a value, or JSON text in a `KeptText`). */
  entries: unknown[];
  /** The entries' times, unboxed. */
  ats: number[];
}

/** Slots per entry in `MemoryRun.entries`. */
const SLOTS = 3;

/** Entry data that came as JSON text (from another caller, or text the engine made). */
class KeptText {
  constructor(readonly text: string) {}
}

/**
 * Keeps runs and journals in memory. The engine's entries are kept as values and turned into JSON
 * text when the journal is first read (most never are), so running costs no serialization; entries
 * from other callers are copied as given. As with Mastra's in-memory store, a value changed after it
 * was recorded (an output object that a later step mutates) is read back changed; the durable
 * stores keep the text of the moment the step finished. Several `Weft` instances may share one
 * `MemoryStorage`; they see each other's runs and entries live.
 *
 * @example
 * const weft = new Weft({ workflows: { order }, storage: new MemoryStorage() });
 */
export class MemoryStorage implements WeftStorage {
  readonly kind = 'memory';
  readonly keepsValues = true;
  readonly writesInOrder = true;
  readonly checksUpdatedAt = true;
  readonly notifier: JournalNotifier;
  private readonly runs = new Map<string, MemoryRun>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly schedules = new MemorySchedules(
    (run) => this.insertRun(run),
    (runId) => this.runs.get(runId)?.row.status ?? null,
  );

  constructor() {
    this.notifier = {
      subscribe: (runId, listener) => {
        let set = this.listeners.get(runId);
        if (!set) this.listeners.set(runId, (set = new Set()));
        set.add(listener);
        return () => {
          set.delete(listener);
          if (set.size === 0) this.listeners.delete(runId);
        };
      },
    };
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  async createRun(run: NewRun): Promise<StoredRun> {
    return this.insertRun(run);
  }

  private insertRun(run: NewRun): StoredRun {
    const existing = this.runs.get(run.runId);
    if (existing) return { ...existing.row };
    const row = pendingRunRow(run);
    this.runs.set(run.runId, { row, entries: [], ats: [] });
    return { ...row };
  }

  async getRun(runId: string): Promise<StoredRun | null> {
    const run = this.runs.get(runId);
    return run ? { ...run.row } : null;
  }

  async listRuns(filter: RunFilter = {}): Promise<{ runs: StoredRun[]; total: number }> {
    const statuses = filter.status === undefined ? undefined : ([] as string[]).concat(filter.status);
    const scheduled = filter.scheduleId === undefined ? undefined : this.schedules.runIdsOf(filter.scheduleId);
    const rows: StoredRun[] = [];
    for (const { row } of this.runs.values()) {
      if (filter.workflowId !== undefined && row.workflowId !== filter.workflowId) continue;
      if (statuses && !statuses.includes(row.status)) continue;
      if (filter.resourceId !== undefined && row.resourceId !== filter.resourceId) continue;
      if (filter.fromDate !== undefined && row.createdAt < filter.fromDate) continue;
      if (filter.toDate !== undefined && row.createdAt > filter.toDate) continue;
      if (scheduled && !scheduled.has(row.runId)) continue;
      rows.push(row);
    }
    rows.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
    const total = rows.length;
    const perPage = filter.perPage;
    const page = filter.page ?? 0;
    const slice = perPage === undefined ? rows : rows.slice(page * perPage, page * perPage + perPage);
    return { runs: slice.map((r) => ({ ...r })), total };
  }

  async deleteRun(runId: string): Promise<boolean> {
    return this.runs.delete(runId);
  }

  async pruneRuns(filter: PruneFilter): Promise<number> {
    checkPruneFilter(filter);
    const deleted: string[] = [];
    for (const [runId, { row }] of this.runs) {
      if (deleted.length === filter.limit) break;
      if (row.updatedAt >= filter.updatedBefore || !filter.statuses.includes(row.status)) continue;
      this.runs.delete(runId);
      deleted.push(runId);
    }
    this.schedules.deleteFiresOf(deleted);
    return deleted.length;
  }

  async updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ): Promise<StoredRun | null> {
    const invalid = entries ? checkJournalBatch(runId, entries) : null;
    if (invalid) throw invalid;
    const run = this.runs.get(runId);
    if (!run) return null;
    const { row } = run;
    if (!conditionHolds(row, condition)) return null;
    if (entries && entries.length > 0) this.checkSeq(run, entries);
    // A field given as `undefined` (e.g. from a spread) means "leave it", as in the SQL adapters.
    if (change.status !== undefined) row.status = change.status;
    if (change.leaseOwner !== undefined) row.leaseOwner = change.leaseOwner;
    if (change.leaseExpiresAt !== undefined) row.leaseExpiresAt = change.leaseExpiresAt;
    if (change.wakeAt !== undefined) row.wakeAt = change.wakeAt;
    if (change.input !== undefined) row.input = change.input;
    if (change.outcome !== undefined) row.outcome = change.outcome;
    row.updatedAt = change.updatedAt;
    if (change.bumpEpoch) row.epoch += 1;
    if (entries && entries.length > 0) this.push(run, entries);
    return { ...row };
  }

  async appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    this.appendJournalNow(runId, epoch, entries);
  }

  appendJournalNow(runId: string, epoch: number, entries: readonly JournalEntry[]): void {
    const run = this.runs.get(runId);
    if (!run || run.row.epoch !== epoch) throw ownershipLost(runId, run ? run.row.epoch : null, epoch);
    this.checkSeq(run, entries);
    this.push(run, entries);
  }

  async readJournal(runId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<JournalEntry[]> {
    const run = this.runs.get(runId);
    if (!run) return [];
    const afterSeq = options.afterSeq ?? 0;
    const { entries, ats } = run;
    // Seqs are dense from 1 in practice, but search to stay correct if they are not.
    let start = 0;
    let hi = ats.length;
    while (start < hi) {
      const mid = (start + hi) >> 1;
      if ((entries[mid * SLOTS] as number) <= afterSeq) start = mid + 1;
      else hi = mid;
    }
    const end = options.limit === undefined ? ats.length : Math.min(ats.length, start + options.limit);
    const out: JournalEntry[] = [];
    for (let i = start; i < end; i++) {
      const seq = entries[i * SLOTS] as number;
      const type = entries[i * SLOTS + 1] as string;
      const value = entries[i * SLOTS + 2];
      out.push(
        value instanceof KeptText
          ? { seq, type, data: value.text, at: ats[i]! }
          : new DeferredEntry(seq, type, value, ats[i]!),
      );
    }
    return out;
  }

  async renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]> {
    const kept: string[] = [];
    for (const runId of runIds) {
      const row = this.runs.get(runId)?.row;
      if (!row || row.leaseOwner !== owner || !ACTIVE_STATUSES.includes(row.status)) continue;
      row.leaseExpiresAt = expiresAt;
      kept.push(runId);
    }
    return kept;
  }

  async listExpiredRuns(now: number, limit: number): Promise<StoredRun[]> {
    const out: StoredRun[] = [];
    for (const { row } of this.runs.values()) {
      if (!ACTIVE_STATUSES.includes(row.status)) continue;
      if (row.leaseExpiresAt !== null && row.leaseExpiresAt >= now) continue;
      out.push({ ...row });
    }
    out.sort((a, b) => a.updatedAt - b.updatedAt || (a.runId < b.runId ? -1 : 1));
    return out.slice(0, limit);
  }

  syncSchedules(workflowIds: readonly string[], schedules: readonly ScheduleDefinition[], at: number): Promise<void> {
    return this.schedules.syncSchedules(workflowIds, schedules, at);
  }

  listSchedules(filter?: { workflowId?: string }): Promise<StoredSchedule[]> {
    return this.schedules.listSchedules(filter);
  }

  getSchedule(scheduleId: string): Promise<StoredSchedule | null> {
    return this.schedules.getSchedule(scheduleId);
  }

  claimScheduleFire(claim: ScheduleFireClaim): Promise<boolean> {
    return this.schedules.claimScheduleFire(claim);
  }

  setSchedulePaused(
    scheduleId: string,
    paused: boolean,
    nextFireAt: number | null,
    at: number,
  ): Promise<StoredSchedule | null> {
    return this.schedules.setSchedulePaused(scheduleId, paused, nextFireAt, at);
  }

  deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.schedules.deleteSchedule(scheduleId);
  }

  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFire[]> {
    return this.schedules.listScheduleFires(scheduleId, limit);
  }

  private checkSeq(run: MemoryRun, entries: readonly JournalEntry[]): void {
    const { runId } = run.row;
    const invalid = checkJournalBatch(runId, entries);
    if (invalid) throw invalid;
    const kept = run.entries;
    const last = kept.length === 0 ? 0 : (kept[kept.length - SLOTS] as number);
    const first = entries[0];
    if (first && first.seq <= last) throw seqNotAfterJournal(runId, first.seq, last);
  }

  private push(run: MemoryRun, entries: readonly JournalEntry[]): void {
    for (const entry of entries) {
      // The engine's entries are kept as values, their text made only if read; other callers' as the text they gave.
      const text = entry instanceof DeferredEntry ? entry.madeText : entry.data;
      run.entries.push(
        entry.seq,
        entry.type,
        text === undefined ? (entry as DeferredEntry).parsed() : new KeptText(text),
      );
      run.ats.push(entry.at);
    }
    const set = this.listeners.get(run.row.runId);
    if (set) for (const listener of [...set]) listener();
  }
}
