// Run inserts held briefly, so that a claim issued at once stores the run, claims it and writes its first
// entries in one statement.
import type { NewRun, RunChange, RunCondition, StoredRun } from '../types.js';
import type { PgQuery } from './run-queries.js';
import { RUN_COLUMNS } from './run-queries.js';

/** A `createRun` not sent yet. */
export interface HeldCreation {
  run: NewRun;
  /** Settles the `createRun` promise. */
  resolve(row: StoredRun): void;
  reject(error: unknown): void;
}

/** Sends held creations (one statement for all); settles each one's promise. */
export type SendCreations = (held: HeldCreation[]) => Promise<void>;

/** How long the insert of a run whose claim follows (`claimFollows`) waits for it, at most (ms). */
const CLAIM_WAIT_MS = 50;

/**
 * The inserts of `createRun`, held briefly. A run whose claim follows at once (`claimFollows`: a new
 * id the engine made, whose insert nobody awaits) is held until its claim takes the insert (`take`) and
 * writes the claimed row directly, or at most `CLAIM_WAIT_MS`; any other insert until the microtasks
 * running now have drained (a `process.nextTick`), so an awaited `createRun` waits a tick more. Held
 * inserts that are due go out together, as one statement. Any other operation on a held run sends it
 * first and waits for it (`settle`), so every operation sees the runs created before it, as the engine
 * expects of a store whose `writesInOrder` is true.
 */
export class RunCreations {
  private held = new Map<string, HeldCreation>();
  private readonly sending = new Map<string, Promise<void>>();
  private tick = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: SendCreations) {}

  /** Holds the insert of `run`; resolves with the stored row once it is stored (by `send` or a claim). */
  add(run: NewRun): Promise<StoredRun> {
    return new Promise<StoredRun>((resolve, reject) => {
      const previous = this.held.get(run.runId);
      // The same id twice while held: the second finds the first's row, as it would in storage.
      if (previous) {
        const { resolve: first, reject: failed } = previous;
        previous.resolve = (row) => (first(row), resolve(row));
        previous.reject = (error) => (failed(error), reject(error));
        return;
      }
      this.held.set(run.runId, { run, resolve, reject });
      if (run.claimFollows) this.timer ??= setTimeout(this.sendAll, CLAIM_WAIT_MS);
      else if (!this.tick) {
        this.tick = true;
        process.nextTick(this.sendDue);
      }
    });
  }

  /** The held insert of `runId`, taken out for the caller to store (null when none is held). */
  take(runId: string): HeldCreation | null {
    const creation = this.held.get(runId);
    if (!creation) return null;
    this.held.delete(runId);
    // Until the claim stores it, the insert is in flight: a list or a read issued meanwhile waits for it.
    const { resolve, reject } = creation;
    const stored = new Promise<void>((settled) => {
      creation.resolve = (row) => (resolve(row), settled());
      creation.reject = (error) => (reject(error), settled());
    });
    this.sending.set(runId, stored);
    void stored.then(() => {
      if (this.sending.get(runId) === stored) this.sending.delete(runId);
    });
    return creation;
  }

  /** Sends the held insert of `runId` now, if any, and waits for the insert of that run in flight (never rejects). */
  settle(runId: string): Promise<void> | undefined {
    const creation = this.held.get(runId);
    if (creation) this.sendHeld([creation]);
    return this.sending.get(runId);
  }

  /** Sends every held insert now and waits for every insert in flight (never rejects). */
  settleAll(): Promise<void> | undefined {
    this.sendAll();
    if (this.sending.size === 0) return undefined;
    return Promise.all(this.sending.values()).then(() => undefined);
  }

  /** Sends the held inserts that wait for no claim. */
  private readonly sendDue = (): void => {
    this.tick = false;
    const due: HeldCreation[] = [];
    for (const creation of this.held.values()) if (!creation.run.claimFollows) due.push(creation);
    this.sendHeld(due);
  };

  private readonly sendAll = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sendHeld([...this.held.values()]);
  };

  private sendHeld(batch: HeldCreation[]): void {
    if (batch.length === 0) return;
    for (const { run } of batch) this.held.delete(run.runId);
    const sent = this.send(batch).catch((error: unknown) => {
      for (const creation of batch) creation.reject(error);
    });
    for (const { run } of batch) this.sending.set(run.runId, sent);
    void sent.then(() => {
      for (const { run } of batch) if (this.sending.get(run.runId) === sent) this.sending.delete(run.runId);
    });
  }
}

/** True when a claim's `condition` holds for a run just created (pending, epoch 0). */
export function holdsForNewRun(condition: RunCondition): boolean {
  return (
    (condition.status === undefined || condition.status.includes('pending')) &&
    (condition.epoch === undefined || condition.epoch === 0)
  );
}

/**
 * Inserts the runs not stored yet, pending with epoch 0, answering with the rows inserted and the stored
 * rows of the ids in use. A row committed by another creator while this statement ran is in use yet not
 * in its snapshot: its id is missing from the answer.
 */
export function insertRunsQuery(s: string, runs: readonly NewRun[]): PgQuery {
  return {
    text: `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS r(run_id, workflow_id, resource_id, created_at)
      ), inserted AS (
        INSERT INTO ${s}.runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at)
        SELECT run_id, workflow_id, resource_id, 'pending', 0, created_at, created_at FROM input
        ON CONFLICT (run_id) DO NOTHING RETURNING ${RUN_COLUMNS}
      )
      SELECT ${RUN_COLUMNS} FROM inserted
      UNION ALL
      SELECT ${RUN_COLUMNS} FROM ${s}.runs
      WHERE run_id IN (SELECT run_id FROM input) AND run_id NOT IN (SELECT run_id FROM inserted)`,
    values: [
      runs.map((run) => run.runId),
      runs.map((run) => run.workflowId),
      runs.map((run) => run.resourceId),
      runs.map((run) => run.createdAt),
    ],
  };
}

/**
 * Inserts a new run with a claim's `change` already applied (the epoch bumped from 0 when asked), answering
 * with the row; an id in use inserts nothing and answers with no row. As `updateRunQuery`'s UPDATE, it can
 * carry journal entries (`updateWithEntriesQuery`).
 */
export function insertChangedRunQuery(s: string, run: NewRun, change: RunChange & { bumpEpoch?: boolean }): PgQuery {
  return {
    text: `INSERT INTO ${s}.runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at,
        lease_owner, lease_expires_at, wake_at, input, outcome)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      ON CONFLICT (run_id) DO NOTHING RETURNING ${RUN_COLUMNS}`,
    values: [
      run.runId,
      run.workflowId,
      run.resourceId,
      change.status ?? 'pending',
      change.bumpEpoch ? 1 : 0,
      run.createdAt,
      change.updatedAt,
      change.leaseOwner ?? null,
      change.leaseExpiresAt ?? null,
      change.wakeAt ?? null,
      change.input ?? null,
      change.outcome ?? null,
    ],
  };
}
