// Executes one step: replays its stored result, or validates, runs with retries, and records it.
import { NonRetryableError, WeftError } from '../errors.js';
import { nestedPrefix } from '../journal/step-keys.js';
import { notSerializable } from '../journal/serialize-error.js';
import { validate } from '../schema/validate.js';
import type { CompiledStep } from '../workflow/graph.js';
import { addTokens, type StepUsage } from '../workflow/step-usage.js';
import type { StepStatus } from '../workflow/types.js';
import { eventLoopTurn } from './event-loop-turns.js';
import { stepValidationError, type Execution, type Level, type Outcome } from './execution.js';
import type { StepEndData, StepRetryData, StepStartData } from '../journal/entries.js';
import type { StepRecord } from '../journal/projection.js';
import { deserializeError, serializeError } from '../journal/serialize-error.js';
import { StepContext, type StepSignals } from './step-context.js';

/** Where a step runs from: its key, and extras for loop iterations and foreach items. */
export interface StepPlace {
  key: string;
  item?: number;
  metadata?: Record<string, unknown>;
  inPath?: boolean;
  /** A foreach item's progress once it ended with `status`. */
  progress?: (status: StepStatus) => { completedCount: number; totalCount: number };
  /**
   * A direct child of a parallel or branch block: a bail there ends only this child (its status stays
   * `bailed`, its value is its output in the block), as in the reference. Anywhere else a bail ends
   * the workflow level, and the step's status is `success` with `bailed: true` beside it.
   */
  absorbsBail?: boolean;
}

/** Runs a nested workflow's level; provided by the executor to avoid a module cycle. */
export type LevelRunner = (exec: Execution, level: Level) => Promise<Outcome>;

/** Thrown by a step's `end` when its entry could not be recorded; `runStep` turns it into a failed outcome. */
class NotRecorded {
  constructor(readonly failure: WeftError) {}
}

type Issue = { path: string; message: string };

type Checked<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** Validates synchronously when the schema allows; callers await only a promise, so a step costs no extra turns. */
function validateValue<T>(
  schema: CompiledStep['step']['inputSchema'] | undefined,
  value: unknown,
): Checked<T> | Promise<Checked<T>> {
  if (!schema) return { ok: true, value: value as T };
  return validate<T>(schema, value);
}

/** Replays a stored record: returns its outcome without running the step, or undefined to run it. */
function replay(exec: Execution, level: Level, cstep: CompiledStep, rec: StepRecord | undefined): Outcome | undefined {
  if (!rec) return undefined;
  if (rec.status === 'success' || rec.status === 'bailed') {
    // A branch that bailed has no successful output for getStepResult (its status says `bailed`).
    if (rec.item === undefined && rec.status === 'success') level.outputs.set(cstep.id, rec.output);
    return rec.status === 'bailed' || rec.bailed
      ? { kind: 'bailed', output: rec.output }
      : { kind: 'success', output: rec.output };
  }
  if (rec.status === 'suspended' && !exec.isResumeTarget(rec.key)) return { kind: 'suspended' };
  if (rec.status === 'failed') return { kind: 'failed', error: rec.error };
  return undefined; // running (interrupted), waiting, or a suspended step being resumed
}

type EndFields = Omit<StepEndData, 'key' | 'id' | 'endedAt'>;

/**
 * Completes `data` (a fresh object of the caller's) into the end entry of the step at `place`, and
 * records it. `inflight`: the step was counted in flight (a nested workflow is not: its steps are).
 */
function recordEnd(exec: Execution, place: StepPlace, id: string, data: EndFields, inflight = true): void {
  const { writer } = exec;
  const endedAt = exec.services.clock.now();
  const e = data as StepEndData;
  e.key = place.key;
  e.id = id;
  e.endedAt = endedAt;
  // Loop iterations carry their iterationCount on every end: success, failure, bail or suspension.
  if (place.metadata) e.metadata = place.metadata;
  if (place.item !== undefined) {
    e.item = place.item;
    if (place.progress) e.progress = place.progress(e.status);
  }
  if (inflight) exec.inflight--;
  try {
    writer.add('step-end', e, endedAt);
  } catch (error) {
    // What the step produced cannot be stored as JSON (a toJSON that throws, say): the step fails with that.
    const failure = notSerializable(`Step "${id}" produced a value that cannot be stored as JSON`, error, {
      stepId: id,
      runId: exec.runId,
    });
    const failed: StepEndData = { key: place.key, id, endedAt, status: 'failed', error: serializeError(failure) };
    if (place.item !== undefined) failed.item = place.item;
    if (place.metadata) failed.metadata = place.metadata;
    writer.add('step-end', failed, endedAt);
    throw new NotRecorded(failure);
  }
  // While sibling steps (parallel branches, foreach items) still execute, store this result now,
  // so a crash re-runs only what had not finished. A failed write is kept in `writer.failed`.
  if (exec.inflight > 0) writer.flushNow()?.catch(() => undefined);
}

/** A step between its start entry and its end: what its attempts share. */
interface Running {
  exec: Execution;
  level: Level;
  cstep: CompiledStep;
  place: StepPlace;
  /** Display id (dotted inside nested workflows). */
  id: string;
  inputData: unknown;
  resumeData: unknown;
  suspendData: unknown;
  resuming: boolean;
  restarting: boolean;
  attempts: number;
  /** When the attempt under way began (for the `step-retry` entry of a failed one). */
  attemptStartedAt: number;
  /** Model usage the last attempt reported (agent steps), recorded with the step's end. */
  usage: StepUsage | undefined;
  /** The id its attempts are dispatched under, for any worker to execute; undefined: they run here. */
  dispatch: string | undefined;
}

/** Records the end of an executed step, with the model usage its attempt reported. */
function endStep(r: Running, data: EndFields): void {
  if (r.usage) {
    data.usage = r.usage;
    r.exec.usage = addTokens(r.exec.usage, r.usage);
  }
  recordEnd(r.exec, r.place, r.id, data);
}

/** An end entry that could not be recorded is the step's failure; any other error goes on up. */
function unrecorded(error: unknown): Outcome {
  if (error instanceof NotRecorded) return { kind: 'failed', error: error.failure };
  throw error;
}

const isOutcome = (value: Running | Outcome): value is Outcome => 'kind' in value;

type ValidationCode = Parameters<typeof stepValidationError>[0];

/**
 * A value of the step at `place` was refused by its schema (`code` says which: input, output, suspend
 * data, state, request context): the step fails with the issues, recorded as its end.
 * `inflight`: the step was counted in flight (a nested workflow is not).
 */
function failValidation(
  exec: Execution,
  place: StepPlace,
  id: string,
  refused: { code: ValidationCode; what: string; issues: Issue[] },
  inflight = true,
): Outcome {
  const error = stepValidationError(refused.code, refused.what, id, refused.issues, exec.runId);
  recordEnd(exec, place, id, { status: 'failed', error: serializeError(error) }, inflight);
  return { kind: 'failed', error };
}

/**
 * Runs the step at `place.key` with `input`, or replays its stored result. Records a start and an
 * end entry; flushes the journal before user code runs, so every earlier result is stored first.
 *
 * Steps are the hot path, so this is written with promise callbacks rather than awaits: the
 * common step costs the promise its caller awaits, its `execute`'s, and one reaction to it. One
 * promise settles with the step's outcome or, at once, when the run is canceled.
 */
export function runStep(
  exec: Execution,
  level: Level,
  cstep: CompiledStep,
  input: unknown,
  place: StepPlace,
  runLevel: LevelRunner,
): Promise<Outcome> {
  try {
    const rec = exec.projection.records.get(place.key);
    const replayed = replay(exec, level, cstep, rec);
    if (replayed) return Promise.resolve(replayed);
    // The input is parsed by the step's schema on every execution: a first one, a resume, a restart or a
    // time travel alike (the walk gives the same input again), and what it parsed is the step's payload.
    if (!level.graph.validateInputs) return startStep(exec, level, cstep, input, place, runLevel, rec, undefined);
    const v = validateValue(cstep.kind === 'workflow' ? cstep.graph!.inputSchema : cstep.step.inputSchema, input);
    if (v instanceof Promise) {
      return v.then((c) => startStep(exec, level, cstep, input, place, runLevel, rec, c)).catch(unrecorded);
    }
    return startStep(exec, level, cstep, input, place, runLevel, rec, v);
  } catch (error) {
    return Promise.reject(error).catch(unrecorded);
  }
}

/**
 * The value a step receives for `input` checked as `checked`: the parsed value, except that a parse giving
 * an empty object leaves the input as it was (as the reference does), and a refused input stays as given.
 */
function parsedInput(input: unknown, checked: Checked<unknown> | undefined): unknown {
  if (!checked?.ok) return input;
  const v = checked.value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const _ in v) return v;
    return input;
  }
  return v;
}

/** Records the start of a step whose input was checked (`checked`, undefined when inputs are not validated), and runs it. */
function startStep(
  exec: Execution,
  level: Level,
  cstep: CompiledStep,
  input: unknown,
  place: StepPlace,
  runLevel: LevelRunner,
  rec: StepRecord | undefined,
  checked: Checked<unknown> | undefined,
): Promise<Outcome> {
  const restarting = rec?.status === 'running';
  // A suspended step named by the resume, or one that was interrupted while being resumed.
  // Also a step a time travel with `resumeData` aims at (its old record was replaced, so there is none).
  const resuming =
    rec?.status === 'suspended' ||
    (restarting && rec.resumePayload !== undefined && exec.isResumeTarget(place.key)) ||
    (rec === undefined && exec.resumeKeys.has(place.key));
  const payload = parsedInput(input, checked);
  const id = level.idPrefix + cstep.id;
  const at = exec.services.clock.now();
  // One literal with the usual fields, absent ones undefined (JSON leaves them out): the entry is kept
  // with the run, and fields added later would take a second object.
  const start: StepStartData = {
    key: place.key,
    id,
    payload,
    startedAt: (resuming || restarting ? rec?.startedAt : undefined) ?? at,
    item: place.item,
    inPath: place.inPath && !resuming ? true : undefined,
  };
  if (place.metadata) start.metadata = place.metadata;
  if (resuming) {
    start.resumePayload = exec.resumeData;
    start.resumedAt = at;
  }
  if (restarting) start.restart = true;
  const placed = placeStep(exec, cstep, place, rec, resuming);
  const dispatch = typeof placed === 'string' ? placed : undefined;
  const release = typeof placed === 'function' ? placed : undefined;
  if (dispatch !== undefined) start.dispatch = dispatch;
  exec.writer.add('step-start', start, at);
  exec.executed++;

  if (cstep.kind === 'workflow') {
    if (checked && !checked.ok) return Promise.resolve(failValidation(exec, place, id, inputRefused(checked), false));
    const end = (data: EndFields): void => recordEnd(exec, place, id, data, false);
    return runNested(exec, level, cstep, payload, place, end, runLevel).catch(unrecorded);
  }
  // In flight from its start entry to its end entry, so that a sibling ending meanwhile stores its result at once.
  exec.inflight++;
  const step = cstep.step;
  const running: Running = {
    exec,
    level,
    cstep,
    place,
    id,
    inputData: payload,
    resumeData: undefined,
    suspendData: resuming ? rec?.suspendPayload : undefined,
    resuming,
    restarting,
    attempts: (step.retries ?? level.graph.retryAttempts) + 1,
    attemptStartedAt: at,
    usage: undefined,
    dispatch,
  };
  if (checked && !checked.ok) {
    release?.();
    return Promise.resolve(failValidation(exec, place, id, inputRefused(checked)));
  }
  // The common step: nothing else to check.
  const outcome =
    !resuming && !step.requestContextSchema
      ? attempt(running, 0)
      : prepare(running).then((r) => (isOutcome(r) ? r : attempt(r, 0)));
  if (release) return outcome.finally(release);
  return dispatch === undefined ? outcome : outcome.then((o) => forgetAttempts(exec, dispatch, o));
}

/**
 * Once a dispatched step's outcome is stored, its attempts are forgotten (deleted where they were
 * stored for the workers). A run handed over keeps them: the next owner collects those that finished.
 * So does a step stopped by a cancel, which stores no end: the run was canceled (its attempts go with
 * it), or taken over by an owner that awaits them.
 */
function forgetAttempts(exec: Execution, dispatch: string, outcome: Outcome): Outcome {
  if (!exec.handedOver && outcome.kind !== 'canceled') {
    exec.writer.flush().then(
      () => exec.dispatch!.recorded(dispatch),
      () => undefined, // not stored: the attempts stay for whoever continues the run
    );
  }
  return outcome;
}

/**
 * Where the step's attempts execute: under a dispatch id (returned) for any worker, or here (undefined,
 * or the function that gives back the slot of this worker's that it takes).
 *
 * Foreach items and parallel or branch children that are plain steps fan out when the run does: each
 * executes here while this worker has a free slot for dispatched steps (no round trip through the
 * database), and goes to any worker when it has none. A step being resumed stays here. A dispatched
 * step interrupted by a crash keeps its id, whichever process continues the run, so that an attempt a
 * worker finished meanwhile is collected, never executed again.
 */
function placeStep(
  exec: Execution,
  cstep: CompiledStep,
  place: StepPlace,
  rec: StepRecord | undefined,
  resuming: boolean,
): string | (() => void) | undefined {
  const { dispatch } = exec;
  if (dispatch === undefined || cstep.kind !== 'step' || resuming) return undefined;
  if (place.item === undefined && place.absorbsBail !== true) return undefined;
  if (rec?.status === 'running' && rec.dispatch !== undefined) return rec.dispatch;
  if (!exec.fanOut) return undefined;
  return dispatch.takeLocalSlot?.() ?? dispatch.newId();
}

/** What a refused input fails with: it runs no code. */
function inputRefused(checked: { issues: Issue[] }): { code: ValidationCode; what: string; issues: Issue[] } {
  return { code: 'STEP_INPUT_INVALID', what: 'Step input validation failed', issues: checked.issues };
}

/** Checks the resume data and request context of a step (either of them asynchronously). */
async function prepare(r: Running): Promise<Running | Outcome> {
  try {
    const { exec, cstep, id } = r;
    const step = cstep.step;
    if (r.resuming && exec.resumeKeys.has(r.place.key)) {
      r.resumeData = exec.resumeData;
      if (step.resumeSchema) {
        const c = validateValue(step.resumeSchema, r.resumeData);
        const v = c instanceof Promise ? await c : c;
        if (v.ok) r.resumeData = v.value;
      }
    }
    if (step.requestContextSchema) {
      const c = validateValue(step.requestContextSchema, exec.requestContext.toJSON());
      const v = c instanceof Promise ? await c : c;
      if (!v.ok) {
        return failValidation(exec, r.place, id, {
          code: 'STEP_REQUEST_CONTEXT_INVALID',
          what: `Step request context validation failed for step '${cstep.id}'`,
          issues: v.issues,
        });
      }
    }
    return r;
  } catch (error) {
    return unrecorded(error);
  }
}

/** Attempt `n` (0-based) of the step: after the retry delay, and a turn of the event loop when it is due. */
function attempt(r: Running, n: number): Promise<Outcome> {
  const { exec, level } = r;
  if (n > 0 && level.graph.retryDelay > 0)
    return exec.services.clock.sleep(level.graph.retryDelay, exec.abort.signal).then(() => attemptNow(r, n));
  return attemptNow(r, n);
}

function attemptNow(r: Running, n: number): Promise<Outcome> {
  const turn = eventLoopTurn();
  return turn ? turn.then(() => begin(r, n)) : begin(r, n);
}

/** Stores what the journal holds so far, then runs attempt `n`, unless the run was canceled meanwhile. */
function begin(r: Running, n: number): Promise<Outcome> {
  const { exec } = r;
  if (exec.canceled) return Promise.resolve({ kind: 'canceled' });
  const ctx = new StepContext(r, n);
  if (r.resuming) {
    ctx.resume = { steps: [r.cstep.id], resumePayload: exec.resumeData };
    if (exec.resumeLabel) ctx.resume.label = exec.resumeLabel;
  }
  const flushed = exec.writer.flushNow();
  // Canceled while its start was being stored (e.g. a parallel sibling called abort()): do not begin it.
  if (flushed) return flushed.then(() => (exec.canceled ? { kind: 'canceled' } : callExecute(r, ctx, n)));
  return callExecute(r, ctx, n);
}

/**
 * Calls the step's `execute`: settles with the step's outcome, or as canceled as soon as the run is
 * canceled (its late result is then discarded). A step that calls `abort()` itself keeps its value.
 */
function callExecute(r: Running, ctx: StepContext, n: number): Promise<Outcome> {
  const { exec } = r;
  // Timed only when a retry may record it: the common step reads no clock here.
  if (r.attempts > 1) r.attemptStartedAt = exec.services.clock.now();
  let running: Promise<unknown>;
  if (r.dispatch !== undefined) running = dispatched(r, r.dispatch, ctx, n);
  else {
    try {
      running = Promise.resolve(r.cstep.step.execute(ctx));
    } catch (error) {
      running = Promise.reject(error);
    }
  }
  return new Promise<Outcome>((resolve) => {
    let canceled = false;
    const stop = (): void => {
      if (ctx.signals.aborted) return; // abort() called by this very step: its result still settles it
      canceled = true;
      exec.removeCancelWaiter(stop);
      // A dispatched attempt is canceled where it executes, unless the run is handed over to go on elsewhere.
      if (r.dispatch !== undefined) exec.dispatch!.stop(exec.runId, exec.writer.epoch, !exec.handedOver);
      resolve({ kind: 'canceled' });
    };
    if (exec.canceled) stop();
    else exec.addCancelWaiter(stop);
    running.then(
      (output) => {
        if (canceled) return; // the late result of a step canceled from outside is discarded
        exec.removeCancelWaiter(stop);
        r.usage = ctx.signals.usage;
        try {
          resolve(settle(r, ctx, output));
        } catch (error) {
          resolve(Promise.reject(error).catch(unrecorded));
        }
      },
      (error: unknown) => {
        if (canceled) return;
        exec.removeCancelWaiter(stop);
        r.usage = ctx.signals.usage;
        try {
          resolve(attemptFailed(r, error, n));
        } catch (thrown) {
          resolve(Promise.reject(thrown).catch(unrecorded));
        }
      },
    );
  });
}

/**
 * Attempt `n` of a dispatched step: executed by any worker. Settles as `execute` would have here: with
 * its value, or rejected with its error; what it wrote is recorded first, and its signals set on `ctx`.
 */
function dispatched(r: Running, dispatchId: string, ctx: StepContext, n: number): Promise<unknown> {
  const { exec } = r;
  const sent = exec.dispatch!.attempt({
    attemptId: `${dispatchId}:${n}`,
    dispatchId,
    runId: exec.runId,
    workflowId: exec.workflowId,
    epoch: exec.writer.epoch,
    key: r.place.key,
    inputData: r.inputData,
    // As of now: siblings that end meanwhile change the state in place.
    state: { ...exec.state },
    requestContext: exec.requestContext.toJSON(),
    retryCount: n,
    restarting: r.restarting,
  });
  return sent.then((result) => {
    if (exec.canceled) return undefined; // settled as canceled already
    for (const write of result.writes ?? []) exec.writer.add(write.type, write.data as never);
    const signals: StepSignals = {};
    if (result.suspended) signals.suspended = result.suspended;
    if (result.bailed) signals.bailed = result.bailed;
    if (result.stateUpdate) signals.stateUpdate = result.stateUpdate;
    if (result.usage) signals.usage = result.usage as StepUsage;
    if (result.aborted) signals.aborted = true;
    ctx.signals = signals;
    if (result.aborted) exec.cancel();
    if (result.threw) throw deserializeError(result.value);
    return result.value;
  });
}

/** Attempt `n` threw: the step fails, or is tried again while attempts remain. */
function attemptFailed(r: Running, error: unknown, n: number): Outcome | Promise<Outcome> {
  const { exec } = r;
  if (exec.canceled) return { kind: 'canceled' };
  if (NonRetryableError.is(error)) {
    endStep(r, { status: 'failed', error: serializeError(error), nonRetryable: true });
    return { kind: 'failed', error };
  }
  if (n + 1 < r.attempts) {
    recordRetry(r, error, n);
    return attempt(r, n + 1);
  }
  endStep(r, { status: 'failed', error: serializeError(error) });
  return { kind: 'failed', error };
}

/** Records failed attempt `n` (0-based) of a step that is tried again; stored before the next attempt begins. */
function recordRetry(r: Running, error: unknown, n: number): void {
  const { exec, place } = r;
  const endedAt = exec.services.clock.now();
  const retry: StepRetryData = {
    key: place.key,
    id: r.id,
    attempt: n + 1,
    startedAt: r.attemptStartedAt,
    endedAt,
    error: serializeError(error),
    nextAt: endedAt + r.level.graph.retryDelay,
  };
  if (place.item !== undefined) retry.item = place.item;
  try {
    exec.writer.add('step-retry', retry, endedAt);
  } catch {
    // An error that cannot be stored as JSON: the retry goes on unrecorded (the step's end records its own outcome).
  }
}

/** What the step's value and signals make of it: a success, bail, suspension or failure, recorded. */
function settle(r: Running, ctx: StepContext, output: unknown): Outcome | Promise<Outcome> {
  const { suspended, bailed, stateUpdate } = ctx.signals;
  if (suspended || stateUpdate) return settleWithState(r, ctx, output).catch(unrecorded);
  if (bailed) return bail(r, bailed.value, undefined);
  if (r.cstep.kind !== 'step') return succeed(r, { ok: true, value: output }, undefined);
  const v = validateValue(r.cstep.step.outputSchema, output);
  if (v instanceof Promise) return v.then((checked) => succeed(r, checked, undefined)).catch(unrecorded);
  return succeed(r, v, undefined);
}

/**
 * `settle` for a step that changed the state or suspended: either may validate asynchronously. The
 * state update is merged into the run's state only as the step's end is recorded, synchronously: updates
 * of steps that end together (parallel branches, foreach items) apply one after the other, each on the
 * state the one before left, never on a copy taken before an await.
 */
async function settleWithState(r: Running, ctx: StepContext, output: unknown): Promise<Outcome> {
  const { exec, place, id } = r;
  const step = r.cstep.step;
  const { suspended, bailed, stateUpdate } = ctx.signals;
  let update: Record<string, unknown> | undefined;
  if (stateUpdate) {
    // The update, not the merged state, is checked against `stateSchema`, as the reference does.
    // Awaited even when checked synchronously: steps that end together record their ends in the same order as ever.
    const v = await (step.stateSchema
      ? validateValue<Record<string, unknown>>(step.stateSchema, stateUpdate)
      : undefined);
    if (v && !v.ok) {
      return failValidation(exec, place, id, {
        code: 'STEP_STATE_INVALID',
        what: 'Step state data validation failed',
        issues: v.issues,
      });
    }
    update = v ? v.value : stateUpdate;
  }
  if (suspended) {
    let payloadOut = suspended.payload;
    if (step.suspendSchema) {
      const c = validateValue(step.suspendSchema, payloadOut);
      const v = c instanceof Promise ? await c : c;
      if (!v.ok) {
        return failValidation(exec, place, id, {
          code: 'STEP_SUSPEND_DATA_INVALID',
          what: 'Step suspend data validation failed',
          issues: v.issues,
        });
      }
      payloadOut = v.value;
    }
    const data: EndFields = {
      status: 'suspended',
      suspendPayload: payloadOut,
      suspendedAt: exec.services.clock.now(),
    };
    if (output !== undefined) data.suspendOutput = output;
    if (suspended.labels) data.resumeLabels = suspended.labels;
    if (update) data.state = mergedState(exec, update);
    endStep(r, data);
    return { kind: 'suspended' };
  }
  if (bailed) return bail(r, bailed.value, update);
  if (r.cstep.kind !== 'step') return succeed(r, { ok: true, value: output }, update);
  const c = validateValue(step.outputSchema, output);
  return succeed(r, c instanceof Promise ? await c : c, update);
}

/** The run's state with `update` merged in (shallow, as the reference does), as of now. */
function mergedState(exec: Execution, update: Record<string, unknown>): Record<string, unknown> {
  return { ...exec.state, ...update };
}

function bail(r: Running, value: unknown, update: Record<string, unknown> | undefined): Outcome {
  // A bail that ends its workflow level leaves the step `success` (programs test for it); `bailed` says why.
  const data: EndFields = r.place.absorbsBail
    ? { status: 'bailed', output: value }
    : { status: 'success', bailed: true, output: value };
  if (update) data.state = mergedState(r.exec, update);
  endStep(r, data);
  if (r.place.item === undefined && !r.place.absorbsBail) r.level.outputs.set(r.cstep.id, value);
  return { kind: 'bailed', output: value };
}

/** The step's output, checked against its schema: recorded as its success, or its failure. */
function succeed(r: Running, checked: Checked<unknown>, update: Record<string, unknown> | undefined): Outcome {
  const { exec, place, id, cstep } = r;
  if (!checked.ok) {
    return failValidation(exec, place, id, {
      code: 'STEP_OUTPUT_INVALID',
      what: `Step output validation failed for step '${cstep.id}'`,
      issues: checked.issues,
    });
  }
  const output = checked.value;
  // Whole from the start, like the step's start entry; `recordEnd` fills in the end time.
  const data: StepEndData = {
    key: place.key,
    id,
    status: 'success',
    endedAt: 0,
    item: place.item,
    progress: undefined,
    output,
  };
  if (update) data.state = mergedState(exec, update);
  endStep(r, data);
  if (place.item === undefined) r.level.outputs.set(cstep.id, output);
  return { kind: 'success', output };
}

async function runNested(
  exec: Execution,
  level: Level,
  cstep: CompiledStep,
  payload: unknown,
  place: StepPlace,
  end: (data: EndFields) => void,
  runLevel: LevelRunner,
): Promise<Outcome> {
  const graph = cstep.graph!;
  const inner: Level = {
    graph,
    keyPrefix: nestedPrefix(place.key),
    idPrefix: `${level.idPrefix}${cstep.id}.`,
    input: payload,
    outputs: new Map(),
    parent: level,
  };
  let outcome = await runLevel(exec, inner);
  // A nested workflow is a step of its parent: it is tried again as often as the parent's retryConfig
  // says (as in the reference), from its start, with what its failed attempt recorded set aside.
  for (let attempt = 1; outcome.kind === 'failed' && attempt <= level.graph.retryAttempts; attempt++) {
    if (NonRetryableError.is(outcome.error) || WeftError.is(outcome.error, 'RUN_OWNERSHIP_LOST')) break;
    if (level.graph.retryDelay > 0) await exec.services.clock.sleep(level.graph.retryDelay, exec.abort.signal);
    if (exec.canceled) return { kind: 'canceled' };
    exec.writer.add('nested-retry', { prefix: inner.keyPrefix, attempt });
    inner.outputs.clear();
    outcome = await runLevel(exec, inner);
  }
  switch (outcome.kind) {
    case 'success':
    case 'bailed': // bail ends only the nested workflow; the parent goes on with its value
      end({ status: 'success', output: outcome.output });
      if (place.item === undefined) level.outputs.set(cstep.id, outcome.output);
      return { kind: 'success', output: outcome.output };
    case 'suspended': {
      const leaf = firstSuspendedLeaf(exec, inner.keyPrefix);
      const path = leaf ? leaf.id.slice(inner.idPrefix.length).split('.') : [];
      const leafPayload = leaf?.suspendPayload;
      const base =
        typeof leafPayload === 'object' && leafPayload !== null && !Array.isArray(leafPayload) ? leafPayload : {};
      end({
        status: 'suspended',
        suspendPayload: { ...base, __workflow_meta: { runId: exec.runId, path } },
        suspendedAt: exec.services.clock.now(),
      });
      return outcome;
    }
    case 'failed':
      end({ status: 'failed', error: serializeError(outcome.error) });
      return outcome;
    case 'paused':
      end({ status: 'paused' });
      return outcome;
    case 'canceled':
      return outcome;
  }
}

/** The first suspended step (in key order) under a key prefix, innermost. */
function firstSuspendedLeaf(exec: Execution, prefix: string): StepRecord | undefined {
  let found: StepRecord | undefined;
  for (const [key, rec] of exec.projection.records) {
    if (!key.startsWith(prefix) || rec.status !== 'suspended') continue;
    if (!found || key.startsWith(found.key)) found = rec;
  }
  return found;
}
