// The targets of the benchmark (issue 6), checked against the medians of one run.
import type { EngineName, StoreKind } from './engines.js';
import { formatNumber } from './measure.js';

/** Reads a median: workload, store, engine, metric. */
export type MedianLookup = (
  workload: string,
  store: StoreKind,
  engine: EngineName,
  metric: string,
) => number | undefined;

export interface TargetCheck {
  workload: string;
  text: string;
  /** undefined when the workload was not run. */
  met: boolean | undefined;
  measured: string;
}

interface Target {
  workload: string;
  text: string;
  check(get: MedianLookup): { met: boolean; measured: string } | undefined;
}

/** At least `times`× faster than Mastra on this metric and store. */
function faster(workload: string, store: StoreKind, metric: string, times: number, text: string): Target {
  return {
    workload,
    text,
    check(get) {
      const w = get(workload, store, 'weft', metric);
      const m = get(workload, store, 'mastra', metric);
      if (w === undefined || m === undefined) return undefined;
      return { met: m / w >= times, measured: `${formatNumber(m / w)}× faster` };
    },
  };
}

function atMost(workload: string, store: StoreKind, metric: string, limit: number, unit: string, text: string): Target {
  return {
    workload,
    text,
    check(get) {
      const w = get(workload, store, 'weft', metric);
      if (w === undefined) return undefined;
      return { met: w <= limit, measured: `${formatNumber(w)}${unit}` };
    },
  };
}

const TARGETS: readonly Target[] = [
  faster('W1', 'memory', 'usPerStep', 50, 'W1 in memory ≥ 50× faster than Mastra'),
  atMost('W1', 'memory', 'usPerStep', 2, ' µs', 'W1 in memory under 2 µs per step (aim)'),
  faster('W1', 'file', 'usPerStep', 10, 'W1 on SQLite (every step stored) ≥ 10× faster than Mastra on LibSQL'),
  faster('W2', 'memory', 'totalMs', 20, 'W2 in memory ≥ 20× faster'),
  faster('W2', 'file', 'totalMs', 20, 'W2 on a file store ≥ 20× faster'),
  {
    workload: 'W2',
    text: 'W2: the 5 ms timer keeps firing (longest gap ≤ 50 ms, memory and file)',
    check(get) {
      const gaps = (['memory', 'file'] as const)
        .map((s) => get('W2', s, 'weft', 'maxGapMs'))
        .filter((g): g is number => g !== undefined);
      if (gaps.length === 0) return undefined;
      return {
        met: Math.max(...gaps) <= 50,
        measured: `longest gap ${gaps.map((g) => formatNumber(g)).join(' / ')} ms`,
      };
    },
  },
  faster('W3', 'memory', 'msPerRun', 20, 'W3 in memory ≥ 20× faster'),
  faster('W3', 'file', 'msPerRun', 20, 'W3 on a file store ≥ 20× faster'),
  faster('W4', 'memory', 'usPerItemC1', 20, 'W4 in memory, concurrency 1, ≥ 20× faster'),
  faster('W4', 'memory', 'usPerItemC16', 20, 'W4 in memory, concurrency 16, ≥ 20× faster'),
  faster('W4', 'file', 'usPerItemC1', 20, 'W4 on a file store, concurrency 1, ≥ 20× faster'),
  faster('W4', 'file', 'usPerItemC16', 20, 'W4 on a file store, concurrency 16, ≥ 20× faster'),
  faster('W5', 'memory', 'usPerRoundTrip', 10, 'W5 in memory ≥ 10× faster'),
  faster('W5', 'file', 'usPerRoundTrip', 10, 'W5 on a file store ≥ 10× faster'),
  atMost('W6', 'memory', 'vsStart', 1.5, '×', 'W6 (stream) at most 1.5× W1 (start)'),
  atMost('W7', 'memory', 'exponent', 1.15, '', 'W7 linear (growth exponent ≤ 1.15)'),
  atMost('W7', 'memory', 'ms10000', 100, ' ms', 'W7 10,000 steps under 100 ms in memory'),
  atMost(
    'W8',
    'file',
    'bytesPerRun',
    1024,
    ' B',
    'W8 under 1 KB retained per run beyond the store (file store: nothing in the heap)',
  ),
  atMost('W9', 'memory', 'importMs', 150, ' ms', 'W9 import under 150 ms above bare node'),
];

/** Checks every target whose workload ran. */
export function checkTargets(get: MedianLookup): TargetCheck[] {
  return TARGETS.map((t) => {
    const r = t.check(get);
    return { workload: t.workload, text: t.text, met: r?.met, measured: r?.measured ?? 'not run' };
  });
}
