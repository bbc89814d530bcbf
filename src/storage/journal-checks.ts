// Checks every storage adapter makes before it stores journal entries or changes a run, and the errors they raise.
import { WeftError } from '../errors.js';
import { DeferredEntry } from '../journal/encoding.js';
import type { JournalEntry, RunChange, RunCondition, StoredRun } from './types.js';

/**
 * Checks one batch on its own, before any storage work: each entry has the contract's shape,
 * seqs are positive integers and strictly increase within the batch. Returns the error to
 * raise, or null when the batch is well formed.
 */
export function checkJournalBatch(runId: string, entries: readonly JournalEntry[]): WeftError | null {
  let previous = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    // The engine's own entries have the contract's shape by construction (and reading their data would serialize it).
    const problem = entry instanceof DeferredEntry ? null : entryShapeProblem(entry);
    if (problem) {
      return new WeftError(
        'INVALID_ARGUMENT',
        `Cannot append to run "${runId}": entry ${i} of the batch ${problem}; entries are { seq: integer > 0, type, data: JSON text, at: epoch ms }`,
        { runId },
      );
    }
    if (entry.seq <= previous) {
      return new WeftError(
        'STORAGE_ERROR',
        i === 0
          ? `Cannot append entry ${entry.seq} to run "${runId}": seqs start at 1`
          : `Cannot append entry ${entry.seq} to run "${runId}": it follows entry ${previous} in the same batch; seqs must increase`,
        { runId },
      );
    }
    previous = entry.seq;
  }
  return null;
}

/** The error for a batch whose first seq is not above the last one stored. */
export function seqNotAfterJournal(runId: string, seq: number, lastSeq: number): WeftError {
  return new WeftError(
    'STORAGE_ERROR',
    `Cannot append entry ${seq} to run "${runId}": its journal already reaches ${lastSeq}; seqs must increase`,
    { runId },
  );
}

/** The error for an append whose epoch is no longer the run's (or whose run is gone). */
export function ownershipLost(runId: string, actualEpoch: number | null, expectedEpoch: number): WeftError {
  return new WeftError(
    'RUN_OWNERSHIP_LOST',
    actualEpoch === null
      ? `Cannot append to run "${runId}": the run does not exist (it may have been deleted)`
      : `Cannot append to run "${runId}": its epoch is ${actualEpoch}, expected ${expectedEpoch}; another owner took it over`,
    { runId },
  );
}

/** What is wrong with an entry that came from untyped code, or null. */
function entryShapeProblem(value: JournalEntry): string | null {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const entry = value as { seq: unknown; type: unknown; data: unknown; at: unknown };
  if (!Number.isSafeInteger(entry.seq)) return `has seq ${String(entry.seq)}, not an integer`;
  if (typeof entry.type !== 'string' || entry.type === '') return `has type ${String(entry.type)}, not a name`;
  if (typeof entry.data !== 'string') return `has data of type ${typeof entry.data}, not JSON text (a string)`;
  if (typeof entry.at !== 'number' || !Number.isFinite(entry.at)) return `has at ${String(entry.at)}, not epoch ms`;
  return null;
}

/** Whether a stored run meets a compare-and-set's condition (`updateRun`). */
export function conditionHolds(row: StoredRun, condition: RunCondition): boolean {
  return (
    (condition.status === undefined || condition.status.includes(row.status)) &&
    (condition.epoch === undefined || condition.epoch === row.epoch) &&
    (condition.updatedAt === undefined || condition.updatedAt === row.updatedAt)
  );
}

/**
 * Whether a stored run shows `change` applied: every field it sets has its value, `updatedAt`
 * included (and the epoch one past `condition.epoch` when the change bumps it). A store that lost
 * its connection during a write asks this before writing again, since the lost write may have
 * committed; no other writer sets the same lease owner at the same millisecond.
 */
export function changeApplied(
  row: StoredRun,
  condition: RunCondition,
  change: RunChange & { bumpEpoch?: boolean },
): boolean {
  if (condition.epoch !== undefined && row.epoch !== condition.epoch + (change.bumpEpoch ? 1 : 0)) return false;
  return (
    row.updatedAt === change.updatedAt &&
    (change.status === undefined || row.status === change.status) &&
    (change.leaseOwner === undefined || row.leaseOwner === change.leaseOwner) &&
    (change.leaseExpiresAt === undefined || row.leaseExpiresAt === change.leaseExpiresAt) &&
    (change.wakeAt === undefined || row.wakeAt === change.wakeAt) &&
    (change.input === undefined || row.input === change.input) &&
    (change.outcome === undefined || row.outcome === change.outcome)
  );
}
