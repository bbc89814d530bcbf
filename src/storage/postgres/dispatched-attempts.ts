// Step attempts dispatched to any worker: stored by the run's coordinator, claimed and completed by workers.
import type { Pool } from 'pg';
import type { NamedStatement, StatementNames } from './statement-names.js';

/** An attempt as the coordinator stores it. */
export interface NewAttempt {
  attemptId: string;
  /** The step's dispatch id: every attempt of the step shares it (deleted together once recorded). */
  dispatchId: string;
  runId: string;
  workflowId: string;
  stepKey: string;
  epoch: number;
  /** JSON text of what the attempt's context is made of. */
  call: string;
}

/** An attempt a worker claimed. */
export interface ClaimedAttempt {
  attemptId: string;
  dispatchId: string;
  runId: string;
  workflowId: string;
  stepKey: string;
  epoch: number;
  call: string;
  /** How many times it was claimed, this claim included: more than 1 when a worker executing it died or stopped. */
  tries: number;
}

/** A finished attempt: its id and the JSON text of what it did. */
export interface AttemptOutcome {
  attemptId: string;
  result: string;
}

/**
 * The `dispatched` table: an attempt is `ready` once stored, `running` while a worker holds its lease,
 * and `done` with its result; a canceled attempt is deleted (rows `canceled` are those of older versions,
 * which a dispatch under their id makes ready again). A claim takes ready attempts and those whose lease expired
 * (their worker died), so each attempt that finished did so once: a second worker's completion of an
 * attempt it no longer holds changes nothing.
 */
export class PgDispatchedAttempts {
  /** The channels of new attempts (payload empty), of finished ones, and of canceled ones (payload: the run id). */
  readonly readyChannel: string;
  readonly doneChannel: string;
  readonly withdrawnChannel: string;

  /** The statements, their texts made once per schema (prepared once per connection when names are on). */
  private readonly sql: Record<keyof ReturnType<typeof attemptTexts>, NamedStatement>;

  constructor(
    private readonly pool: Pool,
    /** The quoted schema. */
    s: string,
    channel: string,
    /** Runs a statement, retried while the connection is re-established, its errors named. */
    private readonly guard: <T>(action: string, fn: () => Promise<T>) => Promise<T>,
    names: StatementNames,
  ) {
    this.readyChannel = `${channel}:dispatched`;
    this.doneChannel = `${channel}:attempted`;
    this.withdrawnChannel = `${channel}:withdrawn`;
    const texts = attemptTexts(s);
    this.sql = Object.fromEntries(
      Object.entries(texts).map(([key, text]) => [key, names.statement(text)]),
    ) as typeof this.sql;
  }

  /**
   * Stores attempts as `ready` and wakes the workers, in one statement. An attempt stored before (a
   * coordinator that took the run over dispatches its steps again under their ids) is left as it is,
   * unless it was canceled; those already done are returned, for their results to be collected.
   */
  insert(attempts: readonly NewAttempt[], now: number): Promise<AttemptOutcome[]> {
    return this.guard('dispatch step attempts', async () => {
      const column = <K extends keyof NewAttempt>(key: K): NewAttempt[K][] => attempts.map((a) => a[key]);
      const { rows } = await this.pool.query<{ attempt_id: string; result: string }>(
        this.sql.insert.with([
          column('attemptId'),
          column('dispatchId'),
          column('runId'),
          column('workflowId'),
          column('stepKey'),
          column('epoch'),
          column('call'),
          now,
          this.readyChannel,
        ]),
      );
      return rows.map((row) => ({ attemptId: row.attempt_id, result: row.result }));
    });
  }

  /**
   * Claims up to `limit` attempts of these workflows for `owner` until `expiresAt`: ready ones, oldest
   * first, and those whose worker's lease expired. Rows other workers are claiming are skipped.
   */
  claim(
    owner: string,
    workflowIds: readonly string[],
    limit: number,
    now: number,
    expiresAt: number,
  ): Promise<ClaimedAttempt[]> {
    return this.guard('claim step attempts', async () => {
      const { rows } = await this.pool.query<ClaimedRow>(
        this.sql.claim.with([owner, workflowIds, limit, now, expiresAt]),
      );
      return rows.map(claimedAttempt);
    });
  }

  /**
   * Stores the results of attempts `owner` holds, and tells each run's coordinator; returns the ids
   * stored (an attempt canceled or taken over meanwhile is not).
   */
  complete(owner: string, outcomes: readonly AttemptOutcome[]): Promise<string[]> {
    return this.guard('complete step attempts', async () => {
      const { rows } = await this.pool.query<{ attempt_id: string }>(
        this.sql.complete.with([
          owner,
          outcomes.map((o) => o.attemptId),
          outcomes.map((o) => o.result),
          this.doneChannel,
        ]),
      );
      return rows.map((row) => row.attempt_id);
    });
  }

  /**
   * `complete`, then `claim` of up to `limit` more, in one statement (one round trip, one commit): a
   * worker whose attempts finished takes the next ones as it hands their results in. Returns what it
   * claimed; the results are stored as `complete` stores them.
   */
  completeAndClaim(
    owner: string,
    outcomes: readonly AttemptOutcome[],
    claim: { workflowIds: readonly string[]; limit: number; now: number; expiresAt: number },
  ): Promise<ClaimedAttempt[]> {
    return this.guard('complete and claim step attempts', async () => {
      const { rows } = await this.pool.query<ClaimedRow>(
        this.sql.completeAndClaim.with([
          owner,
          claim.workflowIds,
          claim.limit,
          claim.now,
          claim.expiresAt,
          outcomes.map((o) => o.attemptId),
          outcomes.map((o) => o.result),
          this.doneChannel,
        ]),
      );
      return rows.map(claimedAttempt);
    });
  }

  /** The results of those of these attempts that are done. */
  results(attemptIds: readonly string[]): Promise<AttemptOutcome[]> {
    return this.guard('read step attempts', async () => {
      const { rows } = await this.pool.query<{ attempt_id: string; result: string }>(
        this.sql.results.with([attemptIds]),
      );
      return rows.map((row) => ({ attemptId: row.attempt_id, result: row.result }));
    });
  }

  /** Renews the leases `owner` holds on these attempts; returns those it still holds (not canceled, not taken over). */
  renew(owner: string, attemptIds: readonly string[], expiresAt: number): Promise<string[]> {
    return this.guard('renew step attempts', async () => {
      const { rows } = await this.pool.query<{ attempt_id: string }>(
        this.sql.renew.with([owner, attemptIds, expiresAt]),
      );
      return rows.map((row) => row.attempt_id);
    });
  }

  /** Hands attempts `owner` holds back as ready, for another worker (this one stops). */
  release(owner: string, attemptIds: readonly string[]): Promise<void> {
    return this.guard('release step attempts', async () => {
      await this.pool.query(this.sql.release.with([owner, attemptIds, this.readyChannel]));
    });
  }

  /**
   * Deletes the attempts of these runs that are not done, and those done of the runs that are canceled
   * (no one records them), and tells the workers executing them, which stop them at once (or, should the
   * notification be lost, at their next lease renewal). Not those of a run that moved past the given
   * epoch without being canceled: another coordinator took it over (this one stalled past its lease)
   * and awaits them.
   */
  cancel(runs: readonly { runId: string; epoch: number }[]): Promise<void> {
    return this.guard('cancel step attempts', async () => {
      await this.pool.query(
        this.sql.cancel.with([runs.map((run) => run.runId), runs.map((run) => run.epoch), this.withdrawnChannel]),
      );
    });
  }

  /** Deletes every attempt of these steps (their outcomes are recorded in the journal). */
  delete(dispatchIds: readonly string[]): Promise<void> {
    return this.guard('delete step attempts', async () => {
      await this.pool.query(this.sql.delete.with([dispatchIds]));
    });
  }
}

/** A claimed row as the claim statements return it. */
interface ClaimedRow {
  attempt_id: string;
  dispatch_id: string;
  run_id: string;
  workflow_id: string;
  step_key: string;
  epoch: number;
  call: string;
  tries: number;
}

function claimedAttempt(row: ClaimedRow): ClaimedAttempt {
  return {
    attemptId: row.attempt_id,
    dispatchId: row.dispatch_id,
    runId: row.run_id,
    workflowId: row.workflow_id,
    stepKey: row.step_key,
    epoch: row.epoch,
    call: row.call,
    tries: row.tries,
  };
}

/**
 * The claim of up to $3 attempts of the workflows $2 for owner $1 until $5 (now: $4), as CTEs, the last
 * named `claimed`: ready attempts oldest first and those whose lease expired, rows other workers are
 * claiming skipped. `also` is a further condition of the attempts taken.
 */
function claimSql(s: string, also = 'TRUE'): string {
  return `ready AS (
      SELECT attempt_id, created_at FROM ${s}.dispatched
      WHERE status = 'ready' AND workflow_id = ANY($2::text[]) AND ${also}
      ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
    ), expired AS (
      SELECT attempt_id, created_at FROM ${s}.dispatched
      WHERE status = 'running' AND lease_expires_at < $4 AND workflow_id = ANY($2::text[]) AND ${also}
      LIMIT $3 FOR UPDATE SKIP LOCKED
    ), due AS (
      SELECT attempt_id FROM (SELECT * FROM expired UNION ALL SELECT * FROM ready) both_kinds
      ORDER BY created_at LIMIT $3
    ), claimed AS (
      UPDATE ${s}.dispatched d
      SET status = 'running', owner = $1, lease_expires_at = $5, tries = d.tries + 1
      FROM due WHERE d.attempt_id = due.attempt_id
      RETURNING d.attempt_id, d.dispatch_id, d.run_id, d.workflow_id, d.step_key, d.epoch, d.call, d.tries
    )`;
}

/**
 * Stores the results $7 of the attempts $6 that owner $1 holds, as a CTE named `done` (with `told`,
 * which notifies channel $8 of their runs), the parameter numbers as given.
 */
function completeSql(s: string, owner: string, ids: string, results: string, channel: string): string {
  return `done AS (
      UPDATE ${s}.dispatched d SET status = 'done', result = r.result, owner = NULL, lease_expires_at = NULL
      FROM unnest(${ids}::text[], ${results}::text[]) AS r(attempt_id, result)
      WHERE d.attempt_id = r.attempt_id AND d.owner = ${owner} AND d.status = 'running'
      RETURNING d.attempt_id, d.run_id
    ), told AS (
      SELECT pg_notify(${channel}, run_id) FROM (SELECT DISTINCT run_id FROM done) runs
    )`;
}

/** The statements of the dispatched attempts in schema `s` (quoted). */
function attemptTexts(s: string) {
  return {
    // The final SELECT reads the table as it was before this statement's insert: rows done earlier.
    // It refers to `woken` so that the notification is sent (a CTE nobody reads is not executed).
    insert: `WITH given AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
          AS t(attempt_id, dispatch_id, run_id, workflow_id, step_key, epoch, call)
      ), stored AS (
        INSERT INTO ${s}.dispatched
          (attempt_id, dispatch_id, run_id, workflow_id, step_key, epoch, call, status, created_at)
        SELECT attempt_id, dispatch_id, run_id, workflow_id, step_key, epoch, call, 'ready', $8 FROM given
        ON CONFLICT (attempt_id) DO UPDATE
          SET status = 'ready', call = EXCLUDED.call, epoch = EXCLUDED.epoch, owner = NULL,
              lease_expires_at = NULL, created_at = EXCLUDED.created_at
          WHERE ${s}.dispatched.status = 'canceled'
        RETURNING 1
      ), woken AS (
        SELECT pg_notify($9, '') FROM (SELECT 1 FROM stored LIMIT 1) one
      )
      SELECT d.attempt_id, d.result FROM ${s}.dispatched d JOIN given g ON g.attempt_id = d.attempt_id
      WHERE d.status = 'done' AND (SELECT count(*) FROM woken) >= 0`,
    claim: `WITH ${claimSql(s)} SELECT * FROM claimed`,
    complete: `WITH ${completeSql(s, '$1', '$2', '$3', '$4')}
      SELECT attempt_id FROM done WHERE (SELECT count(*) FROM told) >= 0`,
    // Every CTE sees the snapshot of before the statement, where the attempts being completed are still
    // `running` (with a lease that may have expired): the claim leaves them out, so that no row is
    // updated twice. The final filter, evaluated once before any row, makes `told` notify.
    completeAndClaim: `WITH ${completeSql(s, '$1', '$6', '$7', '$8')},
      ${claimSql(s, 'attempt_id <> ALL($6::text[])')}
      SELECT * FROM claimed WHERE (SELECT count(*) FROM told) >= 0`,
    results: `SELECT attempt_id, result FROM ${s}.dispatched WHERE attempt_id = ANY($1::text[]) AND status = 'done'`,
    renew: `UPDATE ${s}.dispatched SET lease_expires_at = $3
      WHERE attempt_id = ANY($2::text[]) AND owner = $1 AND status = 'running' RETURNING attempt_id`,
    release: `WITH freed AS (
        UPDATE ${s}.dispatched SET status = 'ready', owner = NULL, lease_expires_at = NULL
        WHERE attempt_id = ANY($2::text[]) AND owner = $1 AND status = 'running' RETURNING 1
      )
      SELECT pg_notify($3, '') FROM (SELECT 1 FROM freed LIMIT 1) one`,
    // Every attempt of a canceled run goes, done ones too (no one records them); of a run at the given
    // epoch but not canceled (its cancel is not stored yet), those not done. Workers learn it from the
    // notification, or from their next renewal, which no longer finds the rows.
    cancel: `WITH canceled AS (
        DELETE FROM ${s}.dispatched d
        USING unnest($1::text[], $2::int[]) AS c(run_id, epoch) JOIN ${s}.runs r ON r.run_id = c.run_id
        WHERE d.run_id = c.run_id
          AND (r.status = 'canceled' OR (r.epoch = c.epoch AND d.status IN ('ready', 'running')))
        RETURNING d.run_id, d.status
      )
      SELECT pg_notify($3, run_id) FROM (SELECT DISTINCT run_id FROM canceled WHERE status <> 'done') runs`,
    delete: `DELETE FROM ${s}.dispatched WHERE dispatch_id = ANY($1::text[])`,
  };
}
