// The exit codes of the `weft` command, so that scripts can tell outcomes apart, and the errors that carry them.
import { WeftError, errorKind } from '../errors.js';
import type { RunStatus } from '../storage/types.js';

/** Every exit code `weft` uses. */
export const EXIT = {
  /** Done; a followed run ended `success`. */
  ok: 0,
  /** An unexpected error (a bug, the database cannot be opened). */
  error: 1,
  /** Wrong arguments or options. */
  usage: 2,
  /** No such run, workflow or step. */
  notFound: 3,
  /** The run is in a status that does not allow the action (e.g. resume of a finished run). */
  conflict: 4,
  /** Input, resume data or other JSON given was rejected by the schema. */
  invalidInput: 5,
  /** A followed run ended `failed`. */
  runFailed: 10,
  /** A followed run ended `canceled`. */
  runCanceled: 11,
  /** A followed run stopped `suspended`, waiting for `weft runs resume`. */
  runSuspended: 12,
  /** A followed run stopped `paused` (perStep). */
  runPaused: 13,
} as const;

/** An error that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: string = 'CLI_ERROR',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error: wrong or missing arguments. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage, 'USAGE');
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (WeftError.is(error)) {
    switch (errorKind(error.code)) {
      case 'not-found':
        return EXIT.notFound;
      case 'conflict':
        return EXIT.conflict;
      case 'invalid-input':
        return EXIT.invalidInput;
      default:
        return EXIT.error;
    }
  }
  return EXIT.error;
}

/** The exit code for the status a followed run ended in. */
export function exitCodeOfStatus(status: RunStatus): number {
  switch (status) {
    case 'failed':
      return EXIT.runFailed;
    case 'canceled':
      return EXIT.runCanceled;
    case 'suspended':
      return EXIT.runSuspended;
    case 'paused':
      return EXIT.runPaused;
    default:
      return EXIT.ok;
  }
}
