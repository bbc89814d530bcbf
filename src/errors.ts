// The error family: one base class with a closed set of string codes, plus the error a step throws to opt out of retries.

/** Every code a `WeftError` can carry. */
export type WeftErrorCode =
  | 'WORKFLOW_NOT_COMMITTED'
  | 'WORKFLOW_EMPTY'
  | 'WORKFLOW_NOT_FOUND'
  | 'WORKFLOW_MISMATCH'
  | 'INVALID_DEFINITION'
  | 'INVALID_INPUT'
  | 'INVALID_INITIAL_STATE'
  | 'INVALID_REQUEST_CONTEXT'
  | 'INVALID_RESUME_DATA'
  | 'INVALID_ARGUMENT'
  | 'STEP_INPUT_INVALID'
  | 'STEP_OUTPUT_INVALID'
  | 'VALUE_NOT_SERIALIZABLE'
  | 'STEP_SUSPEND_DATA_INVALID'
  | 'STEP_STATE_INVALID'
  | 'STEP_REQUEST_CONTEXT_INVALID'
  | 'STEP_NOT_FOUND'
  | 'SCHEDULE_NOT_FOUND'
  | 'STEP_NOT_SUSPENDED'
  | 'MULTIPLE_SUSPENDED_STEPS'
  | 'RESUME_LABEL_NOT_FOUND'
  | 'NESTED_RUN_NOT_SUCCESSFUL'
  | 'MAP_PATH_INVALID'
  | 'CONDITION_FAILED'
  | 'RUN_NOT_FOUND'
  | 'RUN_NOT_SUSPENDED'
  | 'RUN_NOT_ACTIVE'
  | 'RUN_STILL_RUNNING'
  | 'RUN_ALREADY_CLAIMED'
  | 'RUN_OWNERSHIP_LOST'
  | 'RUN_CANCELED'
  | 'ENGINE_CLOSED'
  | 'STORAGE_ERROR'
  | 'OUTCOME_UNKNOWN'
  /** A stored journal entry is of a later format (or an unknown type): refused rather than misread. */
  | 'JOURNAL_FORMAT_UNSUPPORTED'
  /** An optional peer dependency an entry point needs (`pg`, `graphile-worker`) is not installed. */
  | 'PACKAGE_MISSING';

/**
 * What kind of problem a code stands for, so every surface answers alike (HTTP status, CLI exit
 * code): the thing named does not exist, the run's state does not allow the action, the caller's
 * input was wrong, the workflow definition is broken, or storage failed.
 */
export type WeftErrorKind = 'not-found' | 'conflict' | 'invalid-input' | 'definition' | 'storage';

const KIND_OF: Partial<Record<WeftErrorCode, WeftErrorKind>> = {
  RUN_NOT_FOUND: 'not-found',
  WORKFLOW_NOT_FOUND: 'not-found',
  STEP_NOT_FOUND: 'not-found',
  SCHEDULE_NOT_FOUND: 'not-found',
  RUN_NOT_SUSPENDED: 'conflict',
  RUN_NOT_ACTIVE: 'conflict',
  RUN_STILL_RUNNING: 'conflict',
  RUN_ALREADY_CLAIMED: 'conflict',
  RUN_OWNERSHIP_LOST: 'conflict',
  RUN_CANCELED: 'conflict',
  ENGINE_CLOSED: 'conflict',
  STEP_NOT_SUSPENDED: 'conflict',
  WORKFLOW_MISMATCH: 'conflict',
  NESTED_RUN_NOT_SUCCESSFUL: 'conflict',
  WORKFLOW_NOT_COMMITTED: 'definition',
  WORKFLOW_EMPTY: 'definition',
  INVALID_DEFINITION: 'definition',
  STORAGE_ERROR: 'storage',
  OUTCOME_UNKNOWN: 'storage',
  JOURNAL_FORMAT_UNSUPPORTED: 'storage',
  PACKAGE_MISSING: 'definition',
};

/** The kind of a code; every code not listed is about the caller's input. */
export function errorKind(code: WeftErrorCode): WeftErrorKind {
  return KIND_OF[code] ?? 'invalid-input';
}

/** Structured fields a `WeftError` may carry besides its code. */
export interface WeftErrorFields {
  runId?: string;
  workflowId?: string;
  stepId?: string;
  /** The status found, when the error is about a status. */
  actualStatus?: string;
  /** Validation issues: `{ path, message }` per problem. */
  issues?: readonly { path: string; message: string }[];
  cause?: unknown;
}

const WEFT_ERROR_BRAND = Symbol.for('weft.error');

/**
 * The base of every error Weft throws. `code` is a closed union; `WeftError.is(e)` works across
 * copies of the package.
 *
 * @example
 * try { await run.resume({ resumeData }) } catch (e) { if (WeftError.is(e, 'RUN_NOT_SUSPENDED')) ... }
 */
export class WeftError extends Error {
  readonly code: WeftErrorCode;
  readonly runId?: string;
  readonly workflowId?: string;
  readonly stepId?: string;
  readonly actualStatus?: string;
  readonly issues?: readonly { path: string; message: string }[];

  constructor(code: WeftErrorCode, message: string, fields: WeftErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'WeftError';
    this.code = code;
    if (fields.runId !== undefined) this.runId = fields.runId;
    if (fields.workflowId !== undefined) this.workflowId = fields.workflowId;
    if (fields.stepId !== undefined) this.stepId = fields.stepId;
    if (fields.actualStatus !== undefined) this.actualStatus = fields.actualStatus;
    if (fields.issues !== undefined) this.issues = fields.issues;
    Object.defineProperty(this, WEFT_ERROR_BRAND, { value: true });
  }

  /** True when `value` is a WeftError (from any copy of the package), optionally with the given code. */
  static is(value: unknown, code?: WeftErrorCode): value is WeftError {
    if (typeof value !== 'object' || value === null) return false;
    if (!(value as Record<symbol, unknown>)[WEFT_ERROR_BRAND]) return false;
    return code === undefined || (value as WeftError).code === code;
  }
}

/**
 * Thrown by a step to fail at once, without retries, whatever `retries` or `retryConfig` say.
 * The step's result is marked `nonRetryable: true`.
 */
export class NonRetryableError extends Error {
  readonly nonRetryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }

  /** True for a NonRetryableError, from any copy of the package or any class that sets `nonRetryable: true`. */
  static is(value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { nonRetryable?: unknown }).nonRetryable === true;
  }
}

/** Codes of the errors a start raises before it claims its run: nothing of the run ran or was recorded. */
const REFUSED_BEFORE_CLAIM = new Set<string>([
  'INVALID_INPUT',
  'INVALID_INITIAL_STATE',
  'INVALID_REQUEST_CONTEXT',
  'VALUE_NOT_SERIALIZABLE',
]);

/**
 * True for an error of a start refused before it claimed its run (invalid input, state or request
 * context, data that cannot be stored): the run stays `pending`, and whoever made up its id may delete it.
 */
export function refusedBeforeClaim(error: unknown): boolean {
  return WeftError.is(error) && REFUSED_BEFORE_CLAIM.has(error.code);
}
