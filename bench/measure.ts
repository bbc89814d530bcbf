// Timing and statistics for the benchmark: wall-clock timing, medians, number formatting.

/** Milliseconds since `start` (a `performance.now()` value). */
export function elapsedMs(start: number): number {
  return performance.now() - start;
}

/** Runs `body` once and returns how long it took, in milliseconds. */
export async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return elapsedMs(start);
}

/** The median of the values (undefined for none). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number with about three significant digits, thousands separated. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}

/** A Weft / Mastra ratio, e.g. `0.012 (83× faster)`. */
export function formatRatio(weft: number | undefined, mastra: number | undefined): string {
  if (weft === undefined || mastra === undefined || mastra === 0) return '–';
  const ratio = weft / mastra;
  const faster = mastra / weft;
  return `${ratio < 0.01 ? ratio.toPrecision(2) : ratio.toFixed(ratio < 1 ? 3 : 2)} (${faster >= 1 ? `${formatNumber(faster)}× faster` : `${formatNumber(1 / faster)}× slower`})`;
}
