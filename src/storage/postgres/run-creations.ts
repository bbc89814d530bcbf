// Run inserts held briefly, so that a claim issued at once stores the run, claims it and writes its first
// entries in one statement.
import type { NewRun, RunChange, RunCondition, StoredRun } from '../types.js';
import type { PgQuery } from './run-queries.js';
import { RUN_COLUMNS, readBack } from './run-queries.js';

/** A `createRun` not sent yet. */
export interface HeldCreation {
  run: NewRun;
  /** Settles the `createRun` promise. */
  resolve(row: StoredRun): void;
  reject(error: unknown): void;
  /** When it was held (`performance.now()`). */
  heldAt?: number;
}

/** Sends held creations (one statement for all); settles each one's promise. */
export type SendCreations = (held: HeldCreation[]) => Promise<void>;

/**
 * Turns of the event loop in a row in which no claim took a held insert, after which the inserts still
 * held are sent. The engine lets runs started at once go on a batch per turn (`eventLoopTurn`), each
 * claim taking its insert; a turn with none means that no claim is on its way (three, not one: a start
 * may wait for a turn of its own, after the turn that checks).
 */
const IDLE_TURNS = 3;
/** The longest an insert whose claim follows is held, however busy the event loop (ms). */
const CLAIM_WAIT_MS = 50;

/**
 * The inserts of `createRun`, held briefly. A run whose claim follows at once (`claimFollows`: a new
 * id the engine made, whose insert nobody awaits) is held until its claim takes the insert (`take`) and
 * writes the claimed row directly, or until `IDLE_TURNS` turns of the event loop went by without a claim
 * taking one (at most `CLAIM_WAIT_MS`); any other insert until the microtasks running now have drained
 * (a `process.nextTick`), so an awaited `createRun` waits a tick more. Held inserts that are due go out
 * together, as one statement. A read or a delete of a held run sends its insert first and waits for it;
 * a list waits for every held insert to be stored, by its claim or at the end of its hold (`settleAll`),
 * so every operation sees the runs created before it, as the engine expects of a store whose
 * `writesInOrder` is true.
 */
export class RunCreations {
  private held = new Map<string, HeldCreation>();
  /** Per run whose insert is held, taken or on its way: settles once it is stored or failed. */
  private readonly pending = new Map<string, Promise<void>>();
  private tick = false;
  /** The turn-by-turn watch of held inserts whose claim follows is on. */
  private watching = false;
  private idleTurns = 0;
  /** A claim took a held insert (or one was added) since the watch last looked. */
  private busy = false;

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
      const creation: HeldCreation = { run, resolve, reject, heldAt: performance.now() };
      const stored = new Promise<void>((settled) => {
        creation.resolve = (row) => (resolve(row), settled());
        creation.reject = (error) => (reject(error), settled());
      });
      this.pending.set(run.runId, stored);
      void stored.then(() => {
        if (this.pending.get(run.runId) === stored) this.pending.delete(run.runId);
      });
      this.held.set(run.runId, creation);
      if (run.claimFollows) this.watch();
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
    this.busy = true;
    // Until the claim stores it, the insert is in flight: a list or a read issued meanwhile waits for it.
    return creation;
  }

  /** Sends the held insert of `runId` now, if any, and waits for the insert of that run in flight (never rejects). */
  settle(runId: string): Promise<void> | undefined {
    const creation = this.held.get(runId);
    if (creation) this.sendHeld([creation]);
    return this.pending.get(runId);
  }

  /**
   * Waits until every insert held or in flight now is stored or failed (never rejects): those whose claim
   * follows by their claim or at the end of their hold, the others at once.
   */
  settleAll(): Promise<void> | undefined {
    this.sendDue();
    if (this.pending.size === 0) return undefined;
    return Promise.all(this.pending.values()).then(() => undefined);
  }

  /** Sends every held insert now and waits for every insert in flight (on close). */
  flushAll(): Promise<void> | undefined {
    this.sendHeld([...this.held.values()]);
    return this.settleAll();
  }

  /** Watches the turns of the event loop while inserts whose claim follows are held (see `IDLE_TURNS`). */
  private watch(): void {
    this.busy = true;
    if (this.watching) return;
    this.watching = true;
    this.idleTurns = 0;
    setImmediate(this.lookAgain);
  }

  /** Sends the held inserts whose claim no longer looks to follow: all after idle turns, else those held too long. */
  private readonly lookAgain = (): void => {
    const now = performance.now();
    const waiting = [...this.held.values()].filter((creation) => creation.run.claimFollows);
    this.idleTurns = this.busy ? 0 : this.idleTurns + 1;
    this.busy = false;
    const due =
      this.idleTurns >= IDLE_TURNS
        ? waiting
        : waiting.filter((creation) => now - (creation.heldAt ?? 0) >= CLAIM_WAIT_MS);
    this.sendHeld(due);
    if (due.length < waiting.length) setImmediate(this.lookAgain);
    else this.watching = false;
  };

  /** Sends the held inserts that wait for no claim. */
  private readonly sendDue = (): void => {
    this.tick = false;
    const due: HeldCreation[] = [];
    for (const creation of this.held.values()) if (!creation.run.claimFollows) due.push(creation);
    this.sendHeld(due);
  };

  private sendHeld(batch: HeldCreation[]): void {
    if (batch.length === 0) return;
    for (const { run } of batch) this.held.delete(run.runId);
    void this.send(batch).catch((error: unknown) => {
      for (const creation of batch) creation.reject(error);
    });
  }
}
/** True when a claim's `condition` holds for a run just created (pending, epoch 0); one on `updatedAt` is checked against the stored row. */
export function holdsForNewRun(condition: RunCondition): boolean {
  return (
    (condition.status === undefined || condition.status.includes('pending')) &&
    (condition.epoch === undefined || condition.epoch === 0) &&
    condition.updatedAt === undefined
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
 * as `updateRunQuery` does (`changedRun` makes the row); an id in use inserts nothing and answers with no row. As `updateRunQuery`'s UPDATE, it can
 * carry journal entries (`updateWithEntriesQuery`).
 */
export function insertChangedRunQuery(s: string, run: NewRun, change: RunChange & { bumpEpoch?: boolean }): PgQuery {
  return {
    text: `INSERT INTO ${s}.runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at,
        lease_owner, lease_expires_at, wake_at, input, outcome)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      ON CONFLICT (run_id) DO NOTHING RETURNING ${readBack(change)}`,
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
