// Reading request input: the JSON body as an object with known fields, and typed query parameters.
import type { Context } from 'hono';
import { RUN_STATUSES, type RunStatus } from '../storage/types.js';
import { HttpError } from './http-error.js';

/** A parsed JSON body: a plain object. */
export type JsonObject = Record<string, unknown>;

function invalid(message: string): HttpError {
  return new HttpError(400, 'INVALID_REQUEST', message);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Reads the body as a JSON object whose keys are all in `allowed`. An empty body reads as `{}`.
 * Throws 415 for a body that is not declared JSON, 400 for malformed JSON, a non-object or an
 * unknown field (so a typo such as `resumData` is reported, not ignored).
 */
export async function readJsonObject(c: Context, allowed: readonly string[]): Promise<JsonObject> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Request body must be JSON with "Content-Type: application/json", got "${type || 'none'}"`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'MALFORMED_JSON', `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`Request body must be a JSON object, got ${describeJson(value)}`);
  }
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const list = unknown.map((k) => `"${k}"`).join(', ');
    throw invalid(
      `Unknown field${unknown.length > 1 ? 's' : ''} ${list} in request body; expected some of: ${allowed.join(', ')}`,
    );
  }
  return value as JsonObject;
}

/** A string field, or undefined when absent. */
export function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(`Field "${key}" must be a non-empty string, got ${describeJson(value)}`);
  return value;
}

/** A required string field. */
export function requiredString(body: JsonObject, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw invalid(`Field "${key}" is required`);
  return value;
}

/** A boolean field, or undefined when absent. */
export function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`Field "${key}" must be true or false, got ${describeJson(value)}`);
  return value;
}

/** A whole number >= 0, or undefined when absent. */
export function optionalIndex(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(`Field "${key}" must be a whole number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A JSON object field, or undefined when absent. */
export function optionalObject(body: JsonObject, key: string): JsonObject | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`Field "${key}" must be a JSON object, got ${describeJson(value)}`);
  }
  return value as JsonObject;
}

/** A step address: a (dotted) id or a path of ids. */
export function optionalStepTarget(body: JsonObject, key: string): string | string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0)) {
    return value as string[];
  }
  throw invalid(
    `Field "${key}" must be a step id ("approve" or "outer.inner") or a path of ids, got ${JSON.stringify(value)}`,
  );
}

/** A query parameter as a whole number within bounds, or undefined when absent. */
export function queryInt(c: Context, key: string, min: number, max: number): number | undefined {
  const raw = c.req.query(key);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Query parameter "${key}" must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A query parameter as a date (ISO text or epoch ms), or undefined when absent. */
export function queryDate(c: Context, key: string): Date | undefined {
  const raw = c.req.query(key);
  if (raw === undefined || raw === '') return undefined;
  const date = /^\d+$/.test(raw) ? new Date(Number(raw)) : new Date(raw);
  if (Number.isNaN(date.getTime()))
    throw invalid(`Query parameter "${key}" must be an ISO date or epoch milliseconds, got "${raw}"`);
  return date;
}

/** The `status` query parameter: one status or a comma-separated list. */
export function queryStatuses(c: Context): RunStatus[] | undefined {
  const raw = c.req.query('status');
  if (raw === undefined || raw === '') return undefined;
  const statuses = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const status of statuses) {
    if (!RUN_STATUSES.includes(status as RunStatus)) {
      throw invalid(`Unknown run status "${status}"; expected one of ${RUN_STATUSES.join(', ')}`);
    }
  }
  return statuses as RunStatus[];
}
