// HTTP errors: the JSON error body, the status each WeftError code maps to, and the app's error handler.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { WeftError, type WeftErrorCode } from '../errors.js';

/** Codes the server adds to the engine's own. */
export type ServerErrorCode =
  | 'MALFORMED_JSON'
  | 'INVALID_REQUEST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INTERNAL';

/** The body of every error response: `{ error: { code, message, ...fields } }`. */
export interface ErrorBody {
  error: {
    code: WeftErrorCode | ServerErrorCode;
    message: string;
    runId?: string;
    workflowId?: string;
    stepId?: string;
    actualStatus?: string;
    issues?: readonly { path: string; message: string }[];
  };
}

/** An error the server raises itself, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ServerErrorCode | WeftErrorCode,
    message: string,
    readonly fields: Omit<ErrorBody['error'], 'code' | 'message'> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const NOT_FOUND_CODES: readonly WeftErrorCode[] = ['RUN_NOT_FOUND', 'WORKFLOW_NOT_FOUND', 'STEP_NOT_FOUND'];
const CONFLICT_CODES: readonly WeftErrorCode[] = [
  'RUN_NOT_SUSPENDED',
  'RUN_NOT_ACTIVE',
  'RUN_STILL_RUNNING',
  'RUN_ALREADY_CLAIMED',
  'RUN_OWNERSHIP_LOST',
  'RUN_CANCELED',
  'STEP_NOT_SUSPENDED',
  'WORKFLOW_MISMATCH',
  'NESTED_RUN_NOT_SUCCESSFUL',
];
const SERVER_SIDE_CODES: readonly WeftErrorCode[] = ['WORKFLOW_NOT_COMMITTED', 'WORKFLOW_EMPTY', 'INVALID_DEFINITION'];

/** The HTTP status for a WeftError code: 404 for unknown things, 409 for state conflicts, 400 for bad input. */
export function statusOfWeftCode(code: WeftErrorCode): ContentfulStatusCode {
  if (NOT_FOUND_CODES.includes(code)) return 404;
  if (CONFLICT_CODES.includes(code)) return 409;
  if (code === 'STORAGE_ERROR') return 503;
  if (SERVER_SIDE_CODES.includes(code)) return 500;
  return 400;
}

/** The error body for a WeftError, with its structured fields. */
export function bodyOfWeftError(error: WeftError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.runId !== undefined) body.error.runId = error.runId;
  if (error.workflowId !== undefined) body.error.workflowId = error.workflowId;
  if (error.stepId !== undefined) body.error.stepId = error.stepId;
  if (error.actualStatus !== undefined) body.error.actualStatus = error.actualStatus;
  if (error.issues !== undefined) body.error.issues = error.issues;
  return body;
}

/** A JSON error response. */
export function errorResponse(c: Context, status: ContentfulStatusCode, body: ErrorBody): Response {
  return c.json(body, status);
}

/** Turns anything thrown by a handler into a JSON error response; unexpected errors are logged and answered with 500. */
export function handleError(error: unknown, c: Context, log: (message: string, error: unknown) => void): Response {
  if (error instanceof HttpError) {
    return errorResponse(c, error.status, { error: { code: error.code, message: error.message, ...error.fields } });
  }
  if (WeftError.is(error)) return errorResponse(c, statusOfWeftCode(error.code), bodyOfWeftError(error));
  if (error instanceof HTTPException) {
    const res = error.getResponse();
    if (res.headers.get('content-type')?.includes('application/json')) return res;
    const code: ServerErrorCode =
      error.status === 401 ? 'UNAUTHORIZED' : error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST';
    return errorResponse(c, error.status as ContentfulStatusCode, {
      error: { code, message: error.message || res.statusText },
    });
  }
  log(`Unexpected error while serving ${c.req.method} ${c.req.path}`, error);
  return errorResponse(c, 500, { error: { code: 'INTERNAL', message: 'Internal server error; see the server log' } });
}
