import { describe, expect, it } from 'vitest';
import { firesToMake } from './catchup.js';

const NOW = 1_700_000_100_000;
const DAY = 86_400_000;
/** Fires every second, the newest `lateMs` before NOW. */
const due = (count: number, lateMs: number): number[] =>
  Array.from({ length: count }, (_, i) => NOW - lateMs - (count - 1 - i) * 1000);

describe('firesToMake', () => {
  it("with 'all', makes every missed fire within the window, oldest first", () => {
    expect(firesToMake({ catchup: 'all', catchupWindowMs: DAY }, due(5, 3000), NOW, 100)).toEqual(due(5, 3000));
    expect(firesToMake({ catchup: 'all', catchupWindowMs: 4500 }, due(5, 3000), NOW, 100)).toEqual(due(2, 3000));
  });

  it("with 'latest', makes the most recent fire even when it is late, once", () => {
    expect(firesToMake({ catchup: 'latest', catchupWindowMs: DAY }, due(5, 3000), NOW, 100)).toEqual([NOW - 3000]);
    expect(firesToMake({ catchup: 'latest', catchupWindowMs: 2000 }, due(5, 3000), NOW, 100)).toEqual([]);
  });

  it("with 'none', makes only a fire that is on time: at most a tick and a second late", () => {
    expect(firesToMake({ catchup: 'none', catchupWindowMs: DAY }, due(5, 3000), NOW, 100)).toEqual([]);
    expect(firesToMake({ catchup: 'none', catchupWindowMs: DAY }, due(5, 1100), NOW, 100)).toEqual([NOW - 1100]);
    expect(firesToMake({ catchup: 'none', catchupWindowMs: DAY }, due(1, 5000), NOW, 10_000)).toEqual([NOW - 5000]);
  });

  it('makes a fire on time whatever the window', () => {
    expect(firesToMake({ catchup: 'all', catchupWindowMs: 0 }, due(3, 50), NOW, 10)).toEqual([NOW - 50]);
    expect(firesToMake({ catchup: 'latest', catchupWindowMs: 0 }, due(3, 50), NOW, 10)).toEqual([NOW - 50]);
  });

  it('makes nothing when nothing is due', () => {
    expect(firesToMake({ catchup: 'all', catchupWindowMs: DAY }, [], NOW, 100)).toEqual([]);
  });
});
