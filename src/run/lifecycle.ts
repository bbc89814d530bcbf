// Claim, execute, finish: what start, resume, restart and time travel share.
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import { Execution, type Level, type Outcome } from '../engine/execution.js';
import { runLevel } from '../engine/executor.js';
import type { EntryDataMap } from '../journal/entries.js';
import { JournalWriter, type DeferredClaim } from '../journal/writer.js';
import { announceToListeners } from '../events/announce.js';
import { RunProjection } from '../journal/projection.js';
import { notSerializable, serializeError } from '../journal/serialize-error.js';
import { RequestContext } from '../request-context.js';
import { validate, type ValidationResult } from '../schema/validate.js';
import { DeferredEntry, toJson } from '../journal/encoding.js';
import type { JournalEntry, RunChange, RunCondition, RunStatus, StoredRun } from '../storage/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { CallbackInfo, WorkflowResult } from '../workflow/types.js';
import { buildResult } from './result.js';
import type { OutputOptions } from '../workflow/run-types.js';
import type { Weft } from './weft.js';

/** Statuses a cancel may end. */
export const CANCELABLE: readonly RunStatus[] = ['pending', 'running', 'waiting', 'suspended', 'paused'];

/** Step ends that record as `canceled` every step still running or waiting (nested ones and foreach items included). */
export function canceledStepEnds(projection: RunProjection, at: number): EntryDataMap['step-end'][] {
  const ends: EntryDataMap['step-end'][] = [];
  for (const rec of projection.records.values()) {
    if (rec.status !== 'running' && rec.status !== 'waiting') continue;
    ends.push({
      key: rec.key,
      id: rec.id,
      status: 'canceled',
      endedAt: at,
      ...(rec.item === undefined ? {} : { item: rec.item }),
    });
  }
  return ends;
}

/** Reads a run's journal and folds it. */
export async function loadProjection(weft: Weft, runId: string): Promise<RunProjection> {
  const projection = new RunProjection();
  const entries = await weft.storage.readJournal(runId);
  projection.applyStored(entries, runId);
  return projection;
}

/** A plain object of request context values from either form callers pass. */
export function plainContext(rc: RequestContext<any> | Record<string, unknown> | undefined): Record<string, unknown> {
  if (!rc) return {};
  if (rc instanceof RequestContext) return rc.toJSON();
  if (typeof (rc as { entries?: unknown }).entries === 'function')
    return Object.fromEntries((rc as unknown as RequestContext).entries());
  return { ...rc };
}

/** Entries to write with a claim: numbered after what the journal holds. */
export function numbered<T extends keyof EntryDataMap>(
  seq: number,
  type: T,
  data: EntryDataMap[T],
  at: number,
): JournalEntry {
  const entry = new DeferredEntry(seq, type, data, at);
  void entry.data; // the text of the moment, whatever the store (these are few)
  return entry;
}

/** What a claim changes: the run is running here, under a new epoch and this instance's lease. */
function claimChange(weft: Weft, input: string | undefined): RunChange & { bumpEpoch: true } {
  const now = weft.clock.now();
  const change: RunChange & { bumpEpoch: true } = {
    status: 'running',
    bumpEpoch: true,
    leaseOwner: weft.instanceId,
    leaseExpiresAt: now + weft.leaseMs,
    wakeAt: null,
    updatedAt: now,
  };
  if (input !== undefined) change.input = input;
  return change;
}

/** Why a claim found the run in no state to take: RUN_ALREADY_CLAIMED with what was found, or RUN_NOT_FOUND. */
async function claimRefused(weft: Weft, runId: string, from: readonly RunStatus[], verb: string): Promise<WeftError> {
  const current = await weft.storage.getRun(runId);
  // A start finding the run past "running" is a second start, not a lost race.
  const hint =
    verb === 'start' && current && current.status !== 'running' && current.status !== 'waiting'
      ? 'a run starts only once: create a new run, or time travel to run it again'
      : 'another caller claimed it first';
  return new WeftError(
    current ? 'RUN_ALREADY_CLAIMED' : 'RUN_NOT_FOUND',
    current
      ? `Cannot ${verb} run "${runId}": its status is "${current.status}", expected ${from.map((s) => `"${s}"`).join(' or ')}; ${hint}`
      : `Cannot ${verb} run "${runId}": no such run in storage`,
    { runId, ...(current ? { actualStatus: current.status } : {}) },
  );
}

/** What a claim requires: one of the statuses `from`, and the epoch last seen when given. */
type ClaimCondition = { epoch?: number; input?: string };

function claimCondition(from: readonly RunStatus[], extra: ClaimCondition): RunCondition {
  return extra.epoch === undefined ? { status: from } : { status: from, epoch: extra.epoch };
}

/** Claims a run by compare-and-set; returns the new row or throws RUN_ALREADY_CLAIMED with what was found. */
export async function claim(
  weft: Weft,
  runId: string,
  from: readonly RunStatus[],
  verb: string,
  extra: ClaimCondition = {},
): Promise<StoredRun> {
  // Thousands of runs started at once would otherwise hold the event loop until all are claimed.
  const turn = eventLoopTurn();
  if (turn) await turn;
  const row = await weft.storage.updateRun(runId, claimCondition(from, extra), claimChange(weft, extra.input));
  if (row) return row;
  throw await claimRefused(weft, runId, from, verb);
}

/** The same claim, made by the execution's first write (see `DeferredClaim`); `claimed` is called once it is made. */
export function deferredClaim(
  weft: Weft,
  runId: string,
  from: readonly RunStatus[],
  verb: string,
  extra: ClaimCondition,
  claimed: (() => void) | undefined,
  /** The run's insert, if not waited for: when it failed, the claim is refused with its error. */
  created?: Promise<unknown>,
): DeferredClaim {
  const condition = claimCondition(from, extra);
  const change = claimChange(weft, extra.input);
  return {
    claimed,
    async write(entries, final) {
      const row = await weft.storage.updateRun(runId, condition, final ? { ...change, ...final } : change, entries);
      if (row) return row.epoch;
      await created;
      throw await claimRefused(weft, runId, from, verb);
    },
  };
}

export interface ExecuteOptions {
  /** The run: as claimed, or as it will be once `claim` is made (its epoch then comes from the claim). */
  run: Pick<StoredRun, 'runId' | 'workflowId' | 'resourceId' | 'epoch'>;
  /** The claim, when the execution's first write makes it. */
  claim?: DeferredClaim;
  projection: RunProjection;
  requestContext: RequestContext<any>;
  perStep: boolean;
  resumeKeys?: readonly string[];
  resumeData?: unknown;
  resumeLabel?: string;
  outputOptions?: OutputOptions;
  /** Entries to add first (they are written with the first flush). */
  first?: { [K in keyof EntryDataMap]: [K, EntryDataMap[K]] }[keyof EntryDataMap];
  /** The JSON text of `first`'s data, when the caller made it already (to check it before claiming). */
  firstText?: string;
  /** Called once the execution has ended, before its result is returned. */
  release?: () => void;
}

/** Executes a claimed run to its next stop (success, failure, suspension, pause, cancel) and records it. */
export async function execute(weft: Weft, workflow: Workflow, options: ExecuteOptions): Promise<WorkflowResult> {
  const { run, projection } = options;
  const graph = workflow.graph;
  const writer = new JournalWriter({
    store: weft.storage,
    runId: run.runId,
    epoch: run.epoch,
    lastSeq: projection.lastSeq,
    projection,
    maxOutputEntries: weft.maxOutputEntries,
    now: weft.clock.now,
    announce: announceToListeners(run.runId, run.workflowId, weft.listenersOf, projection),
    claim: options.claim,
  });
  const exec = new Execution(
    run.runId,
    run.workflowId,
    run.resourceId ?? undefined,
    graph,
    writer,
    projection,
    options.requestContext,
    weft.services,
    options.perStep,
    options.resumeKeys ?? [],
    options.resumeData,
    options.resumeLabel,
  );
  const done = weft.track(exec);
  let outcome: Outcome;
  try {
    // Inside the try: an entry that cannot be stored fails the run rather than leave it claimed and idle.
    if (options.first) writer.add(options.first[0], options.first[1] as never, undefined, options.firstText);
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
    return await finish(weft, workflow, exec, outcome, options.outputOptions);
  } finally {
    done();
    options.release?.();
    exec.markFinished();
  }
}

async function finish(
  weft: Weft,
  workflow: Workflow,
  exec: Execution,
  outcome: Outcome,
  outputOptions: OutputOptions | undefined,
): Promise<WorkflowResult> {
  const { writer, projection, runId } = exec;
  const turn = eventLoopTurn();
  if (turn) await turn;
  const settling = writer.settle();
  if (settling) await settling;
  // The run was never this execution's: the caller learns why, as from a claim made first.
  if (writer.claimRefused) throw writer.failed;
  if (exec.handedOver) return handOver(weft, exec);
  if (writer.failed !== undefined || (outcome.kind === 'failed' && WeftError.is(outcome.error, 'RUN_OWNERSHIP_LOST'))) {
    return lostOwnership(weft, exec, writer.failed ?? (outcome as { error: unknown }).error, outputOptions);
  }
  if (exec.canceled) outcome = { kind: 'canceled' };
  if (outcome.kind === 'success') {
    const checked = checkWorkflowOutput(workflow, exec, outcome.output);
    outcome = checked instanceof Promise ? await checked : checked;
  }
  const state = projection.state;
  const requestContext = exec.requestContext.toJSON();
  let end: EntryDataMap['run-end'];
  switch (outcome.kind) {
    case 'success':
    case 'bailed':
      end = { status: 'success', result: outcome.output, state, requestContext };
      break;
    case 'failed':
      end = { status: 'failed', error: serializeError(outcome.error), state, requestContext };
      break;
    case 'suspended':
      end = { status: 'suspended', state, requestContext };
      break;
    case 'paused':
      writer.add('run-pause', {});
      end = { status: 'paused', state, requestContext };
      break;
    case 'canceled':
      for (const end of canceledStepEnds(projection, weft.clock.now())) writer.add('step-end', end);
      writer.add('run-cancel', {});
      end = { status: 'canceled', state, requestContext };
      break;
  }
  let outcomeJson: string;
  try {
    outcomeJson = toJson(end.status === 'success' ? { result: end.result } : end.error ? { error: end.error } : {});
    writer.add('run-end', end);
  } catch (error) {
    // The result, state or request context cannot be stored as JSON: the run fails with that, without them.
    const failure = notSerializable(`Run "${runId}" ended with a value that cannot be stored as JSON`, error, {
      runId,
    });
    end = { status: 'failed', error: serializeError(failure), state: {}, requestContext: {} };
    outcomeJson = toJson({ error: end.error });
    writer.add('run-end', end);
  }
  const change: RunChange = {
    status: end.status,
    leaseOwner: null,
    leaseExpiresAt: null,
    wakeAt: null,
    outcome: outcomeJson,
    updatedAt: weft.clock.now(),
  };
  // A run that stops before its first write is claimed and ends in this one write.
  const claimed = writer.claimWith(change);
  if (claimed) await claimed;
  else {
    let stored: StoredRun | null;
    try {
      stored = await writer.writeLast((entries) =>
        weft.storage.updateRun(runId, { epoch: writer.epoch }, change, entries),
      );
    } catch (error) {
      if (WeftError.is(error, 'STORAGE_ERROR')) return outcomeUnknown(weft, exec, error);
      throw error;
    }
    if (!stored) return lostOwnership(weft, exec, undefined, outputOptions);
  }
  if (workflow.options.onFinish || workflow.options.onError) await runCallbacks(weft, workflow, exec, end);
  return buildResult(projection, runId, outputOptions);
}

/**
 * The engine instance closed while the run executed: keep what finished, record no outcome, and
 * expire the lease so that another instance continues the run at once (steps in flight run again
 * there with `restart: true`).
 */
async function handOver(weft: Weft, exec: Execution): Promise<never> {
  const { runId } = exec;
  await releaseLease(weft, exec);
  // Other instances continue it now rather than on their next recovery pass.
  await weft.storage.notifier?.announceRelease?.().catch(() => undefined);
  throw new WeftError(
    'ENGINE_CLOSED',
    `Run "${runId}" stopped here because its engine instance closed; it stays active and another instance continues it`,
    { runId },
  );
}

/**
 * Stores what is pending and expires the run's lease, so that the next recovery pass (of any
 * instance, this one included) continues the run. If storage fails, the lease expires by itself.
 */
async function releaseLease(weft: Weft, exec: Execution): Promise<void> {
  const { writer, runId } = exec;
  // What cannot be stored now runs again under recovery: the lease is released all the same.
  await writer.flush().catch(() => undefined);
  try {
    await weft.storage.updateRun(runId, { epoch: writer.epoch }, { leaseExpiresAt: 0, updatedAt: weft.clock.now() });
  } catch (error) {
    weft.logger.warn(`weft: run "${runId}" could not be handed over cleanly; its lease will expire`, error);
  }
}

/**
 * Storage failed after the run was claimed (a lost connection, a full disk): the run holds its
 * finished steps and may even have ended, but this execution cannot tell. It is not failed (the
 * steps did not fail, and the write that would record it may fail too): its lease is released and
 * recovery continues it from its last stored step. The caller learns that the outcome is unknown.
 */
async function outcomeUnknown(weft: Weft, exec: Execution, cause: WeftError): Promise<never> {
  await releaseLease(weft, exec);
  throw new WeftError(
    'OUTCOME_UNKNOWN',
    `The outcome of run "${exec.runId}" is not known: storage failed while it executed (${cause.message}); the run stays active and recovery continues it from its last stored step, so read its status later`,
    { runId: exec.runId, workflowId: exec.workflowId, cause },
  );
}

/** The run's output checked against the workflow's schema; through a promise only when the schema validates asynchronously. */
function checkWorkflowOutput(workflow: Workflow, exec: Execution, output: unknown): Outcome | Promise<Outcome> {
  const r = validate(workflow.outputSchema, output);
  return r instanceof Promise ? r.then((v) => outputOutcome(workflow, exec, v)) : outputOutcome(workflow, exec, r);
}

function outputOutcome(workflow: Workflow, exec: Execution, v: ValidationResult<unknown>): Outcome {
  if (v.ok) return { kind: 'success', output: v.value };
  const lines = v.issues.map((i) => `\n- ${i.path}: ${i.message}`).join('');
  return {
    kind: 'failed',
    error: new WeftError(
      'STEP_OUTPUT_INVALID',
      `Workflow output validation failed for workflow '${workflow.id}': ${lines}`,
      {
        runId: exec.runId,
        workflowId: workflow.id,
        issues: v.issues,
      },
    ),
  };
}

/** Another owner (a cancel, a restart) took the run: report what storage now says. */
async function lostOwnership(
  weft: Weft,
  exec: Execution,
  error: unknown,
  outputOptions: OutputOptions | undefined,
): Promise<WorkflowResult> {
  // A write refused for storage trouble, not for another owner: nobody took the run over.
  if (WeftError.is(error, 'STORAGE_ERROR')) return outcomeUnknown(weft, exec, error);
  const row = await weft.storage.getRun(exec.runId);
  if (row?.status === 'canceled') {
    const projection = await loadProjection(weft, exec.runId);
    return buildResult(projection, exec.runId, outputOptions);
  }
  throw (
    error ??
    new WeftError('RUN_OWNERSHIP_LOST', `Run "${exec.runId}" was taken over by another owner before it finished here`, {
      runId: exec.runId,
    })
  );
}

async function runCallbacks(
  weft: Weft,
  workflow: Workflow,
  exec: Execution,
  end: EntryDataMap['run-end'],
): Promise<void> {
  const { onFinish, onError } = workflow.options;
  const info: CallbackInfo = {
    status: end.status,
    runId: exec.runId,
    workflowId: exec.workflowId,
    resourceId: exec.resourceId,
    steps: exec.projection.displaySteps(false),
    state: end.state,
    stepExecutionPath: exec.projection.stepExecutionPath,
    requestContext: exec.requestContext,
    getInitData: () => exec.projection.input as any,
    logger: weft.logger,
    weft,
    mastra: weft,
    ...(end.status === 'success' ? { result: end.result } : {}),
    ...(end.error ? { error: end.error } : {}),
  };
  const call = async (name: string, fn: ((i: CallbackInfo) => unknown) | undefined): Promise<void> => {
    if (!fn) return;
    try {
      await fn(info);
    } catch (error) {
      weft.logger.error(
        `weft: ${name} of workflow "${workflow.id}" threw for run "${exec.runId}"`,
        serializeError(error),
      );
    }
  };
  if (end.status !== 'canceled' && end.status !== 'paused') await call('onFinish', onFinish);
  if (end.status === 'failed') await call('onError', onError);
}
