// Which suspended steps a resume names: by step (object, id, dotted id, path), by label, or the only one.
import { WeftError } from '../errors.js';
import { stepAtKey } from '../engine/graph-keys.js';
import type { RunProjection, StepRecord } from '../journal/projection.js';
import type { Workflow } from '../workflow/create-workflow.js';
import type { AnySchema } from '../workflow/types.js';
import { suspendedLeaves } from './result.js';
import type { ResumeArgs, StepTarget } from '../workflow/run-types.js';

export interface ResumeTarget {
  keys: string[];
  stepId: string;
  resumeSchema: AnySchema | undefined;
}

/** A step target as a path of ids: `'a.b'` → ['a', 'b'], a step object → [its id]. */
export function targetPath(step: StepTarget): string[] {
  if (typeof step === 'string') return step.split('.').filter(Boolean);
  if (Array.isArray(step)) return step.flatMap((s) => (typeof s === 'string' ? s.split('.').filter(Boolean) : [s.id]));
  return [(step as { id: string }).id];
}

function endsWith(path: readonly string[], tail: readonly string[]): boolean {
  if (tail.length > path.length) return false;
  return tail.every((id, i) => path[path.length - tail.length + i] === id);
}

function startsWith(path: readonly string[], head: readonly string[]): boolean {
  return head.length <= path.length && head.every((id, i) => path[i] === id);
}

function describe(leaves: readonly StepRecord[]): string {
  return [...new Set(leaves.map((l) => `[${l.id.split('.').join(', ')}]`))].join(', ');
}

/** Resolves the suspended steps a resume acts on. Throws a WeftError naming what is suspended when nothing matches. */
export function resolveResumeTarget(
  workflow: Workflow,
  projection: RunProjection,
  runId: string,
  args: ResumeArgs,
): ResumeTarget {
  const leaves = suspendedLeaves(projection);
  let chosen: StepRecord[];
  if (args.label !== undefined) {
    chosen = leaves.filter((l) => l.resumeLabels?.includes(args.label!));
    if (chosen.length === 0) {
      const known = leaves.flatMap((l) => l.resumeLabels ?? []);
      throw new WeftError(
        'RESUME_LABEL_NOT_FOUND',
        `Cannot resume run "${runId}": no suspended step has the label "${args.label}"; labels: ${known.map((k) => `"${k}"`).join(', ') || 'none'}`,
        { runId },
      );
    }
  } else if (args.step !== undefined) {
    const path = targetPath(args.step);
    chosen = leaves.filter((l) => {
      const p = l.id.split('.');
      return startsWith(p, path) || endsWith(p, path);
    });
    if (chosen.length === 0) {
      throw new WeftError(
        'STEP_NOT_SUSPENDED',
        `This workflow step "${path.join('.')}" was not suspended. Available suspended steps: ${describe(leaves)}`,
        { runId, stepId: path.join('.') },
      );
    }
    const ids = new Set(chosen.map((l) => l.id));
    if (ids.size > 1) chosen = chosen.filter((l) => l.id === [...ids][0]);
  } else {
    const ids = new Set(leaves.map((l) => l.id));
    if (ids.size > 1) {
      throw new WeftError(
        'MULTIPLE_SUSPENDED_STEPS',
        `Multiple suspended steps found: ${describe(leaves)}. Please specify which step to resume using the "step" parameter.`,
        { runId },
      );
    }
    chosen = leaves;
  }
  if (args.forEachIndex !== undefined) {
    const item = chosen.filter((l) => l.item === args.forEachIndex);
    if (item.length === 0) {
      throw new WeftError(
        'STEP_NOT_SUSPENDED',
        `Cannot resume run "${runId}": foreach item ${args.forEachIndex} of "${chosen[0]?.id}" is not suspended; suspended items: ${chosen.map((l) => l.item).join(', ') || 'none'}`,
        { runId },
      );
    }
    chosen = item;
  } else if (chosen.some((l) => l.item !== undefined)) {
    // Plain resume of a foreach: every suspended item (with concurrency 1 there is only one).
    chosen = chosen.filter((l) => l.item !== undefined);
  }
  const first = chosen[0]!;
  const step = stepAtKey(workflow.graph, first.key);
  return { keys: chosen.map((l) => l.key), stepId: first.id, resumeSchema: step?.step.resumeSchema };
}
