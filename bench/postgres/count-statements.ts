// Counts the SQL statements an engine sends: every query through the `pg` driver copies it loads.
import { createRequire } from 'node:module';

let statements = 0;
let recorder: ((args: readonly unknown[]) => void) | undefined;

/** Patches `Client.prototype.query` of the `pg` module that `fromModule` (a path or URL) resolves. */
export function countStatementsOf(fromModule: string): void {
  const pg = createRequire(fromModule)('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const proto = pg.Client.prototype;
  if ((proto as { __counted?: boolean }).__counted) return;
  const query = proto.query;
  proto.query = function counted(this: unknown, ...args: unknown[]) {
    statements += 1;
    recorder?.(args);
    return query.apply(this, args);
  };
  (proto as { __counted?: boolean }).__counted = true;
}

/** Statements counted so far. */
export function statementCount(): number {
  return statements;
}

/** Hands `record` the arguments of every query counted from now on; `undefined` stops. */
export function recordStatements(record: ((args: readonly unknown[]) => void) | undefined): void {
  recorder = record;
}
