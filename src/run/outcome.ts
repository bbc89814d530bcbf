// Recording where a run stopped: its end (success, failure, suspension, pause, cancel), a hand-over, or an outcome storage could not take.
import { WeftError } from '../errors.js';
import { eventLoopTurn } from '../engine/event-loop-turns.js';
import type { Execution, Outcome } from '../engine/execution.js';
import type { EntryDataMap } from '../journal/entries.js';
import type { RunProjection } from '../journal/projection.js';
import { notSerializable, serializeError } from '../journal/serialize-error.js';
import { validate, type ValidationResult } from '../schema/validate.js';
import { DeferredEntry, toJson } from '../journal/encoding.js';
import type { JournalEntry, RunChange, RunStatus, StoredRun } from '../storage/types.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { CallbackInfo, WorkflowResult } from '../workflow/types.js';
import { loadProjection } from './load-projection.js';
import { buildResult } from './result.js';
import type { RunServices } from './run-services.js';
import type { OutputOptions } from '../workflow/run-types.js';

/** Statuses a cancel may end. */
const CANCELABLE: readonly RunStatus[] = ['pending', 'running', 'waiting', 'suspended', 'paused'];

type CancelEntry = ['step-end', EntryDataMap['step-end']] | ['run-cancel', EntryDataMap['run-cancel']];

/** What a cancel records before the run's end: every step still running or waiting (nested ones and foreach items included) ends `canceled`. */
function cancelEntries(projection: RunProjection, at: number): CancelEntry[] {
  const entries: CancelEntry[] = [];
  for (const rec of projection.records.values()) {
    if (rec.status !== 'running' && rec.status !== 'waiting') continue;
    const end: EntryDataMap['step-end'] = { key: rec.key, id: rec.id, status: 'canceled', endedAt: at };
    if (rec.item !== undefined) end.item = rec.item;
    entries.push(['step-end', end]);
  }
  entries.push(['run-cancel', {}]);
  return entries;
}

/**
 * Records, from storage alone, the cancel of a run that no execution here holds: the run becomes `canceled`
 * under a new epoch (its owner elsewhere, if any, loses it at its next write or lease check), then its
 * running steps and its end are appended. A finished run is left as it is. Needs no workflow definition.
 */
export async function recordStoredCancel(services: RunServices, runId: string): Promise<void> {
  const { storage, clock } = services;
  const now = clock.now();
  const row = await storage.updateRun(
    runId,
    { status: CANCELABLE },
    { status: 'canceled', bumpEpoch: true, leaseOwner: null, leaseExpiresAt: null, wakeAt: null, updatedAt: now },
  );
  if (!row) return;
  // The previous owner can no longer append: the journal read now is complete.
  const projection = await loadProjection(storage, runId);
  const end: EntryDataMap['run-end'] = {
    status: 'canceled',
    state: projection.state,
    requestContext: projection.requestContext,
  };
  let seq = projection.lastSeq;
  const entries: JournalEntry[] = [];
  const numbered = (type: keyof EntryDataMap, data: unknown): void => {
    const entry = new DeferredEntry(++seq, type, data as never, now);
    void entry.data; // the text of the moment, whatever the store
    entries.push(entry);
  };
  for (const [type, data] of cancelEntries(projection, now)) numbered(type, data);
  numbered('run-end', end);
  await storage.appendJournal(runId, row.epoch, entries);
}

/**
 * Records where an execution stopped and gives its result: waits for its writes, then stores its end
 * (with the claim, for a run that stops before its first write), runs `onFinish`/`onError`, and builds
 * the result. A hand-over, a lost run or a storage failure is reported instead (see below).
 */
export async function recordOutcome(
  services: RunServices,
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
  if (exec.handedOver) return handOver(services, exec);
  if (writer.failed !== undefined || (outcome.kind === 'failed' && WeftError.is(outcome.error, 'RUN_OWNERSHIP_LOST'))) {
    return lostOwnership(services, exec, writer.failed ?? (outcome as { error: unknown }).error, outputOptions);
  }
  if (exec.canceled) outcome = { kind: 'canceled' };
  if (outcome.kind === 'success') {
    const validated = validateWorkflowOutput(workflow, exec, outcome.output);
    outcome = validated instanceof Promise ? await validated : validated;
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
      for (const [type, data] of cancelEntries(projection, services.clock.now())) writer.add(type, data as never);
      end = { status: 'canceled', state, requestContext };
      break;
  }
  if (exec.usage) end.usage = exec.usage;
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
    if (exec.usage) end.usage = exec.usage;
    outcomeJson = toJson({ error: end.error });
    writer.add('run-end', end);
  }
  const change: RunChange = {
    status: end.status,
    leaseOwner: null,
    leaseExpiresAt: null,
    wakeAt: null,
    outcome: outcomeJson,
    updatedAt: services.clock.now(),
  };
  // A run that stops before its first write is claimed and ends in this one write.
  const claimed = writer.claimWith(change);
  if (claimed) await claimed;
  else {
    let stored: StoredRun | null;
    try {
      stored = await writer.writeLast((entries) =>
        services.storage.updateRun(runId, { epoch: writer.epoch }, change, entries),
      );
    } catch (error) {
      if (WeftError.is(error, 'STORAGE_ERROR')) return outcomeUnknown(services, exec, error);
      throw error;
    }
    if (!stored) return lostOwnership(services, exec, undefined, outputOptions);
  }
  const { suspended } = services;
  if (suspended && end.status === 'suspended') {
    const journal = writer.takeJournal(() => suspended.forget(runId));
    if (journal) suspended.remember(runId, { epoch: writer.epoch, updatedAt: change.updatedAt, journal });
  }
  if (workflow.options.onFinish || workflow.options.onError) await runCallbacks(services, workflow, exec, end);
  return buildResult(projection, runId, outputOptions);
}

/**
 * The engine instance closed while the run executed: keep what finished, record no outcome, and
 * expire the lease so that another instance continues the run at once (steps in flight run again
 * there with `restart: true`).
 */
async function handOver(services: RunServices, exec: Execution): Promise<never> {
  const { runId } = exec;
  await releaseLease(services, exec);
  // Other instances continue it now rather than on their next recovery pass.
  await services.storage.notifier?.announceRelease?.().catch(() => undefined);
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
async function releaseLease(services: RunServices, exec: Execution): Promise<void> {
  const { writer, runId } = exec;
  // What cannot be stored now runs again under recovery: the lease is released all the same.
  await writer.flush().catch(() => undefined);
  try {
    await services.storage.updateRun(
      runId,
      { epoch: writer.epoch },
      { leaseExpiresAt: 0, updatedAt: services.clock.now() },
    );
  } catch (error) {
    services.logger.warn(`weft: run "${runId}" could not be handed over cleanly; its lease will expire`, error);
  }
}

/**
 * Storage failed after the run was claimed (a lost connection, a full disk): the run holds its
 * finished steps and may even have ended, but this execution cannot tell. It is not failed (the
 * steps did not fail, and the write that would record it may fail too): its lease is released and
 * recovery continues it from its last stored step. The caller learns that the outcome is unknown.
 */
async function outcomeUnknown(services: RunServices, exec: Execution, cause: WeftError): Promise<never> {
  await releaseLease(services, exec);
  throw new WeftError(
    'OUTCOME_UNKNOWN',
    `The outcome of run "${exec.runId}" is not known: storage failed while it executed (${cause.message}); the run stays active and recovery continues it from its last stored step, so read its status later`,
    { runId: exec.runId, workflowId: exec.workflowId, cause },
  );
}

/** The run's output checked against the workflow's schema; through a promise only when the schema validates asynchronously. */
function validateWorkflowOutput(workflow: Workflow, exec: Execution, output: unknown): Outcome | Promise<Outcome> {
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
  services: RunServices,
  exec: Execution,
  error: unknown,
  outputOptions: OutputOptions | undefined,
): Promise<WorkflowResult> {
  // A write refused for storage trouble, not for another owner: nobody took the run over.
  if (WeftError.is(error, 'STORAGE_ERROR')) return outcomeUnknown(services, exec, error);
  const row = await services.storage.getRun(exec.runId);
  if (row?.status === 'canceled') {
    const projection = await loadProjection(services.storage, exec.runId);
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
  services: RunServices,
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
    logger: services.logger,
    weft: services.instance,
    mastra: services.instance,
    ...(end.status === 'success' ? { result: end.result } : {}),
    ...(end.error ? { error: end.error } : {}),
  };
  const call = async (name: string, fn: ((i: CallbackInfo) => unknown) | undefined): Promise<void> => {
    if (!fn) return;
    try {
      await fn(info);
    } catch (error) {
      services.logger.error(
        `weft: ${name} of workflow "${workflow.id}" threw for run "${exec.runId}"`,
        serializeError(error),
      );
    }
  };
  if (end.status !== 'canceled' && end.status !== 'paused') await call('onFinish', onFinish);
  if (end.status === 'failed') await call('onError', onError);
}
