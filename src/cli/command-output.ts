// Writing a command's output: JSON for scripts (--json), text for people; errors as JSON on stdout or text on stderr.
import { CommanderError } from 'commander';
import { WeftError } from '../errors.js';
import { bodyOfWeftError, type ErrorBody } from '../server/http-error.js';
import { toWire } from '../server/wire-json.js';
import { CliError } from './exit-codes.js';
import { paint } from './terminal-style.js';

/** Prints a value as JSON on stdout (one document). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(toWire(value), null, 2)}\n`);
}

/** Prints text on stdout. */
export function printText(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a note on stderr (progress, hints), so stdout stays clean for pipes. */
export function printNote(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The JSON of an error, as the HTTP API answers it: `{ error: { code, message, ...fields } }`. */
function errorJson(error: unknown): { error: Omit<ErrorBody['error'], 'code'> & { code: string } } {
  if (WeftError.is(error)) return bodyOfWeftError(error);
  if (error instanceof CliError) return { error: { code: error.code, message: error.message } };
  // Commander's messages start with "error: "; the JSON says it is an error already.
  if (error instanceof CommanderError)
    return { error: { code: 'USAGE', message: error.message.replace(/^error: /, '') } };
  return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
}

/**
 * Prints an error a command ended with: with `json`, its JSON on stdout (so a script reads one
 * document whatever happened); else a red line on stderr. An unexpected error also gets its stack on stderr.
 */
export function printError(error: unknown, json: boolean): void {
  const expected = error instanceof CliError || error instanceof CommanderError || WeftError.is(error);
  if (json) {
    printJson(errorJson(error));
    if (!expected && error instanceof Error && error.stack) printNote(error.stack);
    return;
  }
  const text = expected
    ? (error as Error).message
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  printNote(`${paint('error', 'red', 'bold')} ${text}`);
}
