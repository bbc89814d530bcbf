// Plans a time travel: the target's key, the records to stand in for earlier steps, and checks that the stored run still fits the graph.
import { WeftError } from '../errors.js';
import type { RunTimeTravelData, StepRecordData } from '../journal/entries.js';
import { allStepPaths, findStepByPath, stepAtKey } from '../engine/graph-keys.js';
import type { RunProjection, StepRecord } from '../journal/projection.js';
import {
  childKey,
  isAtOrAfter,
  isIterationOf,
  isRootLevel,
  keyPositions,
  keySegments,
  nestedPrefix,
  nodeKey,
  parseSegment,
  previousNodeKey,
  segmentNode,
  withoutRepetition,
} from '../journal/step-keys.js';
import { formatIssues, validate } from '../schema/validate.js';
import type { CompiledGraph, CompiledStep, GraphNode } from '../workflow/graph.js';
import type { Workflow } from '../workflow/create-workflow.js';
import { suspendedLeaves } from './result.js';
import type { TimeTravelArgs } from '../workflow/run-types.js';
import { targetPath } from './resume-target.js';

export interface TimeTravelPlan {
  data: Omit<RunTimeTravelData, 'requestContext'>;
  resumeKeys: string[];
}

/** Statuses a step result supplied in `context` may have. */
const SUPPLIED_STATUSES: readonly StepRecordData['status'][] = ['success', 'failed', 'suspended', 'bailed', 'canceled'];

type Supplied = Record<
  string,
  { status?: string; payload?: unknown; output?: unknown; startedAt?: number; endedAt?: number }
>;

/** The steps of node `index` at `prefix` with their keys (a block's children, else the node itself). */
function nodeSteps(node: GraphNode, prefix: string, index: number): { key: string; child: boolean; id: string }[] {
  const key = nodeKey(prefix, index);
  switch (node.type) {
    case 'parallel':
    case 'conditional':
      return node.steps.map((s, j) => ({ key: childKey(key, j), child: true, id: s.id }));
    case 'sleep':
    case 'sleepUntil':
      return [{ key, child: false, id: node.id }];
    default:
      return [{ key, child: false, id: node.step.id }];
  }
}

/** Any stored iteration of the loop at `key` (loops record their iterations as `key@n`). */
function loopIteration(projection: RunProjection, key: string): StepRecord | undefined {
  for (const [k, rec] of projection.records) if (isIterationOf(k, key)) return rec;
  return undefined;
}

/** Refuses when a stored record no longer matches the step at its key: the definition changed. */
function checkDefinitionMatches(graph: CompiledGraph, projection: RunProjection, runId: string): void {
  const mismatched: string[] = [];
  for (const rec of projection.records.values()) {
    const last = rec.id.split('.').pop()!;
    const step = stepAtKey(graph, withoutRepetition(rec.key));
    const sleepId = (() => {
      const top = graph.nodes[keyPositions(rec.key)[0]!];
      return top && (top.type === 'sleep' || top.type === 'sleepUntil') && isRootLevel(rec.key) ? top.id : undefined;
    })();
    if ((step?.id ?? sleepId) !== last) mismatched.push(rec.id);
  }
  if (mismatched.length > 0) {
    throw new WeftError(
      'WORKFLOW_MISMATCH',
      `Cannot time travel run "${runId}": the workflow definition no longer matches the stored run (steps ${[...new Set(mismatched)].map((m) => `'${m}'`).join(', ')} are not where the graph has them); the stored run has not been modified`,
      { runId },
    );
  }
}

/** Works out what a time travel records before it executes. Throws, changing nothing, on bad arguments. */
export async function prepareTimeTravel(
  workflow: Workflow,
  projection: RunProjection,
  runId: string,
  args: TimeTravelArgs,
): Promise<TimeTravelPlan> {
  const graph = workflow.graph;
  if (args?.step === undefined || args.step === null || (Array.isArray(args.step) && args.step.length === 0)) {
    throw new WeftError('INVALID_ARGUMENT', 'Step is required and must be a valid step or array of steps', { runId });
  }
  const path = targetPath(args.step);
  const place = findStepByPath(graph, path);
  if (!place) {
    throw new WeftError(
      'STEP_NOT_FOUND',
      `Time travel target step not found in execution graph: '${path.join('.')}'. Verify the step id/path. Steps: ${allStepPaths(graph).join(', ')}`,
      { runId, stepId: path.join('.') },
    );
  }
  checkDefinitionMatches(graph, projection, runId);
  let inputData = args.inputData;
  if (inputData !== undefined && place.step && graph.validateInputs) {
    const schema = place.step.graph ? place.step.graph.inputSchema : place.step.step.inputSchema;
    const r = validate(schema, inputData);
    const v = r instanceof Promise ? await r : r;
    if (!v.ok)
      throw new WeftError('INVALID_INPUT', `Invalid inputData: ${formatIssues(v.issues)}`, { runId, issues: v.issues });
    inputData = v.value;
  }

  const target = keyPositions(place.key);
  const records: Record<string, StepRecordData> = {};
  const fresh = projection.input === undefined && projection.records.size === 0;
  const supplied = (args.context ?? {}) as Supplied;
  const put = (key: string, id: string, given: Supplied[string] | undefined, fallbackOutput: unknown): void => {
    const status = given?.status ?? 'success';
    if (!SUPPLIED_STATUSES.includes(status as StepRecordData['status'])) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `Cannot time travel run "${runId}": the context for step "${id}" has status ${JSON.stringify(status)}, expected one of ${SUPPLIED_STATUSES.map((v) => `"${v}"`).join(', ')}; the stored run has not been modified`,
        { runId, stepId: id },
      );
    }
    const rec: StepRecordData = { id, status: status as StepRecordData['status'] };
    rec.payload = given?.payload ?? {};
    rec.output = given && 'output' in given ? given.output : fallbackOutput;
    if (given?.startedAt !== undefined) rec.startedAt = given.startedAt;
    if (given?.endedAt !== undefined) rec.endedAt = given.endedAt;
    records[key] = rec;
  };

  // Earlier nodes at every level from the root down to the target: supplied context first, then what is stored, then `{}`.
  const segments = keySegments(place.key);
  let level: CompiledGraph | undefined = graph;
  let prefix = '';
  let idPrefix = '';
  for (let depth = 0; depth < segments.length && level; depth++) {
    const index = segmentNode(segments[depth]!);
    const nested =
      depth === 0
        ? supplied
        : (((args.nestedStepsContext ?? {})[idPrefix.slice(0, -1).split('.').pop()!] as Supplied | undefined) ?? {});
    const missing: string[] = [];
    const ownKey = `${prefix}${segments[depth]}`;
    for (let i = 0; i <= index; i++) {
      const node = level.nodes[i]!;
      for (const { key, child, id } of nodeSteps(node, prefix, i)) {
        // Nodes before the target's, and the target's siblings in its parallel or branch block.
        const before = !isAtOrAfter(key, target);
        const sibling = i === index && child && key !== ownKey && !place.key.startsWith(nestedPrefix(key));
        if (!before && !sibling) continue;
        const stored = projection.records.get(key) ?? loopIteration(projection, key);
        if (nested[id]) put(key, idPrefix + id, nested[id], {});
        else if (!stored && i < index && !fresh && depth === 0) missing.push(id);
        else if (!stored) put(key, idPrefix + id, undefined, {});
      }
    }
    if (missing.length > 0 && inputData === undefined) {
      throw new WeftError(
        'WORKFLOW_MISMATCH',
        `Cannot time travel to step '${path.join('.')}': step(s) ${missing.map((m) => `'${m}'`).join(', ')} precede the target in the current execution graph but were not recorded in the run; the stored run has not been modified`,
        { runId },
      );
    }
    const node: GraphNode | undefined = level.nodes[index];
    const step: CompiledStep | undefined =
      node && 'step' in node
        ? node.step
        : node && 'steps' in node
          ? node.steps[parseSegment(segments[depth]!)?.child ?? 0]
          : undefined;
    prefix = nestedPrefix(ownKey);
    idPrefix = `${idPrefix}${step?.id ?? ''}.`;
    level = step?.graph;
  }

  const data: Omit<RunTimeTravelData, 'requestContext'> = {
    attempt: projection.attempts.length + 1,
    key: place.key,
    records,
  };
  if (inputData !== undefined) {
    const prev = previousNodeKey(place.key);
    if (prev === undefined) data.input = inputData;
    else {
      const prevRec = records[prev] ?? projection.records.get(prev);
      put(prev, prevRec?.id ?? prev, { ...(prevRec ?? {}), status: 'success', output: inputData }, inputData);
    }
  }
  if (fresh && data.input === undefined) {
    // The workflow input of a run that never started: the payload given for its first step, else `{}`.
    const firstId = graph.nodes[0] ? nodeSteps(graph.nodes[0], '', 0)[0]?.id : undefined;
    const first = firstId === undefined ? undefined : supplied[firstId];
    data.input = first?.payload ?? {};
  }
  // A foreach aimed at with nothing new for it goes on where it stopped: its items that succeeded are kept.
  if (place.node.type === 'foreach' && inputData === undefined && !supplied[place.node.step.id]) {
    for (const rec of projection.foreachItems(place.key)) {
      if (rec?.status !== 'success') continue;
      const kept: StepRecordData = {
        id: rec.id,
        status: 'success',
        payload: rec.payload,
        output: rec.output,
        startedAt: rec.startedAt,
        item: rec.item!,
      };
      if (rec.endedAt !== undefined) kept.endedAt = rec.endedAt;
      records[rec.key] = kept;
    }
  }
  if (args.initialState !== undefined) data.state = args.initialState;
  if (args.resumeData !== undefined) data.resumeData = args.resumeData;
  if (args.perStep) data.perStep = true;
  const resumeKeys =
    args.resumeData === undefined
      ? []
      : [
          place.key,
          ...suspendedLeaves(projection)
            .filter((l) => isAtOrAfter(l.key, target))
            .map((l) => l.key),
        ];
  return { data, resumeKeys };
}
