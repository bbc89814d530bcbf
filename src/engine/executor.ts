// The executor: walks a compiled graph node by node, replaying stored results and running the rest.
import { WeftError } from '../errors.js';
import { childKey, itemKey, iterationKey, nodeKey } from '../journal/step-keys.js';
import type { CompiledStep, GraphNode } from '../workflow/graph.js';
import type { ConditionContext, StepStatus } from '../workflow/types.js';
import type { Execution, Level, Outcome } from './execution.js';
import { runStep, type StepPlace } from './run-step.js';
import { lookupOutput } from './step-context.js';
import { serializeError } from '../journal/serialize-error.js';

/** Runs a level's nodes in order, each getting the previous one's output. */
export async function runLevel(exec: Execution, level: Level): Promise<Outcome> {
  let input = level.input;
  const nodes = level.graph.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const before = exec.executed;
    const key = nodeKey(level.keyPrefix, i);
    const outcome = await runNode(exec, level, nodes[i]!, key, input);
    if (outcome.kind !== 'success') return outcome;
    input = outcome.output;
    if (exec.canceled) return { kind: 'canceled' };
    if (i === nodes.length - 1 && outcome.levelOutput !== undefined)
      return { kind: 'success', output: outcome.levelOutput };
    if (exec.perStep && exec.executed > before && i < nodes.length - 1) return { kind: 'paused' };
  }
  return { kind: 'success', output: input };
}

function runNode(exec: Execution, level: Level, node: GraphNode, key: string, input: unknown): Promise<Outcome> {
  switch (node.type) {
    case 'step':
      return runStep(exec, level, node.step, input, { key, inPath: true }, runLevel);
    case 'parallel':
      return runChildren(
        exec,
        level,
        node.steps,
        node.steps.map((_, j) => j),
        key,
        input,
        node.allowFailure === true,
      );
    case 'conditional':
      return runConditional(exec, level, node, key, input);
    case 'loop':
      return runLoop(exec, level, node, key, input);
    case 'foreach':
      return runForeach(exec, level, node, key, input);
    case 'sleep':
    case 'sleepUntil':
      return runSleep(exec, level, node, key, input);
  }
}

/** Waits for the run's claim, if the first write has not made it yet: user code runs only for a claimed run. */
function untilClaimed(exec: Execution): Promise<void> | undefined {
  return exec.writer.claiming ? exec.writer.flush() : undefined;
}

function conditionContext(exec: Execution, level: Level, inputData: unknown, iterationCount: number): ConditionContext {
  return {
    inputData,
    iterationCount,
    state: exec.state,
    requestContext: exec.requestContext,
    runId: exec.runId,
    workflowId: exec.workflowId,
    getStepResult: (s) => lookupOutput(level, typeof s === 'string' ? s : s.id),
    getInitData: () => level.input as any,
    abort: () => exec.cancel(),
    abortSignal: exec.abort.signal,
  };
}

/** Runs the chosen children of a parallel or conditional node at once; output is keyed by step id. */
async function runChildren(
  exec: Execution,
  level: Level,
  steps: readonly CompiledStep[],
  chosen: readonly number[],
  key: string,
  input: unknown,
  allowFailure = false,
): Promise<Outcome> {
  const runChild = (j: number): Promise<Outcome> =>
    runStep(exec, level, steps[j]!, input, { key: childKey(key, j), absorbsBail: true }, runLevel);
  let outcomes: Outcome[];
  if (exec.perStep) {
    // perStep runs the children one at a time and pauses after the first that executed (Mastra's S17).
    outcomes = [];
    for (const j of chosen) {
      const before = exec.executed;
      const o = await runChild(j);
      outcomes.push(o);
      if (o.kind === 'success' && exec.executed > before && outcomes.length < chosen.length) return { kind: 'paused' };
    }
  } else {
    outcomes = await Promise.all(chosen.map(runChild));
  }
  const output: Record<string, unknown> = {};
  let suspended = false;
  let bailed: string[] | undefined;
  for (let n = 0; n < outcomes.length; n++) {
    const o = outcomes[n]!;
    const id = steps[chosen[n]!]!.id;
    if (o.kind === 'failed' && allowFailure) output[id] = null;
    else if (o.kind === 'failed' || o.kind === 'canceled') return o;
    else if (o.kind === 'suspended') suspended = true;
    else if (o.kind === 'paused') return o;
    else {
      // A bail ends only its branch: its value is the branch's output, and the block goes on (as in the reference).
      output[id] = o.output;
      if (o.kind === 'bailed') (bailed ??= []).push(id);
    }
  }
  if (suspended) return { kind: 'suspended' };
  if (bailed) {
    // The reference ends a workflow on such a block with the branches that succeeded only.
    const levelOutput = { ...output };
    for (const id of bailed) delete levelOutput[id];
    return { kind: 'success', output, levelOutput };
  }
  return { kind: 'success', output };
}

async function runConditional(
  exec: Execution,
  level: Level,
  node: Extract<GraphNode, { type: 'conditional' }>,
  key: string,
  input: unknown,
): Promise<Outcome> {
  let chosen = exec.projection.branches.get(key);
  if (!chosen) {
    const claimed = untilClaimed(exec);
    if (claimed) await claimed;
    chosen = [];
    const ctx = conditionContext(exec, level, input, 0);
    for (let j = 0; j < node.conditions.length; j++) {
      try {
        if (await node.conditions[j]!(ctx)) chosen.push(j);
      } catch (error) {
        exec.services.logger.warn(
          `weft: branch condition of step "${node.steps[j]!.id}" threw in run "${exec.runId}"; treated as false`,
          serializeError(error),
        );
      }
    }
    exec.writer.add('branch', { key, chosen });
  }
  return runChildren(exec, level, node.steps, chosen, key, input);
}

async function runLoop(
  exec: Execution,
  level: Level,
  node: Extract<GraphNode, { type: 'loop' }>,
  key: string,
  input: unknown,
): Promise<Outcome> {
  let value = input;
  for (let iteration = 1; ; iteration++) {
    const place: StepPlace = { key: iterationKey(key, iteration), metadata: { iterationCount: iteration } };
    const outcome = await runStep(exec, level, node.step, value, place, runLevel);
    if (outcome.kind !== 'success') return outcome;
    value = outcome.output;
    if (exec.canceled) return { kind: 'canceled' };
    // A later iteration on record means the condition already said to go on.
    if (exec.projection.records.has(iterationKey(key, iteration + 1))) continue;
    let holds: boolean;
    try {
      // Replayed iterations (a resume, a time travel) write nothing: the condition waits for the claim.
      const claimed = untilClaimed(exec);
      if (claimed) await claimed;
      holds = Boolean(await node.condition(conditionContext(exec, level, value, iteration)));
    } catch (error) {
      return { kind: 'failed', error };
    }
    if (node.loopType === 'dowhile' ? !holds : holds) return { kind: 'success', output: value };
  }
}

async function runForeach(
  exec: Execution,
  level: Level,
  node: Extract<GraphNode, { type: 'foreach' }>,
  key: string,
  input: unknown,
): Promise<Outcome> {
  const id = level.idPrefix + node.step.id;
  const rec = exec.projection.records.get(key);
  if (rec?.status === 'success') {
    level.outputs.set(node.step.id, rec.output);
    return rec.bailed ? { kind: 'bailed', output: rec.output } : { kind: 'success', output: rec.output };
  }
  const items = rec ? rec.payload : input;
  const now = exec.services.clock.now;
  if (!Array.isArray(items)) {
    const error = new WeftError(
      'STEP_INPUT_INVALID',
      `Step "${id}" of .foreach() needs an array as input, got ${items === null ? 'null' : typeof items}`,
      { stepId: id, runId: exec.runId },
    );
    exec.writer.add('step-start', { key, id, payload: items, startedAt: now() });
    exec.writer.add('step-end', { key, id, status: 'failed', endedAt: now(), error: serializeError(error) });
    return { kind: 'failed', error };
  }
  if (!rec || rec.status !== 'running' || exec.isResumeTarget(key)) {
    const start: Parameters<typeof exec.writer.add<'step-start'>>[1] = {
      key,
      id,
      payload: items,
      startedAt: rec?.startedAt ?? now(),
    };
    if (rec?.status === 'suspended' && exec.isResumeTarget(key)) {
      start.resumePayload = exec.resumeData;
      start.resumedAt = now();
    }
    exec.writer.add('step-start', start);
  }
  let concurrency: number;
  if (typeof node.concurrency === 'function') {
    const claimed = untilClaimed(exec);
    if (claimed) await claimed;
    concurrency = Math.max(1, Math.floor(await node.concurrency(conditionContext(exec, level, items, 0))));
  } else {
    concurrency = node.concurrency;
  }
  const results: unknown[] = new Array(items.length);
  const outcomes: Outcome[] = new Array(items.length);
  let completed = 0;
  let next = 0;
  let stop = false;
  // As in Mastra, an item that suspends is not counted as completed.
  const progress = (status: StepStatus): { completedCount: number; totalCount: number } => ({
    completedCount: status === 'suspended' ? completed : ++completed,
    totalCount: items.length,
  });
  // The first item to fail (or bail) in the order they end, as the reference reports it.
  let failed: Outcome | undefined;
  let bailed: Outcome | undefined;
  const worker = async (): Promise<void> => {
    while (!stop && next < items.length) {
      const index = next++;
      const o = await runStep(
        exec,
        level,
        node.step,
        items[index],
        { key: itemKey(key, index), item: index, progress },
        runLevel,
      );
      outcomes[index] = o;
      if (o.kind === 'success') results[index] = o.output;
      else {
        stop = true;
        if (o.kind === 'failed') failed ??= o;
        else if (o.kind === 'bailed') bailed ??= o;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(items.length, 1)) }, worker));
  const end = (data: Omit<Parameters<typeof exec.writer.add<'step-end'>>[1], 'key' | 'id' | 'endedAt'>): void =>
    exec.writer.add('step-end', { key, id, endedAt: now(), ...data });

  let suspendedIndex = -1;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o?.kind === 'canceled' || o?.kind === 'paused') return o;
    if (o?.kind === 'suspended' && suspendedIndex < 0) suspendedIndex = i;
  }
  if (failed?.kind === 'failed') {
    end({ status: 'failed', error: serializeError(failed.error) });
    return failed;
  }
  if (bailed?.kind === 'bailed') {
    end({ status: 'success', bailed: true, output: bailed.output });
    return bailed;
  }
  if (suspendedIndex >= 0) {
    const itemRecords = exec.projection.foreachItems(key);
    const first = itemRecords[suspendedIndex];
    end({
      status: 'suspended',
      suspendPayload: {
        ...(typeof first?.suspendPayload === 'object' && first.suspendPayload !== null ? first.suspendPayload : {}),
        __workflow_meta: {
          foreachIndex: suspendedIndex,
          foreachOutput: itemRecords.map((r) =>
            r ? { status: r.status, output: r.output, suspendPayload: r.suspendPayload } : null,
          ),
        },
      },
      suspendedAt: now(),
    });
    return { kind: 'suspended' };
  }
  end({ status: 'success', output: results });
  level.outputs.set(node.step.id, results);
  return { kind: 'success', output: results };
}

async function runSleep(
  exec: Execution,
  level: Level,
  node: Extract<GraphNode, { type: 'sleep' | 'sleepUntil' }>,
  key: string,
  input: unknown,
): Promise<Outcome> {
  const id = level.idPrefix + node.id;
  const rec = exec.projection.records.get(key);
  if (rec?.status === 'success') return { kind: 'success', output: rec.output };
  const { clock } = exec.services;
  let wakeAt = rec?.wakeAt;
  if (wakeAt === undefined) {
    const claimed = untilClaimed(exec);
    if (claimed) await claimed;
    const ctx = { ...conditionContext(exec, level, input, 0) };
    try {
      if (node.type === 'sleep') {
        const ms = typeof node.duration === 'function' ? await node.duration(ctx) : node.duration;
        wakeAt = clock.now() + Math.max(0, Number(ms) || 0);
      } else {
        const date = typeof node.date === 'function' ? await node.date(ctx) : node.date;
        wakeAt = new Date(date).getTime();
      }
    } catch (error) {
      return { kind: 'failed', error };
    }
    exec.writer.add('step-start', {
      key,
      id,
      payload: input,
      startedAt: clock.now(),
      status: 'waiting',
      wakeAt,
      inPath: true,
    });
  }
  exec.executed++;
  await exec.writer.flush();
  await exec.sleepUntil(wakeAt);
  if (exec.canceled) return { kind: 'canceled' };
  exec.writer.add('step-end', { key, id, status: 'success', output: input, endedAt: clock.now() });
  return { kind: 'success', output: input };
}
