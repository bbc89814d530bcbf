// Errors as plain records (name, message, own fields, cause chain; no stack) and back again.
import { WeftError } from '../errors.js';
import type { SerializedError } from '../workflow/types.js';

const MAX_CAUSE_DEPTH = 8;

function plainValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return serializeError(value, depth + 1);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Turns anything thrown into `{ name, message, ...ownFields, cause }`. A thrown string becomes `{ name: 'Error', message }`. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    if (typeof error === 'object' && error !== null && typeof (error as SerializedError).message === 'string') {
      const rec = error as SerializedError;
      return { ...rec, name: typeof rec.name === 'string' ? rec.name : 'Error', message: rec.message };
    }
    return { name: 'Error', message: typeof error === 'string' ? error : String(error) };
  }
  const out: SerializedError = { name: error.name, message: error.message };
  for (const key of Object.keys(error)) {
    if (key === 'stack' || key === 'name' || key === 'message' || key === 'cause') continue;
    const value = plainValue((error as unknown as Record<string, unknown>)[key], depth);
    if (value !== undefined) out[key] = value;
  }
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    out.cause = error.cause instanceof Error ? serializeError(error.cause, depth + 1) : plainValue(error.cause, depth);
  }
  return out;
}

/** Rebuilds an Error from its record, keeping its name, own fields and cause chain. */
export function deserializeError(record: unknown): Error {
  if (record instanceof Error) return record;
  const rec = (typeof record === 'object' && record !== null ? record : { message: String(record) }) as SerializedError;
  const { name, message, cause, ...fields } = rec;
  const error = new Error(
    String(message ?? ''),
    cause === undefined
      ? undefined
      : { cause: typeof cause === 'object' && cause !== null ? deserializeError(cause) : cause },
  );
  if (typeof name === 'string') error.name = name;
  Object.assign(error, fields);
  // The record had no stack; a stack pointing here would mislead.
  delete (error as { stack?: string }).stack;
  return error;
}

/** The error of a value that cannot be stored as JSON, naming what produced it. */
export function notSerializable(what: string, cause: unknown, fields: { stepId?: string; runId?: string }): WeftError {
  // Text only: the cause may hold the very value that could not be stored.
  let reason: string;
  try {
    reason = String(cause instanceof Error ? cause.message : cause);
  } catch {
    reason = 'unknown reason';
  }
  return new WeftError('VALUE_NOT_SERIALIZABLE', `${what}: ${reason}`, fields);
}
