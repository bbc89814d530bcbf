// Standard Schema validation: one call for zod, valibot, arktype, with sync fast path and readable issues.
import type { StandardSchemaV1 } from '@standard-schema/spec';

/** Any Standard Schema. */
export type Schema<T = unknown> = StandardSchemaV1<unknown, T>;

/** A validation problem, with its dotted path ('' for the root). */
export interface Issue {
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** True when `value` implements Standard Schema. */
export function isSchema(value: unknown): value is Schema {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { '~standard'?: { validate?: unknown } })['~standard']?.validate === 'function'
  );
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  if (!issue.path || issue.path.length === 0) return '';
  return issue.path.map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.');
}

function toResult<T>(result: StandardSchemaV1.Result<T>): ValidationResult<T> {
  if (result.issues) return { ok: false, issues: result.issues.map((i) => ({ path: pathOf(i), message: i.message })) };
  return { ok: true, value: result.value };
}

/**
 * Validates `value`, synchronously when the schema allows (zod, valibot and arktype do for
 * schemas without async refinements), otherwise through a promise.
 */
export function validate<T>(schema: Schema<T>, value: unknown): ValidationResult<T> | Promise<ValidationResult<T>> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) return result.then(toResult);
  return toResult(result);
}

/** Formats issues as the lines of an error message: `\n- nested.value: Expected number, received string`. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `\n- ${i.path}: ${i.message}`).join('');
}
