// Plain-text tables for the terminal: aligned columns, a header rule, cells cut to fit the width.
import { paint, visibleLength } from './terminal-style.js';

/** One column: its header, and whether it may shrink when the table is too wide. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** Columns that may be cut (with …) when the table does not fit the terminal. */
  shrink?: boolean;
}

function cut(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return `${[...plain].slice(0, Math.max(0, width - 1)).join('')}…`;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const gap = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return align === 'right' ? gap + text : text + gap;
}

/**
 * Renders rows under headers, two spaces between columns. When `maxWidth` is smaller than the
 * table, the shrinkable columns are cut, widest first.
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly string[][],
  maxWidth = process.stdout.columns ?? 120,
): string {
  const widths = columns.map((col, i) =>
    Math.max(visibleLength(col.header), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const total = (): number => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  while (total() > maxWidth) {
    let widest = -1;
    columns.forEach((col, i) => {
      if (col.shrink && widths[i]! > 8 && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest] = widths[widest]! - 1;
  }
  const line = (cells: readonly string[]): string =>
    columns
      .map((col, i) => pad(cut(cells[i] ?? '', widths[i]!), widths[i]!, col.align ?? 'left'))
      .join('  ')
      .trimEnd();
  const header = paint(line(columns.map((c) => c.header)), 'bold');
  const rule = paint(widths.map((w) => '─'.repeat(w)).join('  '), 'dim');
  return [header, rule, ...rows.map(line)].join('\n');
}
