// Writing a command's output: JSON for scripts (--json), text for people, errors to stderr.
import { toWire } from '../server/wire-json.js';

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
