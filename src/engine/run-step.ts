// Executes one step: replays its stored result, or validates, runs with retries, and records it.
import { NonRetryableError, WeftError } from '../errors.js';
import { notSerializable } from './serialize-error.js';
import { validate } from '../schema/validate.js';
import type { CompiledStep } from '../workflow/graph.js';
import { eventLoopTurn } from './event-loop-turns.js';
import { CANCELED, stepValidationError, type Execution, type Level, type Outcome } from './execution.js';
import type { StepEndData, StepStartData } from './journal-entries.js';
import type { StepRecord } from './run-projection.js';
import { serializeError } from './serialize-error.js';
import { StepContext } from './step-context.js';

/** Where a step runs from: its key, and extras for loop iterations and foreach items. */
export interface StepPlace {
  key: string;
  item?: number;
  metadata?: Record<string, unknown>;
  inPath?: boolean;
  progress?: () => { completedCount: number; totalCount: number };
}

/** Runs a nested workflow's level; provided by the executor to avoid a module cycle. */
export type LevelRunner = (exec: Execution, level: Level) => Promise<Outcome>;

/** Thrown by a step's `end` when its entry could not be recorded; `runStep` turns it into a failed outcome. */
class NotRecorded {
  constructor(readonly failure: WeftError) {}
}

type Checked<T> = { ok: true; value: T } | { ok: false; issues: { path: string; message: string }[] };

/** Validates synchronously when the schema allows; callers await only a promise, so a step costs no extra turns. */
function check<T>(
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
    if (rec.item === undefined) level.outputs.set(cstep.id, rec.output);
    return rec.status === 'success' ? { kind: 'success', output: rec.output } : { kind: 'bailed', output: rec.output };
  }
  if (rec.status === 'suspended' && !exec.isResumeTarget(rec.key)) return { kind: 'suspended' };
  if (rec.status === 'failed') return { kind: 'failed', error: rec.error };
  return undefined; // running (interrupted), waiting, or a suspended step being resumed
}

type EndFields = Omit<StepEndData, 'key' | 'id' | 'endedAt'>;

/** Completes `data` (a fresh object of the caller's) into the end entry of the step at `place`, and records it. */
function recordEnd(exec: Execution, place: StepPlace, id: string, data: EndFields): void {
  const { writer } = exec;
  const endedAt = exec.services.clock.now();
  const e = data as StepEndData;
  e.key = place.key;
  e.id = id;
  e.endedAt = endedAt;
  if (place.item !== undefined) {
    e.item = place.item;
    if (place.progress) e.progress = place.progress();
  }
  exec.inflight.delete(place.key);
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
    writer.add('step-end', failed, endedAt);
    throw new NotRecorded(failure);
  }
  // While sibling steps (parallel branches, foreach items) still execute, store this result now,
  // so a crash re-runs only what had not finished. A failed write is kept in `writer.failed`.
  if (exec.inflight.size > 0) writer.flushNow()?.catch(() => undefined);
}

/**
 * Runs the step at `place.key` with `input`, or replays its stored result. Records a start and an
 * end entry; flushes the journal before user code runs, so every earlier result is stored first.
 */
export async function runStep(
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
    if (replayed) return replayed;

    const restarting = rec?.status === 'running';
    // A suspended step named by the resume, or one that was interrupted while being resumed.
    // Also a step a time travel with `resumeData` aims at (its old record was replaced, so there is none).
    const resuming =
      rec?.status === 'suspended' ||
      (restarting && rec.resumePayload !== undefined && exec.isResumeTarget(place.key)) ||
      (rec === undefined && exec.resumeKeys.has(place.key));
    const payload = rec ? rec.payload : input;
    const id = level.idPrefix + cstep.id;
    const { writer } = exec;
    const now = exec.services.clock.now;

    const at = now();
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
    writer.add('step-start', start, at);
    exec.executed++;

    if (cstep.kind === 'workflow') {
      const end = (data: EndFields): void => recordEnd(exec, place, id, data);
      return await runNested(exec, level, cstep, payload, place, end, runLevel);
    }
    // In flight from its start entry to its end entry, so that a sibling ending meanwhile stores its result at once.
    exec.inflight.add(place.key);

    const step = cstep.step;
    const validateInputs = level.graph.validateInputs;
    let inputData = payload;
    if (validateInputs && !resuming) {
      const r = check(step.inputSchema, payload);
      const v = r instanceof Promise ? await r : r;
      if (!v.ok) {
        const error = stepValidationError(
          'STEP_INPUT_INVALID',
          'Step input validation failed',
          id,
          v.issues,
          exec.runId,
        );
        recordEnd(exec, place, id, { status: 'failed', error: serializeError(error) });
        return { kind: 'failed', error };
      }
      inputData = v.value;
    }
    let resumeData: unknown = undefined;
    if (resuming && exec.resumeKeys.has(place.key)) {
      resumeData = exec.resumeData;
      if (step.resumeSchema) {
        const r = check(step.resumeSchema, resumeData);
        const v = r instanceof Promise ? await r : r;
        if (v.ok) resumeData = v.value;
      }
    }
    if (step.requestContextSchema) {
      const r = check(step.requestContextSchema, exec.requestContext.toJSON());
      const v = r instanceof Promise ? await r : r;
      if (!v.ok) {
        const error = stepValidationError(
          'STEP_REQUEST_CONTEXT_INVALID',
          `Step request context validation failed for step '${cstep.id}'`,
          id,
          v.issues,
          exec.runId,
        );
        recordEnd(exec, place, id, { status: 'failed', error: serializeError(error) });
        return { kind: 'failed', error };
      }
    }

    const attempts = (step.retries ?? level.graph.retryAttempts) + 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0 && level.graph.retryDelay > 0)
        await exec.services.clock.sleep(level.graph.retryDelay, exec.abort.signal);
      const turn = eventLoopTurn();
      if (turn) await turn;
      if (exec.canceled) return { kind: 'canceled' };
      const ctx = new StepContext(
        exec,
        level,
        id,
        inputData,
        resumeData,
        resuming ? rec?.suspendPayload : undefined,
        attempt,
        restarting,
      );
      if (resuming) {
        ctx.resume = {
          steps: [cstep.id],
          resumePayload: exec.resumeData,
          ...(exec.resumeLabel ? { label: exec.resumeLabel } : {}),
        };
      }
      const flushed = writer.flushNow();
      if (flushed) await flushed;
      // Canceled while its start was being stored (e.g. a parallel sibling called abort()): do not begin it.
      if (exec.canceled) return { kind: 'canceled' };
      let output: unknown;
      try {
        const running = Promise.resolve(step.execute(ctx));
        // The step's result, or CANCELED as soon as the run is canceled (its late result is then discarded).
        let raced: unknown = CANCELED;
        if (!exec.canceled) {
          let stop!: (value: unknown) => void;
          const racing = new Promise<unknown>((resolve, reject) => {
            stop = resolve;
            running.then(resolve, reject);
          });
          exec.cancelWaiters.add(stop);
          try {
            raced = await racing;
          } finally {
            exec.cancelWaiters.delete(stop);
          }
        }
        if (raced !== CANCELED) output = raced;
        else if (ctx.signals.aborted)
          output = await running; // abort() called by this very step: its value is kept
        else {
          running.catch(() => undefined); // the late result of a step canceled from outside is discarded
          return { kind: 'canceled' };
        }
      } catch (error) {
        lastError = error;
        if (exec.canceled) return { kind: 'canceled' };
        if (NonRetryableError.is(error)) {
          recordEnd(exec, place, id, { status: 'failed', error: serializeError(error), nonRetryable: true });
          return { kind: 'failed', error };
        }
        continue;
      }

      const { suspended, bailed, stateUpdate } = ctx.signals;
      const newState = stateUpdate ? await mergeState(exec, step, stateUpdate, id) : undefined;
      if (newState instanceof WeftError) {
        recordEnd(exec, place, id, { status: 'failed', error: serializeError(newState) });
        return { kind: 'failed', error: newState };
      }
      if (suspended) {
        let payloadOut = suspended.payload;
        if (step.suspendSchema) {
          const r = check(step.suspendSchema, payloadOut);
          const v = r instanceof Promise ? await r : r;
          if (!v.ok) {
            const error = stepValidationError(
              'STEP_SUSPEND_DATA_INVALID',
              'Step suspend data validation failed',
              id,
              v.issues,
              exec.runId,
            );
            recordEnd(exec, place, id, { status: 'failed', error: serializeError(error) });
            return { kind: 'failed', error };
          }
          payloadOut = v.value;
        }
        const data: EndFields = {
          status: 'suspended',
          suspendPayload: payloadOut,
          suspendedAt: now(),
        };
        if (output !== undefined) data.suspendOutput = output;
        if (suspended.labels) data.resumeLabels = suspended.labels;
        if (newState) data.state = newState;
        recordEnd(exec, place, id, data);
        return { kind: 'suspended' };
      }
      if (bailed) {
        const data: EndFields = { status: 'bailed', output: bailed.value };
        if (newState) data.state = newState;
        recordEnd(exec, place, id, data);
        if (place.item === undefined) level.outputs.set(cstep.id, bailed.value);
        return { kind: 'bailed', output: bailed.value };
      }
      if (cstep.kind === 'step') {
        const r = check(step.outputSchema, output);
        const v = r instanceof Promise ? await r : r;
        if (!v.ok) {
          const error = stepValidationError(
            'STEP_OUTPUT_INVALID',
            `Step output validation failed for step '${cstep.id}'`,
            id,
            v.issues,
            exec.runId,
          );
          recordEnd(exec, place, id, { status: 'failed', error: serializeError(error) });
          return { kind: 'failed', error };
        }
        output = v.value;
      }
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
      if (newState) data.state = newState;
      if (place.metadata) data.metadata = place.metadata;
      recordEnd(exec, place, id, data);
      if (place.item === undefined) level.outputs.set(cstep.id, output);
      return { kind: 'success', output };
    }
    recordEnd(exec, place, id, { status: 'failed', error: serializeError(lastError) });
    return { kind: 'failed', error: lastError };
  } catch (error) {
    // Its end could not be recorded (a value that cannot be stored): the step failed, like any other failure.
    if (error instanceof NotRecorded) return { kind: 'failed', error: error.failure };
    throw error;
  }
}

async function mergeState(
  exec: Execution,
  step: CompiledStep['step'],
  update: Record<string, unknown>,
  id: string,
): Promise<Record<string, unknown> | WeftError> {
  const merged = { ...exec.state, ...update };
  if (step.stateSchema) {
    const r = check(step.stateSchema, update);
    const v = r instanceof Promise ? await r : r;
    if (!v.ok)
      return stepValidationError('STEP_STATE_INVALID', 'Step state data validation failed', id, v.issues, exec.runId);
  }
  return merged;
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
  let input = payload;
  if (level.graph.validateInputs) {
    const r = check(graph.inputSchema, payload);
    const v = r instanceof Promise ? await r : r;
    if (!v.ok) {
      const error = stepValidationError(
        'STEP_INPUT_INVALID',
        'Step input validation failed',
        level.idPrefix + cstep.id,
        v.issues,
        exec.runId,
      );
      end({ status: 'failed', error: serializeError(error) });
      return { kind: 'failed', error };
    }
    input = v.value;
  }
  const inner: Level = {
    graph,
    keyPrefix: `${place.key}/`,
    idPrefix: `${level.idPrefix}${cstep.id}.`,
    input,
    outputs: new Map(),
    parent: level,
  };
  const outcome = await runLevel(exec, inner);
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
export function firstSuspendedLeaf(exec: Execution, prefix: string): StepRecord | undefined {
  let found: StepRecord | undefined;
  for (const [key, rec] of exec.projection.records) {
    if (!key.startsWith(prefix) || rec.status !== 'suspended') continue;
    if (!found || key.startsWith(found.key)) found = rec;
  }
  return found;
}
