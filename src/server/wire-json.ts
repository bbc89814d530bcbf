// Converts engine values to JSON-safe ones: errors become plain records, dates ISO strings, cycles are cut.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error as it travels over the wire. */
interface WireError {
  name: string;
  message: string;
  cause?: unknown;
  [key: string]: unknown;
}

function errorToWire(error: Error, seen: WeakSet<object>): WireError {
  const out: WireError = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (key === 'stack') continue;
    out[key] = toWire(value, seen);
  }
  if (error.cause !== undefined) out.cause = toWire(error.cause, seen);
  return out;
}

/**
 * A copy of `value` that `JSON.stringify` renders faithfully: `Error` instances keep their name,
 * message, own fields and cause (no stack); `Date`s become ISO strings; `Map`s become objects;
 * bigints become strings; cycles become `"[Circular]"`.
 */
export function toWire(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    return value;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Error) return errorToWire(value, seen);
    if (Array.isArray(value)) return value.map((v) => toWire(v, seen) ?? null);
    if (value instanceof Map) return toWire(Object.fromEntries(value), seen);
    if (value instanceof Set) return toWire([...value], seen);
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return toWire((value as { toJSON: () => unknown }).toJSON(), seen);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const converted = toWire(v, seen);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** A JSON response of `value` after `toWire`. */
export function wireJson(c: Context, value: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(toWire(value)), status, { 'content-type': 'application/json; charset=utf-8' });
}
