// The step-key grammar: keys built from graph positions and read back.
import { describe, expect, it } from 'vitest';
import {
  childKey,
  inForeachItem,
  inSiblingBranch,
  isAtOrAfter,
  isItemOf,
  isIterationOf,
  isRootLevel,
  isWithin,
  itemDepth,
  itemKey,
  iterationKey,
  keyPositions,
  keySegments,
  nestedPrefix,
  nodeKey,
  parseSegment,
  previousNodeKey,
  rootBlockChild,
  segmentNode,
  withoutRepetition,
} from './step-keys.js';

describe('building keys', () => {
  it('writes nodes, block children, loop iterations, foreach items and nested levels in the documented grammar', () => {
    expect(nodeKey('', 2)).toBe('2');
    expect(childKey('2', 1)).toBe('2.1');
    expect(iterationKey('2', 3)).toBe('2@3');
    expect(itemKey('2', 7)).toBe('2[7]');
    expect(nestedPrefix('4')).toBe('4/');
    expect(nodeKey(nestedPrefix('4'), 0)).toBe('4/0');
    expect(itemKey(nodeKey(nestedPrefix(childKey('1', 0)), 2), 5)).toBe('1.0/2[5]');
  });

  it('gives the same string for a top-level node every time (made once)', () => {
    expect(nodeKey('', 12)).toBe(nodeKey('', 12));
    expect(nodeKey('', 12)).toBe('12');
  });
});

describe('reading keys', () => {
  it('parses each kind of segment, and refuses what is not one', () => {
    expect(parseSegment('2')).toEqual({ node: 2 });
    expect(parseSegment('2.1')).toEqual({ node: 2, child: 1 });
    expect(parseSegment('2@3')).toEqual({ node: 2, iteration: 3 });
    expect(parseSegment('2[7]')).toEqual({ node: 2, item: 7 });
    expect(parseSegment('x')).toBeUndefined();
    expect(parseSegment('2.1@3')).toBeUndefined();
    expect(parseSegment('')).toBeUndefined();
  });

  it('splits a key into its levels and reads the node a segment begins with', () => {
    expect(keySegments('4/0.1/2[3]')).toEqual(['4', '0.1', '2[3]']);
    expect(segmentNode('0.1')).toBe(0);
    expect(segmentNode('12@2')).toBe(12);
    expect(Number.isNaN(segmentNode('x'))).toBe(true);
  });

  it('reads a key as positions in graph order', () => {
    expect(keyPositions('2.1')).toEqual([2, 1]);
    expect(keyPositions('4/0')).toEqual([4, 0]);
    expect(keyPositions('2@3')).toEqual([2, 3]);
    expect(keyPositions('3[10]/1')).toEqual([3, 10, 1]);
  });

  it('orders keys against a target: later nodes, the target, its ancestors and descendants are at or after it', () => {
    const target = keyPositions('2.1');
    expect(isAtOrAfter('3', target)).toBe(true);
    expect(isAtOrAfter('2.1', target)).toBe(true);
    expect(isAtOrAfter('2', target)).toBe(true); // ancestor
    expect(isAtOrAfter('2.1/0', target)).toBe(true); // descendant
    expect(isAtOrAfter('2.0', target)).toBe(false);
    expect(isAtOrAfter('1', target)).toBe(false);
    expect(isAtOrAfter('10', keyPositions('9'))).toBe(true); // numbers, not strings
  });

  it('finds the other branches of the blocks that enclose a target, at any depth', () => {
    expect(inSiblingBranch('2.0', '2.1')).toBe(true);
    expect(inSiblingBranch('2.0/3', '2.1/0')).toBe(true);
    expect(inSiblingBranch('2.1/1', '2.1/0')).toBe(false);
    expect(inSiblingBranch('3', '2.1')).toBe(false);
    expect(inSiblingBranch('4/1.0', '4/1.2')).toBe(true);
    expect(inSiblingBranch('2.10', '2.1')).toBe(true); // child 10 is not child 1
  });

  it('finds the child of a root-level block that a key lies in, and the block', () => {
    expect(rootBlockChild('3.1')).toEqual({ block: '3', child: '3.1' });
    expect(rootBlockChild('3.12/0')).toEqual({ block: '3', child: '3.12' });
    expect(rootBlockChild('3.1/2[4]')).toEqual({ block: '3', child: '3.1' });
    for (const key of ['3', '2[4]', '2@1', '4/2.1']) expect(rootBlockChild(key)).toBeUndefined();
  });

  it('tells a key inside another (a child, iteration, item or nested step) from one that only shares its digits', () => {
    expect(isWithin('2', '2')).toBe(true);
    expect(isWithin('2.1', '2')).toBe(true);
    expect(isWithin('2@1', '2')).toBe(true);
    expect(isWithin('2[0]', '2')).toBe(true);
    expect(isWithin('2/0', '2')).toBe(true);
    expect(isWithin('21', '2')).toBe(false);
    expect(isWithin('1', '2')).toBe(false);
  });

  it('tells foreach items and loop iterations of a node from steps nested inside them', () => {
    expect(isItemOf('3[0]', '3')).toBe(true);
    expect(isItemOf('3[0]/1', '3')).toBe(false);
    expect(isItemOf('30[0]', '3')).toBe(false);
    expect(isIterationOf('3@2', '3')).toBe(true);
    expect(isIterationOf('3@2/0', '3')).toBe(false);
    expect(isIterationOf('3.1', '3')).toBe(false);
  });

  it('counts the foreach items a key lies in', () => {
    expect(inForeachItem('2')).toBe(false);
    expect(inForeachItem('2[1]/0')).toBe(true);
    expect(itemDepth('2')).toBe(0);
    expect(itemDepth('2[1]')).toBe(1);
    expect(itemDepth('2[1]/0[4]')).toBe(2);
  });

  it('finds the node that runs an iteration or item, and whether a key is at the root level', () => {
    expect(withoutRepetition('2@3')).toBe('2');
    expect(withoutRepetition('4/1[0]')).toBe('4/1');
    expect(withoutRepetition('2.1')).toBe('2.1');
    expect(isRootLevel('2.1')).toBe(true);
    expect(isRootLevel('4/0')).toBe(false);
  });

  it('finds the node whose output feeds a key, climbing out of nested workflows, and none at the very start', () => {
    expect(previousNodeKey('3')).toBe('2');
    expect(previousNodeKey('2.1')).toBe('1');
    expect(previousNodeKey('4/2')).toBe('4/1');
    expect(previousNodeKey('4/0')).toBe('3');
    expect(previousNodeKey('0/0')).toBeUndefined();
    expect(previousNodeKey('0')).toBeUndefined();
  });
});
