// SQL of the batched compare-and-set: the claims and status changes of many runs, with their entries, in one statement.
import type { JournalEntry, NewRun, RunChange, RunCondition } from '../types.js';
import { entriesOf, flatEntries } from './journal-queries.js';
import { RUN_COLUMNS } from './run-queries.js';

/** One run's compare-and-set in a batch: an update of its stored row, or (`newRun`) the insert of a held run with the change applied. */
export interface ChangeItem {
  runId: string;
  /** A run not stored yet (its `createRun` is held): inserted with the change applied, unless its id is in use. */
  newRun?: NewRun | undefined;
  condition: RunCondition;
  change: RunChange & { bumpEpoch?: boolean };
  entries?: readonly JournalEntry[] | undefined;
}

/** Bits of the `mask` column: which nullable fields a change sets (undefined in `RunChange` leaves a field as it is). */
const SETS = { leaseOwner: 1, leaseExpiresAt: 2, wakeAt: 4, input: 8, outcome: 16 } as const;

const r = (column: string, bit: number): string =>
  `${column} = CASE WHEN i.mask & ${bit} <> 0 THEN i.${column} ELSE r.${column} END`;

/**
 * The compare-and-sets of many runs as ONE statement (one round trip, one commit), each applied on its
 * own: the stored rows are locked in id order, each found by its key (`FOR NO KEY UPDATE`, the order of every other statement
 * that locks runs, so that none deadlock) and updated where their condition holds; held runs are
 * inserted with their change applied, unless the id is in use; the entries of the runs changed are
 * inserted, and the channel is notified for those somebody follows. Answers with the rows changed; a
 * run missing from the answer was not changed. A seq the journal holds fails the whole statement
 * (23505), as the single update does. The text depends on the schema only (`changeBatchValues`).
 */
export function changeBatchText(s: string): string {
  return `
      WITH i AS (
        SELECT * FROM unnest($1::text[], $2::bool[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::int[],
          $8::bigint[], $9::bigint[], $10::text[], $11::bool[], $12::int[], $13::text[], $14::bigint[], $15::bigint[],
          $16::text[], $17::text[])
          AS i(run_id, is_new, workflow_id, resource_id, created_at, cond_status, cond_epoch, cond_updated_at,
            updated_at, status, bump_epoch, mask, lease_owner, lease_expires_at, wake_at, input, outcome)
      ), locked AS (
        SELECT r.run_id
        FROM (SELECT run_id FROM i WHERE NOT is_new ORDER BY run_id COLLATE "C") b
        CROSS JOIN LATERAL (SELECT run_id FROM ${s}.runs WHERE run_id = b.run_id FOR NO KEY UPDATE) r
      ), updated AS (
        UPDATE ${s}.runs r SET updated_at = i.updated_at, status = coalesce(i.status, r.status),
          epoch = r.epoch + CASE WHEN i.bump_epoch THEN 1 ELSE 0 END,
          ${r('lease_owner', SETS.leaseOwner)}, ${r('lease_expires_at', SETS.leaseExpiresAt)},
          ${r('wake_at', SETS.wakeAt)}, ${r('input', SETS.input)}, ${r('outcome', SETS.outcome)}
        FROM locked l JOIN i ON i.run_id = l.run_id
        WHERE r.run_id = l.run_id
          AND (i.cond_status IS NULL OR r.status = ANY (string_to_array(i.cond_status, ',')))
          AND (i.cond_epoch IS NULL OR r.epoch = i.cond_epoch)
          AND (i.cond_updated_at IS NULL OR r.updated_at = i.cond_updated_at)
        RETURNING ${RUN_COLUMNS.split(', ')
          .map((column) => `r.${column}`)
          .join(', ')}
      ), created AS (
        INSERT INTO ${s}.runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at,
          lease_owner, lease_expires_at, wake_at, input, outcome)
        SELECT run_id, workflow_id, resource_id, coalesce(status, 'pending'), CASE WHEN bump_epoch THEN 1 ELSE 0 END,
          created_at, updated_at, lease_owner, lease_expires_at, wake_at, input, outcome
        FROM i WHERE is_new ORDER BY run_id COLLATE "C"
        ON CONFLICT (run_id) DO NOTHING RETURNING ${RUN_COLUMNS}
      ), changed AS (
        SELECT * FROM updated UNION ALL SELECT * FROM created
      ), ${entriesOf(s, 'changed', 18)}
      SELECT c.*, (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM notified) AS notified
      FROM changed c`;
}

/** The values of `changeBatchText` for `items`, notifying `channel`. */
export function changeBatchValues(channel: string, items: readonly ChangeItem[]): unknown[] {
  const columns: unknown[][] = Array.from({ length: 17 }, () => []);
  for (const { runId, newRun, condition, change } of items) {
    let mask = 0;
    for (const [field, bit] of Object.entries(SETS)) {
      if (change[field as keyof typeof SETS] !== undefined) mask |= bit;
    }
    const row = [
      runId,
      newRun !== undefined,
      newRun?.workflowId ?? null,
      newRun?.resourceId ?? null,
      newRun?.createdAt ?? null,
      condition.status === undefined ? null : condition.status.join(','),
      condition.epoch ?? null,
      condition.updatedAt ?? null,
      change.updatedAt,
      change.status ?? null,
      change.bumpEpoch === true,
      mask,
      change.leaseOwner ?? null,
      change.leaseExpiresAt ?? null,
      change.wakeAt ?? null,
      change.input ?? null,
      change.outcome ?? null,
    ];
    for (let c = 0; c < row.length; c++) columns[c]!.push(row[c]);
  }
  return [...columns, ...flatEntries(items), channel];
}
