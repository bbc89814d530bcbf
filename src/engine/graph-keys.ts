// Between journal keys and the graph: which compiled step a key names, and the key of a step path.
import { childKey, keySegments, nestedPrefix, nodeKey, parseSegment } from '../journal/step-keys.js';
import type { CompiledGraph, CompiledStep, GraphNode } from '../workflow/graph.js';

/** The compiled step a key executes, or undefined (sleeps, or a key the graph no longer has). */
export function stepAtKey(graph: CompiledGraph, key: string): CompiledStep | undefined {
  let current: CompiledGraph | undefined = graph;
  let step: CompiledStep | undefined;
  for (const segment of keySegments(key)) {
    if (!current) return undefined;
    const m = parseSegment(segment);
    if (!m) return undefined;
    const node: GraphNode | undefined = current.nodes[m.node];
    if (!node) return undefined;
    if (m.child !== undefined)
      step = node.type === 'parallel' || node.type === 'conditional' ? node.steps[m.child] : undefined;
    else step = node.type === 'step' || node.type === 'loop' || node.type === 'foreach' ? node.step : undefined;
    if (!step) return undefined;
    current = step.graph;
  }
  return step;
}

/** What kind of entry a key executes: a sleep, a foreach (as a whole), or a step (anything else). */
export function kindAtKey(graph: CompiledGraph, key: string): 'sleep' | 'foreach' | 'step' {
  const slash = key.lastIndexOf('/');
  const inner = slash < 0 ? graph : stepAtKey(graph, key.slice(0, slash))?.graph;
  const m = parseSegment(key.slice(slash + 1));
  if (!inner || !m || m.child !== undefined || m.iteration !== undefined || m.item !== undefined) return 'step';
  const type = inner.nodes[m.node]?.type;
  if (type === 'sleep' || type === 'sleepUntil') return 'sleep';
  return type === 'foreach' ? 'foreach' : 'step';
}

/** A place in the graph found by a path of step ids: the key prefix of the node and the step. */
export interface GraphPlace {
  key: string;
  step: CompiledStep | undefined;
  node: GraphNode;
  /** The id path of the place (`['outer', 'inner']`). */
  path: string[];
}

function findInGraph(
  graph: CompiledGraph,
  ids: readonly string[],
  prefix: string,
  path: string[],
): GraphPlace | undefined {
  const [head, ...rest] = ids;
  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i]!;
    const candidates: { key: string; step: CompiledStep | undefined; id: string }[] = [];
    switch (node.type) {
      case 'step':
      case 'loop':
      case 'foreach':
        candidates.push({ key: nodeKey(prefix, i), step: node.step, id: node.step.id });
        break;
      case 'parallel':
      case 'conditional':
        node.steps.forEach((s, j) => candidates.push({ key: childKey(nodeKey(prefix, i), j), step: s, id: s.id }));
        break;
      case 'sleep':
      case 'sleepUntil':
        candidates.push({ key: nodeKey(prefix, i), step: undefined, id: node.id });
        break;
    }
    for (const c of candidates) {
      if (c.id !== head) continue;
      if (rest.length === 0) return { key: c.key, step: c.step, node, path: [...path, c.id] };
      if (c.step?.graph) {
        const inner = findInGraph(c.step.graph, rest, nestedPrefix(c.key), [...path, c.id]);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

/** Finds a step by its id path (the first match in graph order), nested workflows included. */
export function findStepByPath(graph: CompiledGraph, ids: readonly string[]): GraphPlace | undefined {
  return ids.length === 0 ? undefined : findInGraph(graph, ids, '', []);
}

/** Every step id path in the graph, for error messages. */
export function allStepPaths(graph: CompiledGraph, prefix = ''): string[] {
  const out: string[] = [];
  for (const node of graph.nodes) {
    const steps =
      node.type === 'parallel' || node.type === 'conditional'
        ? node.steps
        : node.type === 'sleep' || node.type === 'sleepUntil'
          ? []
          : [node.step];
    if (node.type === 'sleep' || node.type === 'sleepUntil') out.push(prefix + node.id);
    for (const s of steps) {
      out.push(prefix + s.id);
      if (s.graph) out.push(...allStepPaths(s.graph, `${prefix}${s.id}.`));
    }
  }
  return out;
}
