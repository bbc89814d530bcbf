// Step keys: the address of one step execution in a run's journal, made of graph positions. The one
// place that builds and reads them:
//
//   2        the third node of a workflow level
//   2.1      the second child of the parallel (or branch) block at node 2
//   2@3      the third iteration of the loop at node 2
//   2[7]     the eighth item of the foreach at node 2
//   4/0      the first node inside the nested workflow at node 4
//
// Positions come from the definition, never from random numbers, so a key means the same step in every process.

/** One segment of a key (between slashes), parsed: the node and, at most one of, its child, iteration or item. */
export interface KeySegment {
  node: number;
  child?: number;
  iteration?: number;
  item?: number;
}

const SEGMENT = /^(\d+)(?:\.(\d+)|@(\d+)|\[(\d+)\])?$/;

/** Keys of top-level nodes ('0', '1', ...), made once rather than per run. */
const TOP_KEYS: string[] = [];

/** The key of node `index` of the level whose keys begin with `prefix` ('' at the root, see `nestedPrefix`). */
export function nodeKey(prefix: string, index: number): string {
  return prefix === '' ? (TOP_KEYS[index] ??= String(index)) : `${prefix}${index}`;
}

/** The key of child `index` of the parallel or branch block at `key`. */
export function childKey(key: string, index: number): string {
  return `${key}.${index}`;
}

/** The key of iteration `n` of the loop at `key`. */
export function iterationKey(key: string, n: number): string {
  return `${key}@${n}`;
}

/** The key of item `index` of the foreach at `key`. */
export function itemKey(key: string, index: number): string {
  return `${key}[${index}]`;
}

/** The prefix of the keys inside the nested workflow at `key`. */
export function nestedPrefix(key: string): string {
  return `${key}/`;
}

/**
 * The child of a root-level parallel or branch block that `key` lies in (`3.1` for `3.1` and `3.1/0`), with
 * the block's key (`3`); undefined when `key` lies in no such child.
 */
export function rootBlockChild(key: string): { block: string; child: string } | undefined {
  const segment = parseSegment(keySegments(key)[0]!);
  if (segment?.child === undefined) return undefined;
  const block = nodeKey('', segment.node);
  return { block, child: childKey(block, segment.child) };
}

/** The segments of a key, outermost first, unparsed (`4/0.1` → ['4', '0.1']). */
export function keySegments(key: string): string[] {
  return key.split('/');
}

/** Parses one segment (`2`, `2.1`, `2@3`, `2[7]`); undefined when it is not one. */
export function parseSegment(segment: string): KeySegment | undefined {
  const m = SEGMENT.exec(segment);
  if (!m) return undefined;
  const parsed: KeySegment = { node: Number(m[1]) };
  if (m[2] !== undefined) parsed.child = Number(m[2]);
  if (m[3] !== undefined) parsed.iteration = Number(m[3]);
  if (m[4] !== undefined) parsed.item = Number(m[4]);
  return parsed;
}

/** The node index a segment begins with (`2.1` → 2). */
export function segmentNode(segment: string): number {
  return Number(/^\d+/.exec(segment)?.[0] ?? Number.NaN);
}

/** A key's positions, for ordering (`2.1` → [2, 1], `4/0` → [4, 0], `2@3` → [2, 3]). */
export function keyPositions(key: string): number[] {
  return key
    .split(/[./@[\]]+/)
    .filter(Boolean)
    .map(Number);
}

/** True when `key` is at or after `target` (its positions) in graph order, or is one of its ancestors. */
export function isAtOrAfter(key: string, target: readonly number[]): boolean {
  const k = keyPositions(key);
  for (let i = 0; i < Math.min(k.length, target.length); i++) {
    if (k[i]! !== target[i]!) return k[i]! > target[i]!;
  }
  return true; // equal, ancestor or descendant
}

/**
 * True when `key` lies in another branch of a parallel or branch block that encloses `target` (at any
 * depth): a time travel to `target` keeps what such siblings recorded, as the reference does.
 */
export function inSiblingBranch(key: string, target: string): boolean {
  let prefix = '';
  for (const segment of keySegments(target)) {
    const dot = segment.indexOf('.');
    if (dot > 0) {
      const block = prefix + segment.slice(0, dot + 1);
      if (key.startsWith(block)) {
        const own = segment.slice(dot + 1);
        let end = block.length;
        while (end < key.length && key.charCodeAt(end) >= 48 && key.charCodeAt(end) <= 57) end++;
        if (key.slice(block.length, end) !== own) return true;
      }
    }
    prefix = nestedPrefix(prefix + segment);
  }
  return false;
}

/** True when `key` is `outer` itself or the key of a step inside it (a child, iteration, item or nested step). */
export function isWithin(key: string, outer: string): boolean {
  if (key === outer) return true;
  return key.length > outer.length && key.startsWith(outer) && '/.@['.includes(key[outer.length]!);
}

/** True when `key` is an item of the foreach at `foreachKey` (not a step nested inside one). */
export function isItemOf(key: string, foreachKey: string): boolean {
  const prefix = `${foreachKey}[`;
  return key.startsWith(prefix) && !key.includes('/', prefix.length);
}

/** True when `key` is an iteration of the loop at `loopKey` (not a step nested inside one). */
export function isIterationOf(key: string, loopKey: string): boolean {
  return key.startsWith(`${loopKey}@`) && !key.includes('/', loopKey.length);
}

/** True when `key` lies in a foreach item (is one, or a step nested inside one). */
export function inForeachItem(key: string): boolean {
  return key.includes('[');
}

/** How many foreach items `key` lies in (its own item included): 0 outside any. */
export function itemDepth(key: string): number {
  let depth = 0;
  for (let i = key.indexOf('['); i >= 0; i = key.indexOf('[', i + 1)) depth++;
  return depth;
}

/** The key without its last iteration or item (`2@3` → `2`, `4/1[0]` → `4/1`): the node that runs it. */
export function withoutRepetition(key: string): string {
  return key.replace(/(@\d+|\[\d+\])$/, '');
}

/** True when `key` addresses a node of the root level (not one inside a nested workflow). */
export function isRootLevel(key: string): boolean {
  return !key.includes('/');
}

/** The key whose output feeds the node at `key` (the node before it, climbing out of nested workflows), or undefined at the very start. */
export function previousNodeKey(key: string): string | undefined {
  const segments = keySegments(key);
  for (let depth = segments.length - 1; depth >= 0; depth--) {
    const index = segmentNode(segments[depth]!);
    if (index > 0) return [...segments.slice(0, depth), String(index - 1)].join('/');
  }
  return undefined;
}
