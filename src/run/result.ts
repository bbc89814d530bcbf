// Builds what callers see from a projection: the run result and the stored-run view.
import { stepTries, toStepResult, type RunProjection, type StepRecord } from '../journal/projection.js';
import { rootBlockChild } from '../journal/step-keys.js';
import type { RunStatus, StoredRun } from '../storage/types.js';
import { totalUsage, type StepUsage } from '../workflow/step-usage.js';
import type { StepResult, WorkflowResult, WorkflowResultBase } from '../workflow/types.js';
import type { OutputOptions, WorkflowRunView } from '../workflow/run-types.js';

/**
 * Suspended steps with nothing suspended inside them (foreach items count as inside their foreach), in
 * the graph's order, except that the arms of a branch (`.branch`) come in the order they suspended, as
 * Mastra lists its suspended paths (`result.suspended`, which callers resume in turn).
 */
export function suspendedLeaves(projection: RunProjection): StepRecord[] {
  const suspended: StepRecord[] = [];
  for (const rec of projection.records.values()) if (rec.status === 'suspended') suspended.push(rec);
  const leaves = suspended.filter(
    (rec) =>
      !suspended.some(
        (o) =>
          o !== rec &&
          o.key.length > rec.key.length &&
          o.key.startsWith(rec.key) &&
          '/['.includes(o.key[rec.key.length]!),
      ),
  );
  return leaves.length < 2 ? leaves : branchArmsInSuspensionOrder(projection, leaves);
}

/** `leaves` with those inside root-level branch arms reordered among their places by when their arm suspended. */
function branchArmsInSuspensionOrder(projection: RunProjection, leaves: StepRecord[]): StepRecord[] {
  const places: number[] = [];
  const arms: { leaf: StepRecord; order: number }[] = [];
  leaves.forEach((leaf, place) => {
    const arm = rootBlockChild(leaf.key);
    if (arm === undefined || !projection.branches.has(arm.block)) return;
    places.push(place);
    arms.push({ leaf, order: projection.records.get(arm.child)?.suspendOrder ?? 0 });
  });
  if (arms.length < 2) return leaves;
  arms.sort((a, b) => a.order - b.order);
  const ordered = [...leaves];
  places.forEach((place, i) => (ordered[place] = arms[i]!.leaf));
  return ordered;
}

function withoutMeta(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null || !('__workflow_meta' in payload)) return payload;
  const { __workflow_meta: _meta, ...rest } = payload as Record<string, unknown>;
  return rest;
}

function suspendedFields(projection: RunProjection): {
  suspended: string[][];
  suspendPayload: Record<string, unknown>;
} {
  const leaves = suspendedLeaves(projection);
  const seen = new Set<string>();
  const suspended: string[][] = [];
  for (const leaf of leaves) {
    if (seen.has(leaf.id)) continue;
    seen.add(leaf.id);
    suspended.push(leaf.id.split('.'));
  }
  const suspendPayload: Record<string, unknown> = {};
  for (const rec of projection.records.values()) {
    if (rec.status === 'suspended' && rec.item === undefined && !rec.id.includes('.')) {
      suspendPayload[rec.id] = withoutMeta(rec.suspendPayload);
    }
  }
  return { suspended, suspendPayload };
}

/** Label → the step it resumes, for the suspended steps that gave labels. */
function resumeLabels(projection: RunProjection): Record<string, { stepId: string; foreachIndex?: number }> {
  const out: Record<string, { stepId: string; foreachIndex?: number }> = {};
  for (const leaf of suspendedLeaves(projection)) {
    for (const label of leaf.resumeLabels ?? []) {
      out[label] = leaf.item === undefined ? { stepId: leaf.id } : { stepId: leaf.id, foreachIndex: leaf.item };
    }
  }
  return out;
}

/** The result `start`, `resume`, `restart` and `timeTravel` resolve to. */
export function buildResult(projection: RunProjection, runId: string, options?: OutputOptions): WorkflowResult {
  const steps = projection.displaySteps(false, { input: projection.input });
  // Built field by field; which fields it has follows from its status, as the union type says.
  const result: WorkflowResultBase & { status: RunStatus; [field: string]: unknown } = {
    status: projection.status,
    runId,
    input: projection.input,
    steps,
    stepExecutionPath: projection.stepExecutionPath,
  };
  if (projection.status === 'success') result.result = projection.result;
  if (projection.status === 'failed' && projection.error) result.error = projection.error;
  if (projection.status === 'suspended') {
    Object.assign(result, suspendedFields(projection));
    if (options?.includeResumeLabels) result.resumeLabels = resumeLabels(projection);
  }
  if (options?.includeState) result.state = { ...projection.state };
  return result as WorkflowResult;
}

/** A stored run as `getWorkflowRunById` and the server show it. */
export function buildView(
  row: StoredRun,
  projection: RunProjection,
  options: { withNestedWorkflows?: boolean; fields?: string[] } = {},
): WorkflowRunView {
  const view: WorkflowRunView = {
    runId: row.runId,
    workflowName: row.workflowId,
    resourceId: row.resourceId,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    status: row.status,
    payload: projection.input,
    steps: projection.displaySteps(options.withNestedWorkflows !== false),
    stepExecutionPath: projection.stepExecutionPath,
    attempts: projection.attempts,
    lastSeq: projection.lastSeq,
  };
  if (row.status === 'success') view.result = projection.result;
  if (row.status === 'failed') view.error = projection.error;
  if (row.status === 'suspended') {
    Object.assign(view, suspendedFields(projection));
    view.resumeLabels = resumeLabels(projection);
  }
  const foreachItems: Record<string, StepResult[]> = {};
  for (const rec of projection.records.values()) {
    if (rec.item !== undefined) {
      const item = ((foreachItems[rec.id] ??= [])[rec.item] = toStepResult(rec));
      if (rec.retries) item.tries = stepTries(rec)!;
      if (rec.usage) item.usage = rec.usage;
      continue;
    }
    const step = view.steps[rec.id];
    if (!step) continue;
    if (rec.wakeAt !== undefined) step.wakeAt = rec.wakeAt;
    // Records of one id (loop iterations) come in the order displaySteps took them: the last one shown wins.
    if (rec.retries) step.tries = stepTries(rec)!;
    else delete step.tries;
    if (rec.usage) step.usage = rec.usage;
    else delete step.usage;
  }
  const usages: StepUsage[] = [];
  for (const rec of projection.records.values()) if (rec.usage) usages.push(rec.usage);
  for (const attempt of projection.attempts)
    for (const step of Object.values(attempt.steps)) if (step.usage) usages.push(step.usage);
  if (usages.length > 0) view.usage = totalUsage(usages);
  if (Object.keys(foreachItems).length > 0) view.foreachItems = foreachItems;
  view.state = projection.state;
  if (options.fields?.includes('requestContext')) view.requestContext = projection.requestContext;
  if (options.fields && options.fields.length > 0) {
    const keep = new Set([
      'runId',
      'workflowName',
      'resourceId',
      'createdAt',
      'updatedAt',
      'status',
      ...options.fields,
    ]);
    for (const key of Object.keys(view)) if (!keep.has(key)) delete (view as unknown as Record<string, unknown>)[key];
  }
  return view;
}
