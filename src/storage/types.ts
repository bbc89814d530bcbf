// The storage contract: the few primitives every adapter implements, grouped by resource.
//
// Runs are rows with a status that only changes by compare-and-set, and an epoch (a fencing
// token) that every claim bumps. The journal is an append-only, per-run sequence of entries;
// it is the source of truth for a run and doubles as its event log (events are journal
// entries, so a stream can be replayed from any `seq`). Leases say which process executes a
// run and until when; timers are the `wakeAt` of sleeping runs. Values cross this boundary as
// JSON text: the engine serialises once and adapters store the text as it is.

/** Every status a run can be in. */
export type RunStatus = 'pending' | 'running' | 'waiting' | 'suspended' | 'paused' | 'success' | 'failed' | 'canceled';

/** Every run status, in lifecycle order (for validating filters and listing choices). */
export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'waiting',
  'suspended',
  'paused',
  'success',
  'failed',
  'canceled',
];

/** Statuses after which nothing executes until a user acts (resume, time travel). */
export const FINISHED_STATUSES: readonly RunStatus[] = ['success', 'failed', 'canceled'];
/** Statuses in which some process owns and executes the run. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['running', 'waiting'];

/** One run as stored. */
export interface StoredRun {
  runId: string;
  workflowId: string;
  resourceId: string | null;
  status: RunStatus;
  /** Fencing token: bumped by every claim; a write carrying an older epoch is refused. */
  epoch: number;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** Which process executes the run, and until when its lease holds. */
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** For a `waiting` run: when its sleep ends (epoch ms). */
  wakeAt: number | null;
  /** JSON text of the workflow input, once started. */
  input: string | null;
  /** JSON text of the latest outcome projection: `{ result }`, `{ error }`, `{ suspended, ... }`. */
  outcome: string | null;
}

/** What `createRun` needs. */
export interface NewRun {
  runId: string;
  workflowId: string;
  resourceId: string | null;
  createdAt: number;
  /**
   * Set by the engine for a new id it made, whose insert it does not wait for: its claim follows at once.
   * A store may hold the insert briefly and make it with the claim (Postgres: one statement for both).
   */
  claimFollows?: boolean;
}

/** Fields of a run that a transition may set. */
export interface RunChange {
  status?: RunStatus;
  leaseOwner?: string | null;
  leaseExpiresAt?: number | null;
  wakeAt?: number | null;
  input?: string | null;
  outcome?: string | null;
  updatedAt: number;
}

/** Conditions of a compare-and-set: each given field must hold for the change to apply. */
export interface RunCondition {
  /** The run's status must be one of these. */
  status?: readonly RunStatus[];
  /** The run's epoch must equal this. */
  epoch?: number;
  /**
   * The run's `updatedAt` must equal this: the row has not changed since it was seen with that value
   * (nor been deleted and created again under the same id).
   */
  updatedAt?: number;
}

/**
 * One journal entry, as appended. `seq` is per run, strictly increasing, assigned by the owner.
 * Storage keeps `type` and `data` as they come: their kinds, shapes and format versions belong to
 * the journal layer (`src/journal/entries.ts`), which checks them as it reads entries back.
 */
export interface JournalEntry {
  seq: number;
  type: string;
  /** JSON text. */
  data: string;
  /** Epoch ms. */
  at: number;
}

/** Filter and page for `listRuns`. `page` is 0-based; newest runs come first. */
export interface RunFilter {
  workflowId?: string;
  status?: RunStatus | readonly RunStatus[];
  resourceId?: string;
  fromDate?: number;
  toDate?: number;
  /** Only the runs of this schedule's fires (a stored schedule's id, see `ScheduleStore`). */
  scheduleId?: string;
  page?: number;
  perPage?: number;
}

/** Which finished runs `pruneRuns` deletes: statuses among `success`, `failed`, `canceled`, last changed before a time. */
export interface PruneFilter {
  /** Finished statuses only; any other is refused (`INVALID_ARGUMENT`). */
  statuses: readonly RunStatus[];
  /** Runs whose `updatedAt` (when they finished) is before this (epoch ms). */
  updatedBefore: number;
  /** At most this many runs: one batch, one transaction. */
  limit: number;
}

/** Runs: create, read, list, delete, prune, and change by compare-and-set. */
interface RunStore {
  /** Inserts a `pending` run with epoch 0. Returns the stored run; if the id exists, returns the existing row unchanged. */
  createRun(run: NewRun): Promise<StoredRun>;
  /**
   * True when every operation sees the writes issued before it, awaited or not (one connection, or
   * writes queued and committed in order). The engine then does not wait for the insert of a run
   * whose id it just made before going on: a start issued at once is committed with it.
   */
  readonly writesInOrder?: boolean;
  /**
   * True when `updateRun` checks `RunCondition.updatedAt` (every store of this package does, and the
   * conformance suite checks it). The engine plans a resume from its copy of a suspended run only then:
   * a store that ignored the condition could let it claim a run deleted and created again since.
   */
  readonly checksUpdatedAt?: boolean;
  getRun(runId: string): Promise<StoredRun | null>;
  listRuns(filter?: RunFilter): Promise<{ runs: StoredRun[]; total: number }>;
  /** Deletes the run and its journal. Returns false when there was no such run. */
  deleteRun(runId: string): Promise<boolean>;
  /**
   * Deletes, in one transaction, up to `limit` finished runs matching `filter`, with their journals
   * and, for scheduled runs, their schedule fires (found by the key the run id names); returns how many. A run that is active, suspended, paused or pending is never touched, nor one
   * whose status or `updatedAt` changes while it is pruned (a time travel starting, say). The caller
   * repeats until fewer than `limit` come back, so writers get their turn between batches.
   */
  pruneRuns(filter: PruneFilter): Promise<number>;
  /**
   * Compare-and-set: when every `condition` holds, applies `change` (bumping the epoch when
   * `bumpEpoch`), appends `entries`, all in one transaction, and returns the new row. Returns
   * null, changing nothing, when a condition does not hold or the run does not exist.
   */
  updateRun(
    runId: string,
    condition: RunCondition,
    change: RunChange & { bumpEpoch?: boolean },
    entries?: readonly JournalEntry[],
  ): Promise<StoredRun | null>;
}

/** The journal: append (fenced by epoch) and read. */
export interface JournalStore {
  /**
   * True when the store keeps the engine's entries as values and makes their JSON text only when
   * read (`MemoryStorage`). Otherwise the engine makes the text as it records each entry, so a
   * durable store keeps the value as it was when the step finished, and a value that cannot be
   * serialized fails its own run rather than a transaction shared with others.
   */
  readonly keepsValues?: boolean;
  /**
   * Appends entries if the run's epoch still equals `epoch`; otherwise rejects with a
   * `WeftError` of code `RUN_OWNERSHIP_LOST` and appends nothing. This is the hot path:
   * adapters may group the appends of concurrent runs into one transaction, but the promise
   * resolves only once the entries are stored. Appends of one run issued without awaiting are
   * applied in the order they were issued. A `seq` not above the journal's last one is an
   * error (`STORAGE_ERROR`) and appends nothing.
   */
  appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void>;
  /**
   * `appendJournal` done at once, for a store in this process's memory: stored when it returns,
   * throwing what `appendJournal` would reject with. The engine then has nothing to wait for
   * before a step runs. A store that writes elsewhere leaves it out.
   */
  appendJournalNow?(runId: string, epoch: number, entries: readonly JournalEntry[]): void;
  /** Entries with `seq > afterSeq` (all when omitted), in order, at most `limit` of them. */
  readJournal(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<JournalEntry[]>;
  /**
   * The run and its whole journal as of one moment, or null when there is no such run: one round trip
   * where `getRun` and `readJournal` take two (a resume reads both). Optional: without it the engine
   * calls those two (`readRunAndJournal`).
   */
  readRunWithJournal?(runId: string): Promise<{ run: StoredRun; journal: JournalEntry[] } | null>;
}

/** Leases and timers: which process owns which active run, and which runs need recovery. */
interface LeaseStore {
  /**
   * Extends the lease of `owner` on the given runs to `expiresAt`, for those it still owns
   * (status `running`/`waiting`, `leaseOwner = owner`). Returns the ids it still owns.
   */
  renewLeases(owner: string, runIds: readonly string[], expiresAt: number): Promise<string[]>;
  /**
   * Active runs (status `running` or `waiting`) whose lease expired before `now`, or that have
   * no lease, least recently updated first: their owner is gone and they need recovery.
   */
  listExpiredRuns(now: number, limit: number): Promise<StoredRun[]>;
}

/** Notifications of new journal entries, so a reader in another instance can follow a run live. */
export interface JournalNotifier {
  /** Calls `listener` (with the run id) after entries of that run were appended. Returns an unsubscribe function. */
  subscribe(runId: string, listener: () => void): () => void;
  /**
   * Tells every instance following this store that leases were released (runs handed over on a
   * shutdown, or after a storage failure), so that their recovery continues those runs now rather
   * than on its next pass. Optional, with `subscribeReleases`.
   */
  announceRelease?(): Promise<void>;
  /** Calls `listener` after any instance announced released leases. Returns an unsubscribe function. */
  subscribeReleases?(listener: () => void): () => void;
}

/** A workflow's schedule as stored: its cron, what its runs start with, and where it stands. */
export interface StoredSchedule {
  /** `wf_<workflowId>` or `wf_<workflowId>__<id>` (ids URL-encoded, `_` included). */
  scheduleId: string;
  workflowId: string;
  cron: string;
  timezone: string | null;
  /** JSON text of the run's input, state and request context, metadata and policies (the engine owns its shape). */
  spec: string;
  paused: boolean;
  /** When the cron fires next (epoch ms); null when it never fires again. */
  nextFireAt: number | null;
  lastFireAt: number | null;
  lastRunId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A schedule as declared by the code, for `syncSchedules`. */
export interface ScheduleDefinition {
  scheduleId: string;
  workflowId: string;
  cron: string;
  timezone: string | null;
  spec: string;
  /** The next fire under this cron: taken when the schedule is new or its cron or timezone changed. */
  nextFireAt: number | null;
}

/**
 * One fire claimed by `claimScheduleFire`: `advance` moves the schedule's next fire by compare-and-set
 * (absent for a manual fire); `fire` records a fire and creates its run, `pending`, in the same
 * transaction (absent when the fires passed are skipped: the advance alone).
 */
export interface ScheduleFireClaim {
  scheduleId: string;
  advance?: { from: number; to: number | null };
  fire?: { fireAt: number; runId: string; manual: boolean };
  /** Epoch ms: the claim's time (the run's `createdAt`). */
  at: number;
}

/** A recorded fire of a schedule, with the status of its run (null once the run was deleted). */
export interface ScheduleFire {
  scheduleId: string;
  fireAt: number;
  runId: string;
  manual: boolean;
  claimedAt: number;
  runStatus: RunStatus | null;
}

/**
 * Schedules: rows the code declares (`syncSchedules`), and their fires, each claimed exactly once.
 * The claim is the only way a fire happens: a compare-and-set on the schedule's next fire, and a
 * fire keyed by (schedule, fire time) whose run is created with it, so processes sharing the store
 * start each fire once.
 */
export interface ScheduleStore {
  /**
   * Makes the stored schedules of `workflowIds` the given ones: inserts new ones, updates the cron,
   * timezone and spec of existing ones (keeping their next fire unless the cron or timezone changed,
   * and their paused flag and last fire always), and deletes those of these workflows not given
   * (their fires stay, and so their runs stay listed by schedule id). One transaction.
   */
  syncSchedules(workflowIds: readonly string[], schedules: readonly ScheduleDefinition[], at: number): Promise<void>;
  /** Stored schedules by id, of one workflow when given. */
  listSchedules(filter?: { workflowId?: string }): Promise<StoredSchedule[]>;
  getSchedule(scheduleId: string): Promise<StoredSchedule | null>;
  /**
   * Claims a fire (see `ScheduleFireClaim`), all or nothing: false, changing nothing, when the
   * schedule is gone, `advance.from` is no longer its next fire, it is paused (for an advance), or
   * the fire's time is already recorded. Sets the last fire and last run of the schedule.
   */
  claimScheduleFire(claim: ScheduleFireClaim): Promise<boolean>;
  /** Pauses or resumes; a resume sets the next fire (what was missed while paused is not made up). Null when there is no such schedule. */
  setSchedulePaused(
    scheduleId: string,
    paused: boolean,
    nextFireAt: number | null,
    at: number,
  ): Promise<StoredSchedule | null>;
  /** Deletes the schedule (its fires and runs stay). False when there was none. */
  deleteSchedule(scheduleId: string): Promise<boolean>;
  /** The schedule's fires, newest first, at most `limit`. */
  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFire[]>;
}

/**
 * A storage adapter. `init()` runs the versioned migrations and must be called (the engine
 * does) before any other method; it is idempotent and safe to run from several processes.
 */
export interface WeftStorage extends RunStore, JournalStore, LeaseStore, ScheduleStore {
  /** A short name for logs and errors: 'memory', 'sqlite', 'postgres'. */
  readonly kind: string;
  init(): Promise<void>;
  close(): Promise<void>;
  /** Present when the adapter can tell other instances about new entries (memory, Postgres). */
  readonly notifier?: JournalNotifier;
  /**
   * The dispatch of step attempts to the workers that share this storage, made on first use (Postgres);
   * absent where no worker can take them.
   */
  stepDispatch?(options: {
    now: () => number;
    logger: { warn(message: string, ...details: unknown[]): void };
  }): StepDispatch;
}

/** One attempt of a step, to be executed by any worker: what its context is made of. */
export interface DispatchedAttempt {
  /** Unique per attempt: the step's dispatch id and the attempt's number (`<id>:<n>`). */
  attemptId: string;
  /** The step's dispatch id, which every attempt of the step shares (its start entry carries it). */
  dispatchId: string;
  runId: string;
  workflowId: string;
  /** The coordinator's epoch: a worker reads the run's journal once per epoch. */
  epoch: number;
  /** The step's key (a foreach item `2[7]`, a parallel branch `2.1`, inside nested workflows `4/2[7]`). */
  key: string;
  inputData: unknown;
  /** The run's state when the attempt was dispatched. */
  state: Record<string, unknown>;
  requestContext: Record<string, unknown>;
  retryCount: number;
  /** The step was interrupted by a crash and runs again. */
  restarting: boolean;
}

/** What one attempt did: its value (or error), what it asked for, and what it wrote, in order. */
export interface AttemptResult {
  /** `execute` threw: `value` is the serialized error. */
  threw?: true;
  value: unknown;
  suspended?: { payload: unknown; labels?: string[] };
  bailed?: { value: unknown };
  stateUpdate?: Record<string, unknown>;
  /** The step called `abort()`: the run is canceled, its value still its output. */
  aborted?: true;
  /** Model usage an agent step reported (`StepUsage`). */
  usage?: Record<string, unknown>;
  /** `writer.write` and `writer.custom` calls, in order. */
  writes?: { type: 'step-output' | 'custom'; data: Record<string, unknown> }[];
}

/**
 * Where a run's step attempts go to be executed by any worker (fan-out). The run's own execution keeps
 * everything that makes a step durable (its entries, validation, retries, state, progress); only the
 * call of `execute` goes out, and comes back as an `AttemptResult`. A storage shared by workers
 * provides one (`WeftStorage.stepDispatch`).
 */
export interface StepDispatch {
  /** A new dispatch id, unique across processes. */
  newId(): string;
  /**
   * Takes a slot of this process's worker for a step that may execute here rather than be dispatched:
   * returns the function that gives it back once the step ends, or undefined when no slot is free.
   */
  takeLocalSlot?(): (() => void) | undefined;
  /** Stores the attempt for any worker; settles with what it did once a worker executed it. */
  attempt(attempt: DispatchedAttempt): Promise<AttemptResult>;
  /**
   * The run's execution here (at `epoch`) stopped: its attempts are no longer waited for, and with
   * `cancel` (the run was canceled, not handed over to go on elsewhere) they are canceled wherever they
   * execute, unless the run was taken over past `epoch` without being canceled (its new owner awaits them).
   */
  stop(runId: string, epoch: number, cancel: boolean): void;
  /** The step's outcome is stored in the journal: its attempts may be forgotten. */
  recorded(dispatchId: string): void;
}
