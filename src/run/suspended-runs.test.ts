import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../storage/types.js';
import { MAX_COPIED_ENTRIES, SuspendedRuns } from './suspended-runs.js';

const journal = (entries: number, textPerEntry = 10): JournalEntry[] =>
  Array.from({ length: entries }, (_, i) => ({ seq: i + 1, type: 'step-end', data: 'x'.repeat(textPerEntry), at: 0 }));

describe('SuspendedRuns', () => {
  it('keeps the latest copy of each run until it is forgotten', () => {
    const runs = new SuspendedRuns();
    runs.remember('a', { epoch: 1, updatedAt: 5, journal: journal(2) });
    runs.remember('a', { epoch: 2, updatedAt: 9, journal: journal(3) });
    expect(runs.get('a')).toMatchObject({ epoch: 2, updatedAt: 9 });
    runs.forget('a');
    expect(runs.get('a')).toBeUndefined();
  });

  it('keeps no copy of a journal too long or too large, and drops the one kept before', () => {
    const runs = new SuspendedRuns();
    runs.remember('a', { epoch: 1, updatedAt: 5, journal: journal(2) });
    runs.remember('a', { epoch: 2, updatedAt: 6, journal: journal(MAX_COPIED_ENTRIES + 1) });
    expect(runs.get('a')).toBeUndefined();
    runs.remember('b', { epoch: 1, updatedAt: 5, journal: journal(1, 300 * 1024) });
    expect(runs.get('b')).toBeUndefined();
  });

  it('lets the oldest copies go past 1,000 runs or 32 MB of text', () => {
    const runs = new SuspendedRuns();
    for (let i = 0; i < 1001; i++) runs.remember(`r${i}`, { epoch: 1, updatedAt: i, journal: journal(1) });
    expect(runs.get('r0')).toBeUndefined();
    expect(runs.get('r1')).toBeDefined();
    expect(runs.get('r1000')).toBeDefined();
    const big = new SuspendedRuns();
    // 200 KB each: the 164th passes 32 MB, and the first goes.
    for (let i = 0; i < 164; i++) big.remember(`r${i}`, { epoch: 1, updatedAt: i, journal: journal(1, 200 * 1024) });
    expect(big.get('r0')).toBeUndefined();
    expect(big.get('r1')).toBeDefined();
    expect(big.get('r163')).toBeDefined();
  });
});
