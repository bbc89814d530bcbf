// Colours and symbols on a terminal: on when stdout is a TTY (or FORCE_COLOR is set), off with NO_COLOR or in pipes.
import type { RunStatus } from '../storage/types.js';

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

/** A style name. */
export type StyleName = keyof typeof CODES;

/** True when output should be coloured. */
function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

/** `text` in the given styles when colours are on, else unchanged. */
export function paint(text: string, ...styles: StyleName[]): string {
  if (!colorEnabled()) return text;
  return styles.reduce((out, s) => `\u001b[${CODES[s][0]}m${out}\u001b[${CODES[s][1]}m`, text);
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** The number of terminal columns `text` takes (escape codes excluded). */
export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

const STATUS_STYLE: Record<string, StyleName> = {
  success: 'green',
  failed: 'red',
  canceled: 'gray',
  suspended: 'yellow',
  waiting: 'blue',
  running: 'cyan',
  pending: 'gray',
  paused: 'magenta',
  bailed: 'green',
  skipped: 'gray',
};

const STATUS_SYMBOL: Record<string, string> = {
  success: '✔',
  failed: '✖',
  canceled: '⊘',
  suspended: '⏸',
  waiting: '◷',
  running: '▶',
  pending: '○',
  paused: '⏯',
  bailed: '↩',
  skipped: '·',
};

/** A status with its symbol, coloured. */
export function paintStatus(status: RunStatus | string): string {
  const symbol = STATUS_SYMBOL[status] ?? '•';
  return paint(`${symbol} ${status}`, STATUS_STYLE[status] ?? 'bold');
}
