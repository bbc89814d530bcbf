// Retention: how long finished runs are kept, parsed once, and the pruning of what is older, in batches.
import { WeftError } from '../errors.js';
import { FINISHED_STATUSES, type RunStatus, type WeftStorage } from '../storage/types.js';

/** A length of time: milliseconds, or text such as `'500ms'`, `'30s'`, `'15m'`, `'12h'`, `'7d'`, `'2w'`. */
export type Duration = number | string;

/**
 * How long finished runs are kept, by status; a status without a setting is kept forever. Active,
 * suspended, paused and pending runs are never pruned.
 *
 * @example
 * new Weft({ workflows, retention: { successAfter: '7d', failedAfter: '30d' } })
 */
export interface RetentionOptions {
  /** Delete `success` runs this long after they finished. */
  successAfter?: Duration;
  /** Delete `failed` runs this long after they finished. */
  failedAfter?: Duration;
  /** Delete `canceled` runs this long after they stopped (default: as `failedAfter`). */
  canceledAfter?: Duration;
  /** How often to prune (default 1 hour; the first pass runs at `init()`). */
  intervalMs?: number;
}

/** Which statuses are pruned after how long (ms), checked. */
export interface RetentionRule {
  status: RunStatus;
  afterMs: number;
}

/** Runs deleted per transaction: a batch takes a few milliseconds, then writers get their turn. */
const PRUNE_BATCH = 200;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/** A duration in ms; `INVALID_ARGUMENT` naming `what` when it is not a positive length of time. */
export function parseDuration(value: Duration, what: string): number {
  const match = typeof value === 'string' ? DURATION.exec(value.trim()) : null;
  const ms = typeof value === 'number' ? value : match ? Number(match[1]) * UNIT_MS[match[2]!]! : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Invalid ${what} ${JSON.stringify(value)}: expected a positive number of ms or a duration such as "30m", "12h", "7d" or "2w"`,
    );
  }
  return Math.round(ms);
}

/** The rules of `options`, one per status it keeps for a limited time. */
export function retentionRules(options: RetentionOptions): RetentionRule[] {
  const rules: RetentionRule[] = [];
  const failed = options.failedAfter;
  const settings: [RunStatus, Duration | undefined, string][] = [
    ['success', options.successAfter, 'retention.successAfter'],
    ['failed', failed, 'retention.failedAfter'],
    ['canceled', options.canceledAfter ?? failed, 'retention.canceledAfter'],
  ];
  for (const [status, after, what] of settings)
    if (after !== undefined) rules.push({ status, afterMs: parseDuration(after, what) });
  return rules;
}

/** Checks the statuses asked to be pruned: finished ones only. */
export function checkPruneStatuses(statuses: readonly string[]): RunStatus[] {
  for (const status of statuses) {
    if (!FINISHED_STATUSES.includes(status as RunStatus)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Cannot prune runs of status "${status}": only finished runs (${FINISHED_STATUSES.join(', ')}) are pruned; active, suspended, paused and pending runs are kept`,
      );
    }
  }
  return statuses as RunStatus[];
}

/**
 * Deletes the runs of `statuses` that finished before `updatedBefore`, batch after batch, letting
 * the event loop turn between batches so that the runs executing meanwhile write on; stops early
 * when `stopped()` says so. Returns how many runs it deleted.
 */
export async function pruneInBatches(
  storage: WeftStorage,
  statuses: readonly RunStatus[],
  updatedBefore: number,
  stopped: () => boolean = () => false,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await storage.pruneRuns({ statuses, updatedBefore, limit: PRUNE_BATCH });
    total += deleted;
    if (deleted < PRUNE_BATCH || stopped()) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
