// The check every adapter makes of a prune filter before deleting anything.
import { WeftError } from '../errors.js';
import { FINISHED_STATUSES, type PruneFilter } from './types.js';

/** Throws `INVALID_ARGUMENT` unless the filter names only finished statuses, a time and a positive whole limit. */
export function checkPruneFilter(filter: PruneFilter): void {
  const unfinished = filter.statuses.filter((status) => !FINISHED_STATUSES.includes(status));
  if (unfinished.length > 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot prune runs of status ${unfinished.map((s) => `"${s}"`).join(', ')}: only finished runs (${FINISHED_STATUSES.join(', ')}) are pruned`,
    );
  }
  if (!Number.isFinite(filter.updatedBefore)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot prune runs: updatedBefore must be a time in ms, got ${filter.updatedBefore}`,
    );
  }
  if (!Number.isInteger(filter.limit) || filter.limit < 1) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot prune runs: limit must be a whole number from 1, got ${filter.limit}`,
    );
  }
}
