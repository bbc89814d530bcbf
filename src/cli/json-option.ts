// Reading JSON given on the command line: inline text, @file, or - for standard input.
import { readFileSync } from 'node:fs';
import { usageError } from './exit-codes.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw usageError(`Cannot read JSON from standard input: ${(error as Error).message}`);
  }
}

/**
 * The JSON value of an option: `'{"approved":true}'`, `@answer.json` (a file) or `-` (stdin).
 * A parse error names the option and says where the JSON is wrong.
 */
export function parseJsonOption(text: string | undefined, option: string): unknown {
  if (text === undefined) return undefined;
  let source = text;
  let from = 'the argument';
  if (text === '-') {
    source = readStdin();
    from = 'standard input';
  } else if (text.startsWith('@')) {
    const file = text.slice(1);
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      throw usageError(
        `${option}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    from = file;
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw usageError(`${option} must be JSON (inline, @file or -); ${from} is not: ${(error as Error).message}`);
  }
}

/** A JSON object option (for context, state and request context), or undefined. */
export function parseJsonObjectOption(text: string | undefined, option: string): Record<string, unknown> | undefined {
  const value = parseJsonOption(text, option);
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usageError(`${option} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A whole number option, e.g. --port or --page. */
export function parseIntOption(text: string, option: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < min || value > max) {
    throw usageError(`${option} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** Help text of `--lease-ms`, shared by the commands that execute runs. */
export const LEASE_MS_HELP =
  'how long a run stays with this process without a renewal before another process continues it (default 30000; see README "Leases")';

/** `--lease-ms`, else WEFT_LEASE_MS, checked; undefined for the default. */
export function parseLeaseOption(text: string | undefined): number | undefined {
  const value = text ?? (process.env.WEFT_LEASE_MS || undefined);
  return value === undefined ? undefined : parseIntOption(value, '--lease-ms', 100, 86_400_000);
}
