// The JSON description of a loaded workflow: its graph, and the JSON Schemas of its input, output and every step.
import type { Workflow } from '../workflow/create-workflow.js';
import type { CompiledGraph, CompiledStep, SerializedNode } from '../workflow/graph.js';
import { toJsonSchema, type JsonSchema } from './json-schema.js';

/** One step of a workflow (nested steps under dotted paths), as the API shows it. */
export interface StepInfo {
  id: string;
  /** Dotted path from the top workflow: `"review"`, `"moderate.classify"`. */
  path: string;
  kind: 'step' | 'mapping' | 'workflow' | 'sleep' | 'sleepUntil';
  /** How the step sits in its graph: in sequence, a parallel branch, a foreach body, ... */
  placement: 'sequence' | 'parallel' | 'conditional' | 'loop' | 'foreach' | 'sleep';
  description: string | null;
  canSuspend: boolean;
  inputSchema: JsonSchema | null;
  outputSchema: JsonSchema | null;
  resumeSchema: JsonSchema | null;
  suspendSchema: JsonSchema | null;
}

/** A workflow as `GET /api/workflows` shows it. */
export interface WorkflowInfo {
  id: string;
  /** The key it was registered under (usually equal to `id`). */
  key: string;
  description: string | null;
  inputSchema: JsonSchema | null;
  outputSchema: JsonSchema | null;
  stateSchema: JsonSchema | null;
  /** The serialized step graph: node types, ids, nested flows. */
  stepGraph: SerializedNode[];
  /** Every step by dotted path, in graph order. */
  steps: Record<string, StepInfo>;
}

function describeStep(step: CompiledStep, path: string, placement: StepInfo['placement']): StepInfo {
  const def = step.step;
  return {
    id: step.id,
    path,
    kind: step.kind,
    placement,
    description: def.description ?? null,
    canSuspend: step.canSuspend,
    inputSchema: toJsonSchema(def.inputSchema),
    outputSchema: toJsonSchema(def.outputSchema),
    resumeSchema: toJsonSchema(def.resumeSchema),
    suspendSchema: toJsonSchema(def.suspendSchema),
  };
}

function collectSteps(graph: CompiledGraph, prefix: string, out: Record<string, StepInfo>): void {
  const add = (step: CompiledStep, placement: StepInfo['placement']): void => {
    const path = prefix + step.id;
    out[path] = describeStep(step, path, placement);
    if (step.kind === 'workflow' && step.graph) collectSteps(step.graph, `${path}.`, out);
  };
  for (const node of graph.nodes) {
    switch (node.type) {
      case 'step':
        add(node.step, 'sequence');
        break;
      case 'parallel':
      case 'conditional':
        for (const step of node.steps) add(step, node.type);
        break;
      case 'loop':
      case 'foreach':
        add(node.step, node.type);
        break;
      case 'sleep':
      case 'sleepUntil': {
        const path = prefix + node.id;
        out[path] = {
          id: node.id,
          path,
          kind: node.type,
          placement: 'sleep',
          description: null,
          canSuspend: false,
          inputSchema: null,
          outputSchema: null,
          resumeSchema: null,
          suspendSchema: null,
        };
        break;
      }
    }
  }
}

const cache = new WeakMap<Workflow, WorkflowInfo>();

/** Describes a committed workflow (cached per workflow object: definitions are immutable once committed). */
export function describeWorkflow(workflow: Workflow, key: string = workflow.id): WorkflowInfo {
  const cached = cache.get(workflow);
  if (cached && cached.key === key) return cached;
  const steps: Record<string, StepInfo> = {};
  collectSteps(workflow.graph, '', steps);
  const info: WorkflowInfo = {
    id: workflow.id,
    key,
    description: workflow.description ?? null,
    inputSchema: toJsonSchema(workflow.inputSchema),
    outputSchema: toJsonSchema(workflow.outputSchema),
    stateSchema: toJsonSchema(workflow.stateSchema),
    stepGraph: workflow.serializedStepGraph,
    steps,
  };
  cache.set(workflow, info);
  return info;
}
