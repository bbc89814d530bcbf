// HTTP errors: the JSON error body, the status each WeftError code maps to, and the app's error handler.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { WeftError, errorKind, type WeftErrorCode } from '../errors.js';

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

/** The HTTP status for a WeftError code: 404 for unknown things, 409 for state conflicts, 400 for bad input. */
function statusOfWeftCode(code: WeftErrorCode): ContentfulStatusCode {
  switch (errorKind(code)) {
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'storage':
      return 503;
    case 'definition':
      return 500;
    case 'invalid-input':
      return 400;
  }
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
