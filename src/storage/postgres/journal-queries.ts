// SQL of the Postgres journal for one schema: the fenced batch append, the checked insert, the read.
import type { JournalEntry } from '../types.js';
import { RUN_COLUMNS, type PgQuery } from './run-queries.js';

/** A journal row as the driver returns it: BIGINT columns come back as strings. */
export interface PgJournalRow {
  seq: string;
  type: string;
  data: string;
  at: string;
}

/** The entries as the four arrays `unnest` takes. */
function columns(entries: readonly JournalEntry[]): unknown[] {
  return [entries.map((e) => e.seq), entries.map((e) => e.type), entries.map((e) => e.data), entries.map((e) => e.at)];
}

/**
 * Entries written as rows of parameters in a statement's text, at most: more go as four arrays. Each
 * count has a statement text of its own, prepared on each connection that meets it (a prepared
 * statement of this size holds about 200 KiB of the server backend's memory): 4 covers the common
 * writes (a step's end and the next one's start, a claim with its first entries, a run's end).
 */
export const LISTED_ENTRIES = 4;

/**
 * `count` entries of one run from parameter `$first` on, as a FROM item `e(seq, type, data, at)`: up to
 * `LISTED_ENTRIES` a VALUES list of four parameters per entry, beyond that `unnest` of four arrays
 * (`entryValues` gives the values). Listed, no array is built, escaped and parsed: a step's append
 * takes about 0.1 ms less here, a third of what the statement costs beyond its commit.
 */
function entryRows(first: number, count: number): string {
  if (count > LISTED_ENTRIES) {
    const [seq, type, data, at] = [0, 1, 2, 3].map((i) => `$${first + i}`);
    return `unnest(${seq}::bigint[], ${type}::text[], ${data}::text[], ${at}::bigint[]) AS e(seq, type, data, at)`;
  }
  const rows: string[] = [];
  for (let i = 0, p = first; i < count; i++, p += 4)
    rows.push(`($${p}::bigint, $${p + 1}::text, $${p + 2}::text, $${p + 3}::bigint)`);
  return `(VALUES ${rows.join(', ')}) AS e(seq, type, data, at)`;
}

/** The values of `entryRows` for `entries`. */
function entryValues(entries: readonly JournalEntry[]): unknown[] {
  if (entries.length > LISTED_ENTRIES) return columns(entries);
  const values: unknown[] = [];
  for (const e of entries) values.push(e.seq, e.type, e.data, e.at);
  return values;
}

/** One run's append within a batch. */
export interface BatchItem {
  runId: string;
  epoch: number;
  entries: readonly JournalEntry[];
}

/** What the fenced batch append found for one run that exists: its epoch and last seq before, and whether its entries went in. */
export interface BatchOutcomeRow {
  run_id: string;
  epoch: number;
  last_seq: string | null;
  accepted: boolean;
}

/**
 * The hot path as ONE statement (one round trip, one commit) for the appends of many runs,
 * each run fenced on its own: lock the runs rows `FOR SHARE` in id order, each found by its key (a
 * takeover's UPDATE waits for the lock, and a takeover that committed first is seen), read each epoch and last
 * seq, and insert the entries of exactly those runs whose epoch matches and whose first seq
 * follows their journal, notifying the channel for each that somebody follows (delivered at commit). One outcome row
 * per existing run tells the caller which check failed. Each run may appear once per batch.
 * The text depends on the schema only (`appendBatchValues` gives a batch's values).
 *
 * The run ids are read through a subquery (`unnest(CAST((SELECT $1) ...))`) so that the planner sizes
 * the array alike whether it knows the values or not: otherwise a batch of one run costs a tenth of
 * the plan made for any batch, Postgres plans the statement again at every execution (about 0.3 ms
 * here, a third of a step's append) and never uses the plan it prepared. Each row is then locked by
 * a lookup of its own (`LATERAL`): under `ANY(...)`, the planner read the whole runs table while it
 * held up to a thousand or two rows.
 */
export function appendBatchText(s: string): string {
  return `
      WITH batch AS (
        SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) AS b(run_id, epoch, first_seq)
      ), head AS (
        SELECT r.run_id, r.epoch, (SELECT max(j.seq) FROM ${s}.journal j WHERE j.run_id = r.run_id) AS last_seq
        FROM (SELECT run_id FROM unnest(CAST((SELECT $1::text[]) AS text[])) AS u(run_id) ORDER BY run_id COLLATE "C") b
        CROSS JOIN LATERAL (SELECT run_id, epoch FROM ${s}.runs WHERE run_id = b.run_id FOR SHARE) r
      ), accepted AS (
        SELECT b.run_id FROM batch b JOIN head h ON h.run_id = b.run_id
        WHERE h.epoch = b.epoch AND coalesce(h.last_seq, 0) < b.first_seq
      ), ${entriesOf(s, 'accepted', 4)}
      SELECT h.run_id, h.epoch, h.last_seq, EXISTS (SELECT 1 FROM accepted a WHERE a.run_id = h.run_id) AS accepted,
        (SELECT count(*) FROM notified) AS notified
      FROM head h`;
}

/**
 * The CTEs `inserted` and `notified` of a batch statement: the entries given in parameters `$first` to
 * `$first + 4` (`flatEntries`) of the runs the CTE `runs` holds are inserted, and the channel,
 * parameter `$first + 5`, is notified of each of those runs that somebody follows.
 */
export function entriesOf(s: string, runs: string, first: number): string {
  const [runId, seq, type, data, at] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  const rows = `unnest(${runId}::text[], ${seq}::bigint[], ${type}::text[], ${data}::text[], ${at}::bigint[])
          AS e(run_id, seq, type, data, at)`;
  return insertedAndNotified(s, runs, rows, 'e.run_id', `$${first + 5}`);
}

/**
 * The CTEs `inserted`, which inserts the entries `rows` (a FROM item `e`) of run `runId` (an expression)
 * when the CTE `runs` holds that run, and `notified`, which notifies `channel` of each run of `runs`
 * that somebody follows (delivered at commit).
 */
function insertedAndNotified(s: string, runs: string, rows: string, runId: string, channel: string): string {
  return `inserted AS (
        INSERT INTO ${s}.journal (run_id, seq, type, data, at)
        SELECT ${runId}, e.seq, e.type, e.data, e.at FROM ${rows}
        WHERE ${runId} IN (SELECT run_id FROM ${runs})
        RETURNING 1
      ), notified AS (
        SELECT pg_notify(${channel}, x.run_id) FROM ${runs} x
        WHERE EXISTS (SELECT 1 FROM ${s}.followed f WHERE f.run_id = x.run_id)
      )`;
}

/**
 * `appendBatchText` for a batch of one run with `count` entries (at most `LISTED_ENTRIES`): the same
 * checks and outcome row, with the run's id, epoch and entries as plain parameters rather than arrays
 * (see `entryRows`). The entries' first seq is parameter $4.
 */
export function appendOneText(s: string, count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > LISTED_ENTRIES) {
    throw new RangeError(`appendOneText takes 1 to ${LISTED_ENTRIES} entries, not ${count}`);
  }
  return `
      WITH head AS (
        SELECT r.run_id, r.epoch, (SELECT max(j.seq) FROM ${s}.journal j WHERE j.run_id = $1) AS last_seq
        FROM ${s}.runs r WHERE r.run_id = $1
        FOR SHARE
      ), accepted AS (
        SELECT h.run_id FROM head h WHERE h.epoch = $2 AND coalesce(h.last_seq, 0) < $4
      ), ${insertedAndNotified(s, 'accepted', entryRows(4, count), '$1', '$3')}
      SELECT h.run_id, h.epoch, h.last_seq, EXISTS (SELECT 1 FROM accepted) AS accepted,
        (SELECT count(*) FROM notified) AS notified
      FROM head h`;
}

/** The values of `appendOneText` for `item`, notifying `channel`. */
export function appendOneValues(channel: string, item: BatchItem): unknown[] {
  return [item.runId, item.epoch, channel, ...entryValues(item.entries)];
}

/** The values of `appendBatchText` for `items`, notifying `channel`. */
export function appendBatchValues(channel: string, items: readonly BatchItem[]): unknown[] {
  const flat = flatEntries(items);
  return [
    items.map((item) => item.runId),
    items.map((item) => item.epoch),
    items.map((item) => item.entries[0]!.seq),
    ...flat,
    channel,
  ];
}

/** The entries of many runs as the five arrays `unnest` takes: run id, seq, type, data, at. */
export function flatEntries(
  items: readonly { runId: string; entries?: readonly JournalEntry[] | undefined }[],
): unknown[][] {
  const runIds: string[] = [];
  const seqs: number[] = [];
  const types: string[] = [];
  const data: string[] = [];
  const ats: number[] = [];
  for (const item of items) {
    if (!item.entries) continue;
    for (const entry of item.entries) {
      runIds.push(item.runId);
      seqs.push(entry.seq);
      types.push(entry.type);
      data.push(entry.data);
      ats.push(entry.at);
    }
  }
  return [runIds, seqs, types, data, ats];
}

/** The epoch alone, for an append of no entries (nothing to insert, only ownership to confirm). */
export function epochQuery(s: string, runId: string): PgQuery {
  return { text: `SELECT epoch FROM ${s}.runs WHERE run_id = $1`, values: [runId] };
}

/** The last seq of a run's journal (inside a transaction that holds the run row). */
export function lastSeqQuery(s: string, runId: string): PgQuery {
  return { text: `SELECT max(seq) AS last_seq FROM ${s}.journal WHERE run_id = $1`, values: [runId] };
}

/** Entries after `afterSeq`, in order, at most `limit` (all when null). */
export function readQuery(s: string, runId: string, afterSeq: number, limit: number | null): PgQuery {
  return {
    text: `SELECT seq, type, data, at FROM ${s}.journal WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    values: [runId, afterSeq, limit],
  };
}

/**
 * A run's row and its whole journal in one statement (`readRunWithJournal`): the row first, its `seq`
 * null, then one row per entry in order, the run's columns null. No rows when there is no such run.
 */
export function runWithJournalText(s: string): string {
  const nulls = RUN_COLUMNS.split(', ')
    .map(() => 'NULL')
    .join(', ');
  return `
      SELECT ${RUN_COLUMNS}, NULL::bigint AS seq, NULL::text AS type, NULL::text AS data, NULL::bigint AS at
      FROM ${s}.runs WHERE run_id = $1
      UNION ALL
      SELECT ${nulls}, seq, type, data, at FROM ${s}.journal WHERE run_id = $1
      ORDER BY seq NULLS FIRST`;
}

/** Maps a driver row to a `JournalEntry`. */
export function toJournalEntry(row: PgJournalRow): JournalEntry {
  return { seq: Number(row.seq), type: row.type, data: row.data, at: Number(row.at) };
}

/**
 * A run's compare-and-set `update` (an `UPDATE ... RETURNING` of `updateRunQuery`) and the insert of
 * `entries` as ONE statement: one round trip and one commit where a transaction took five. The
 * entries go in only if the update applied, and the channel is notified at commit. A seq already in
 * the journal fails the whole statement on the journal's key (SQLSTATE 23505), the update included.
 * It answers with the update's columns and `notified`, which makes the SELECT of that name run (unlike an
 * insert, a SELECT in WITH runs only when referenced).
 */
export function updateWithEntriesQuery(
  s: string,
  channel: string,
  update: PgQuery,
  runId: string,
  entries: readonly JournalEntry[],
): PgQuery {
  const n = update.values.length;
  return {
    text: `
      WITH updated AS (${update.text}),
      inserted AS (
        INSERT INTO ${s}.journal (run_id, seq, type, data, at)
        SELECT $${n + 1}, e.seq, e.type, e.data, e.at FROM ${entryRows(n + 3, entries.length)}
        WHERE EXISTS (SELECT 1 FROM updated)
        RETURNING 1
      ), notified AS (
        SELECT pg_notify($${n + 2}, $${n + 1}) FROM updated
        WHERE EXISTS (SELECT 1 FROM ${s}.followed f WHERE f.run_id = $${n + 1})
      )
      SELECT updated.*, (SELECT count(*) FROM notified) AS notified
      FROM updated`,
    values: [...update.values, runId, channel, ...entryValues(entries)],
  };
}

/** Records (or renews) that `follower` follows these runs until `expiresAt`, and drops expired rows of anyone. */
export function followQuery(s: string, runIds: readonly string[], follower: string, expiresAt: number): PgQuery {
  return {
    text: `
      WITH expired AS (DELETE FROM ${s}.followed WHERE expires_at < $3::bigint - ${60_000 * 2})
      INSERT INTO ${s}.followed (run_id, follower, expires_at)
      SELECT run_id, $2::text, $3::bigint FROM unnest($1::text[]) AS r(run_id)
      ON CONFLICT (run_id, follower) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
    values: [runIds, follower, expiresAt],
  };
}

/** `follower` no longer follows these runs (every run of its when `runIds` is null). */
export function unfollowQuery(s: string, runIds: readonly string[] | null, follower: string): PgQuery {
  return runIds === null
    ? { text: `DELETE FROM ${s}.followed WHERE follower = $1`, values: [follower] }
    : {
        text: `DELETE FROM ${s}.followed WHERE follower = $1 AND run_id = ANY($2::text[])`,
        values: [follower, runIds],
      };
}
