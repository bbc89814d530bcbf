// SQL of the Postgres journal for one schema: the fenced one-statement append, the checked insert, the read.
import type { JournalEntry, JournalEntryType } from '../types.js';
import type { PgQuery } from './run-queries.js';

/** What the fenced append found: the run's epoch and last seq, and how many entries it inserted (0 or all). */
export interface AppendOutcome {
  epoch: number;
  last_seq: string | null;
  inserted: string;
}

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
 * The hot path as ONE statement (one round trip, its own transaction): lock the run row
 * `FOR SHARE` (a takeover's UPDATE waits for it, and it sees a takeover that committed first),
 * read the epoch and the last seq, and only when the epoch matches and the first seq follows
 * the journal insert every entry and notify the channel (delivered at commit). The outcome row
 * tells the caller which check failed; no row means the run does not exist.
 */
export function appendQuery(
  s: string,
  channel: string,
  runId: string,
  epoch: number,
  entries: readonly JournalEntry[],
): PgQuery {
  return {
    text: `
      WITH head AS (
        SELECT epoch, (SELECT max(seq) FROM ${s}.journal WHERE run_id = $1) AS last_seq
        FROM ${s}.runs WHERE run_id = $1 FOR SHARE
      ), accepted AS (
        SELECT 1 FROM head WHERE epoch = $2 AND coalesce(last_seq, 0) < $3
      ), inserted AS (
        INSERT INTO ${s}.journal (run_id, seq, type, data, at)
        SELECT $1, e.seq, e.type, e.data, e.at
        FROM unnest($4::bigint[], $5::text[], $6::text[], $7::bigint[]) AS e(seq, type, data, at)
        WHERE EXISTS (SELECT 1 FROM accepted)
        RETURNING 1
      ), notified AS (
        SELECT pg_notify($8, $1) FROM accepted
      )
      SELECT head.epoch, head.last_seq, (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM notified) AS notified
      FROM head`,
    values: [runId, epoch, entries[0]!.seq, ...columns(entries), channel],
  };
}

/** The epoch alone, for an append of no entries (nothing to insert, only ownership to confirm). */
export function epochQuery(s: string, runId: string): PgQuery {
  return { text: `SELECT epoch FROM ${s}.runs WHERE run_id = $1`, values: [runId] };
}

/** The last seq of a run's journal (inside a transaction that holds the run row). */
export function lastSeqQuery(s: string, runId: string): PgQuery {
  return { text: `SELECT max(seq) AS last_seq FROM ${s}.journal WHERE run_id = $1`, values: [runId] };
}

/** Inserts checked entries and notifies the channel at commit (inside the transaction of `updateRun`). */
export function insertQuery(s: string, channel: string, runId: string, entries: readonly JournalEntry[]): PgQuery {
  return {
    text: `
      WITH inserted AS (
        INSERT INTO ${s}.journal (run_id, seq, type, data, at)
        SELECT $1, e.seq, e.type, e.data, e.at
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS e(seq, type, data, at)
        RETURNING 1
      )
      SELECT pg_notify($6, $1), (SELECT count(*) FROM inserted) AS inserted`,
    values: [runId, ...columns(entries), channel],
  };
}

/** Entries after `afterSeq`, in order, at most `limit` (all when null). */
export function readQuery(s: string, runId: string, afterSeq: number, limit: number | null): PgQuery {
  return {
    text: `SELECT seq, type, data, at FROM ${s}.journal WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    values: [runId, afterSeq, limit],
  };
}

/** Maps a driver row to a `JournalEntry`. */
export function toJournalEntry(row: PgJournalRow): JournalEntry {
  return { seq: Number(row.seq), type: row.type as JournalEntryType, data: row.data, at: Number(row.at) };
}
