// The compiled graph: immutable nodes with prepared validators that the executor walks.
import type { AnySchema, ConditionFn, Step } from './types.js';

/** A step as the executor sees it: its definition plus what was worked out once at commit. */
export interface CompiledStep {
  readonly id: string;
  /** 'mapping' for `.map`, 'workflow' for a nested workflow, else 'step'. */
  readonly kind: 'step' | 'mapping' | 'workflow';
  readonly step: Step;
  /** For kind 'workflow': the nested workflow's graph. */
  readonly graph?: CompiledGraph;
  readonly canSuspend: boolean;
}

export type SleepDuration = number | ((ctx: any) => number | Promise<number>);
export type SleepDate = Date | string | number | ((ctx: any) => Date | Promise<Date>);

/** One node of a workflow's top-level sequence. */
export type GraphNode =
  | { readonly type: 'step'; readonly step: CompiledStep }
  | { readonly type: 'parallel'; readonly steps: readonly CompiledStep[]; readonly allowFailure?: boolean }
  | {
      readonly type: 'conditional';
      readonly steps: readonly CompiledStep[];
      readonly conditions: readonly ConditionFn[];
    }
  | {
      readonly type: 'loop';
      readonly loopType: 'dowhile' | 'dountil';
      readonly step: CompiledStep;
      readonly condition: ConditionFn;
    }
  | {
      readonly type: 'foreach';
      readonly step: CompiledStep;
      readonly concurrency: number | ((ctx: any) => number | Promise<number>);
    }
  | { readonly type: 'sleep'; readonly id: string; readonly duration: SleepDuration }
  | { readonly type: 'sleepUntil'; readonly id: string; readonly date: SleepDate };

/** A committed workflow's graph. */
export interface CompiledGraph {
  readonly workflowId: string;
  readonly nodes: readonly GraphNode[];
  readonly inputSchema: AnySchema;
  readonly outputSchema: AnySchema;
  readonly stateSchema?: AnySchema;
  readonly requestContextSchema?: AnySchema;
  readonly retryAttempts: number;
  readonly retryDelay: number;
  readonly validateInputs: boolean;
}

/** The JSON form of a graph node, as shown by the server and inspector. */
export type SerializedNode =
  | { type: 'step' | 'mapping' | 'workflow'; step: SerializedStep }
  | { type: 'parallel' | 'conditional'; steps: SerializedNode[]; serializedConditions?: { id: string; fn: string }[] }
  | { type: 'loop'; loopType: string; step: SerializedStep; serializedCondition: { id: string; fn: string } }
  | { type: 'foreach'; step: SerializedStep; opts: { concurrency: number | string } }
  | { type: 'sleep'; id: string; duration?: number; fn?: string }
  | { type: 'sleepUntil'; id: string; date?: string; fn?: string };

export interface SerializedStep {
  id: string;
  description?: string;
  canSuspend: boolean;
  serializedStepFlow?: SerializedNode[];
}

function serializeStep(step: CompiledStep): SerializedStep {
  const out: SerializedStep = { id: step.id, canSuspend: step.canSuspend };
  if (step.step.description !== undefined) out.description = step.step.description;
  if (step.graph) out.serializedStepFlow = serializeGraph(step.graph);
  return out;
}

function stepNode(step: CompiledStep): SerializedNode {
  return { type: step.kind, step: serializeStep(step) };
}

/** The graph as JSON: node types, ids and condition sources, nested workflows included. */
export function serializeGraph(graph: CompiledGraph): SerializedNode[] {
  return graph.nodes.map((node): SerializedNode => {
    switch (node.type) {
      case 'step':
        return stepNode(node.step);
      case 'parallel':
        return { type: 'parallel', steps: node.steps.map(stepNode) };
      case 'conditional':
        return {
          type: 'conditional',
          steps: node.steps.map(stepNode),
          serializedConditions: node.conditions.map((c, i) => ({
            id: `${node.steps[i]!.id}-condition`,
            fn: String(c),
          })),
        };
      case 'loop':
        return {
          type: 'loop',
          loopType: node.loopType,
          step: serializeStep(node.step),
          serializedCondition: { id: `${node.step.id}-condition`, fn: String(node.condition) },
        };
      case 'foreach':
        return {
          type: 'foreach',
          step: serializeStep(node.step),
          opts: { concurrency: typeof node.concurrency === 'number' ? node.concurrency : String(node.concurrency) },
        };
      case 'sleep':
        return typeof node.duration === 'number'
          ? { type: 'sleep', id: node.id, duration: node.duration }
          : { type: 'sleep', id: node.id, fn: String(node.duration) };
      case 'sleepUntil':
        return typeof node.date === 'function'
          ? { type: 'sleepUntil', id: node.id, fn: String(node.date) }
          : { type: 'sleepUntil', id: node.id, date: new Date(node.date).toISOString() };
    }
  });
}
