// The one path of every verb: a plan (start, resume, time travel, restart, takeover) is claimed, executed to its next stop, and its outcome recorded.
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import { Execution, type ExecutionOptions, type Level, type Outcome } from '../engine/execution.js';
import { runLevel } from '../engine/executor.js';
import { announceToListeners } from '../events/announce.js';
import type { EntryDataMap } from '../journal/entries.js';
import { JournalWriter, type DeferredClaim } from '../journal/writer.js';
import type { RunProjection } from '../journal/projection.js';
import { notSerializable } from '../journal/serialize-error.js';
import { toJson } from '../journal/encoding.js';
import type { JournalEntry, StoredRun } from '../storage/types.js';
import { MAX_COPIED_ENTRIES, MAX_COPIED_TEXT } from './suspended-runs.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { WorkflowResult } from '../workflow/types.js';
import { claimNow, deferredClaim, type ClaimSpec } from './claim.js';
import { loadProjection } from './load-projection.js';
import type { HeldHandle } from './local-runs.js';
import { recordOutcome } from './outcome.js';
import type { RunServices } from './run-services.js';
import type { OutputOptions } from '../workflow/run-types.js';

/** The entry that opens an execution in the journal: `run-start`, `run-resume`, `run-restart` or `run-time-travel`. */
type OpeningEntry = { [K in keyof EntryDataMap]: [K, EntryDataMap[K]] }[keyof EntryDataMap];

/** Where an execution begins: the run as the journal has it, and what this execution adds. */
interface ExecutionStart extends Pick<
  ExecutionOptions,
  'projection' | 'requestContext' | 'perStep' | 'resumeKeys' | 'resumeData' | 'resumeLabel'
> {
  /** Written with the execution's first write (with the claim, for most verbs). */
  opening: OpeningEntry;
  /**
   * The journal as stored before this execution (the one `projection` folds), when the verb read it or
   * knows it: should the run suspend, this process keeps a copy of it (`SuspendedRuns`).
   */
  journal?: readonly JournalEntry[];
}

/** What a verb asks of the pipeline: what to claim, and where execution begins. */
export interface RunPlan {
  claim: ClaimSpec;
  /**
   * Where execution begins. A function for a takeover: it is given the journal as read once the run is
   * claimed (the previous owner can no longer append, so that read is complete).
   */
  begin: ExecutionStart | ((projection: RunProjection) => ExecutionStart);
  outputOptions?: OutputOptions | undefined;
}

/** The run handle a plan executes for: held as its run's while it executes. */
export interface PlanOwner extends HeldHandle {
  readonly resourceId: string | undefined;
  /** The run's insert, when it was not waited for (see `writesInOrder`): its failure explains a refused claim. */
  readonly created?: Promise<unknown> | undefined;
}

/**
 * Runs a plan: claims the run, executes it to its next stop (success, failure, suspension, pause, cancel)
 * and records that. `onClaimed` is called once the run is this call's (streams relay its events from then).
 *
 * Most claims are made by the execution's first write, before any user code runs (one commit fewer).
 * A takeover claims first, then reads the journal; and while another execution of this run is under way
 * here, the claim is made first too, so that this one ends at once.
 */
export async function runPlan(
  services: RunServices,
  workflow: Workflow,
  owner: PlanOwner,
  plan: RunPlan,
  onClaimed?: () => void,
): Promise<WorkflowResult> {
  const { runId } = owner;
  const { begin } = plan;
  if (typeof begin === 'function') {
    const row = await claimNow(services, runId, plan.claim);
    onClaimed?.();
    const start = begin(await loadProjection(services.storage, runId));
    return executeToStop(services, workflow, owner, row, undefined, start, undefined, plan.outputOptions);
  }
  // What this call records first must be storable before the run is claimed: otherwise it would fail an existing
  // run. A durable store needs that text anyway; a store that keeps values cannot fail on it.
  const openingText = services.storage.keepsValues ? undefined : storable(begin.opening[1], 'data', runId);
  // Thousands of runs started at once would otherwise hold the event loop until all are claimed.
  const turn = eventLoopTurn();
  if (turn) await turn;
  // Checked after the turn, and nothing awaited until the execution is tracked: of two calls, the second
  // always sees the first.
  if (services.local.execution(runId)) {
    await owner.created;
    const row = await claimNow(services, runId, plan.claim);
    onClaimed?.();
    return executeToStop(services, workflow, owner, row, undefined, begin, openingText, plan.outputOptions);
  }
  const run = { runId, workflowId: workflow.id, resourceId: owner.resourceId ?? null, epoch: 0 };
  const claim = deferredClaim(services, runId, plan.claim, onClaimed, owner.created);
  return executeToStop(services, workflow, owner, run, claim, begin, openingText, plan.outputOptions);
}

/** The JSON text of a caller's value, or VALUE_NOT_SERIALIZABLE naming it (thrown before anything is claimed). */
export function storable(value: unknown, what: string, runId: string): string {
  try {
    return toJson(value);
  } catch (error) {
    throw notSerializable(`Cannot store the ${what} of run "${runId}" as JSON`, error, { runId });
  }
}

/**
 * Executes a run (claimed, or claimed by `claim` with its first write) from `start` to its next stop and
 * records it. The execution is tracked here, and `owner` held as its run's handle, until it has.
 */
async function executeToStop(
  services: RunServices,
  workflow: Workflow,
  owner: PlanOwner,
  /** The run: as claimed, or as it will be once `claim` is made (its epoch then comes from the claim). */
  run: Pick<StoredRun, 'runId' | 'workflowId' | 'resourceId' | 'epoch'>,
  claim: DeferredClaim | undefined,
  start: ExecutionStart,
  openingText: string | undefined,
  outputOptions: OutputOptions | undefined,
): Promise<WorkflowResult> {
  const { projection } = start;
  const graph = workflow.graph;
  const release = services.local.holdHandle(owner);
  const copying = services.suspended !== undefined && start.journal !== undefined;
  const writer = new JournalWriter({
    store: services.storage,
    runId: run.runId,
    epoch: run.epoch,
    lastSeq: projection.lastSeq,
    projection,
    maxOutputEntries: services.maxOutputEntries,
    now: services.clock.now,
    announce: announceToListeners(run.runId, run.workflowId, services.local.listenersOf, projection),
    claim,
    journal: copying ? [...start.journal!] : undefined,
    maxJournal: MAX_COPIED_ENTRIES,
    maxJournalText: MAX_COPIED_TEXT,
  });
  const exec = new Execution({
    runId: run.runId,
    workflowId: run.workflowId,
    resourceId: run.resourceId ?? undefined,
    graph,
    writer,
    projection,
    requestContext: start.requestContext,
    services,
    perStep: start.perStep,
    resumeKeys: start.resumeKeys,
    resumeData: start.resumeData,
    resumeLabel: start.resumeLabel,
    dispatch: services.stepDispatch(),
    fanOut: services.fanOut.has(run.workflowId),
  });
  const untrack = services.local.track(exec);
  let outcome: Outcome;
  try {
    // Inside the try: an entry that cannot be stored fails the run rather than leave it claimed and idle.
    writer.add(start.opening[0], start.opening[1] as never, undefined, openingText);
    const level: Level = {
      graph,
      keyPrefix: '',
      idPrefix: '',
      input: projection.input,
      outputs: new Map(),
      parent: undefined,
    };
    outcome = await runLevel(exec, level);
  } catch (error) {
    outcome = { kind: 'failed', error };
  }
  try {
    return await recordOutcome(services, workflow, exec, outcome, outputOptions);
  } finally {
    untrack();
    release();
    exec.markFinished();
  }
}
