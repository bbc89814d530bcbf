// Executing one dispatched step attempt on a worker, with a context rebuilt from the run's journal.
import { WeftError } from '../errors.js';
import { RequestContext } from '../request-context.js';
import { keySegments, nestedPrefix } from '../journal/step-keys.js';
import { JournalWriter } from '../journal/writer.js';
import { RunProjection } from '../journal/projection.js';
import { serializeError } from '../journal/serialize-error.js';
import type { AttemptResult, DispatchedAttempt, JournalEntry, JournalStore } from '../storage/types.js';
import type { CompiledGraph } from '../workflow/graph.js';
import { Execution, type ExecutionServices, type Level } from './execution.js';
import { stepAtKey } from './graph-keys.js';
import { StepContext } from './step-context.js';

/** A journal store that keeps what it is given in memory: an attempt's writes, for the coordinator to record. */
class CapturedWrites implements Pick<JournalStore, 'keepsValues' | 'appendJournal' | 'appendJournalNow'> {
  readonly keepsValues = true;
  readonly entries: JournalEntry[] = [];
  appendJournalNow(_runId: string, _epoch: number, entries: readonly JournalEntry[]): void {
    this.entries.push(...entries);
  }
  appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]): Promise<void> {
    this.appendJournalNow(runId, epoch, entries);
    return Promise.resolve();
  }
}

/**
 * The levels a step at `key` executes in, as the run's journal (`projection`) has them: each with its
 * input (`getInitData`) and the outputs of the steps that succeeded in it (`getStepResult`).
 */
function levelAt(graph: CompiledGraph, key: string, projection: RunProjection): Level {
  let level: Level = {
    graph,
    keyPrefix: '',
    idPrefix: '',
    input: projection.input,
    outputs: outputsOf(projection, '', ''),
    parent: undefined,
  };
  const segments = keySegments(key);
  let prefix = '';
  for (let i = 0; i < segments.length - 1; i++) {
    const nestedKey = prefix + segments[i]!;
    const step = stepAtKey(graph, nestedKey);
    if (!step?.graph) throw new WeftError('STEP_NOT_FOUND', `No nested workflow at step key "${nestedKey}"`);
    prefix = nestedPrefix(nestedKey);
    const idPrefix = `${level.idPrefix}${step.id}.`;
    level = {
      graph: step.graph,
      keyPrefix: prefix,
      idPrefix,
      input: projection.records.get(nestedKey)?.payload,
      outputs: outputsOf(projection, prefix, idPrefix),
      parent: level,
    };
  }
  return level;
}

/** The latest successful output of each step of a level, as the executor's walk would have set them. */
function outputsOf(projection: RunProjection, keyPrefix: string, idPrefix: string): Map<string, unknown> {
  const outputs = new Map<string, unknown>();
  for (const [key, rec] of projection.records) {
    if (!key.startsWith(keyPrefix) || key.includes('/', keyPrefix.length)) continue;
    if (rec.item !== undefined || rec.status !== 'success' || rec.wakeAt !== undefined) continue;
    outputs.set(rec.id.slice(idPrefix.length), rec.output);
  }
  return outputs;
}

/** What an attempt executing here is given besides the attempt itself. */
export interface AttemptSurroundings {
  graph: CompiledGraph;
  /** The run's journal as this worker read it (at the attempt's epoch or later). */
  projection: RunProjection;
  services: ExecutionServices;
  /** Aborts when the attempt is canceled (the run was, or the attempt was taken over). */
  signal: AbortSignal;
}

/**
 * Executes one dispatched attempt: calls the step's `execute` with a context made as the coordinator
 * would make it, and returns what it did; undefined when it was canceled meanwhile.
 */
export async function executeAttempt(
  attempt: DispatchedAttempt,
  around: AttemptSurroundings,
): Promise<AttemptResult | undefined> {
  const cstep = stepAtKey(around.graph, attempt.key);
  if (!cstep || cstep.kind !== 'step') {
    throw new WeftError(
      'STEP_NOT_FOUND',
      `Cannot execute step key "${attempt.key}" of workflow "${attempt.workflowId}": the workflow has no such step here`,
      { runId: attempt.runId, workflowId: attempt.workflowId },
    );
  }
  const level = levelAt(around.graph, attempt.key, around.projection);
  const projection = new RunProjection();
  projection.state = attempt.state;
  const captured = new CapturedWrites();
  const exec = new Execution({
    runId: attempt.runId,
    workflowId: attempt.workflowId,
    resourceId: around.projection.resourceId ?? undefined,
    graph: around.graph,
    writer: new JournalWriter({
      store: captured as unknown as JournalStore,
      runId: attempt.runId,
      epoch: attempt.epoch,
      lastSeq: 0,
      projection,
      maxOutputEntries: Number.MAX_SAFE_INTEGER,
      now: around.services.clock.now,
    }),
    projection,
    requestContext: new RequestContext(Object.entries(attempt.requestContext)),
    services: around.services,
    perStep: false,
  });
  const stop = (): void => exec.cancel();
  if (around.signal.aborted) return undefined;
  around.signal.addEventListener('abort', stop, { once: true });
  const ctx = new StepContext(
    {
      exec,
      level,
      id: level.idPrefix + cstep.id,
      inputData: attempt.inputData,
      resumeData: undefined,
      suspendData: undefined,
      restarting: attempt.restarting,
    },
    attempt.retryCount,
  );
  let result: AttemptResult;
  try {
    result = { value: await cstep.step.execute(ctx) };
  } catch (error) {
    result = { threw: true, value: serializeError(error) };
  } finally {
    around.signal.removeEventListener('abort', stop);
  }
  const { signals } = ctx;
  if (exec.canceled && !signals.aborted) return undefined;
  if (signals.suspended) result.suspended = signals.suspended;
  if (signals.bailed) result.bailed = signals.bailed;
  if (signals.stateUpdate) result.stateUpdate = signals.stateUpdate;
  if (signals.aborted) result.aborted = true;
  if (signals.usage) result.usage = { ...signals.usage };
  // What the step wrote is queued in the writer: handed to the captured store (at once: it appends synchronously).
  await exec.writer.flush();
  if (captured.entries.length > 0) {
    result.writes = captured.entries.map((entry) => ({
      type: entry.type as 'step-output' | 'custom',
      data: JSON.parse(entry.data) as Record<string, unknown>,
    }));
  }
  return result;
}
