// Names for the statements of the hot path, so that the server parses and plans each once per connection.
import { createHash } from 'node:crypto';
import type { PgQuery } from './run-queries.js';

/** A query `pool.query` sends as a named (server-side prepared) statement when `name` is set. */
export interface NamedQuery extends PgQuery {
  name?: string;
}

/** A statement whose text is fixed (built once per storage): each call gives it values. */
export interface NamedStatement {
  with(values: unknown[]): NamedQuery;
}

/** Texts named at most; beyond, a text's name is computed again each time (the shapes are few). */
const MAX_REMEMBERED = 512;

/**
 * Gives each statement text a name derived from the text itself (`weft_` and a hash), which pg
 * prepares on a connection the first time it sends it there and reuses afterwards: the server no
 * longer parses and plans the statement on every call (about 0.15 ms of a 10-step run's append
 * here). Two texts never share a name, so a connection cannot meet a name prepared with another
 * text. Disabled, queries go out unnamed, as behind PgBouncer in transaction mode before 1.21,
 * where a connection's prepared statements are not the session's.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(readonly enabled: boolean) {}

  /** `query`, named when enabled. */
  named(query: PgQuery): NamedQuery {
    if (!this.enabled) return query;
    return { name: this.nameOf(query.text), text: query.text, values: query.values };
  }

  /** A statement of fixed `text`, named once (when enabled): no text is built or looked up per call. */
  statement(text: string): NamedStatement {
    const name = this.enabled ? this.nameOf(text) : undefined;
    return { with: name === undefined ? (values) => ({ text, values }) : (values) => ({ name, text, values }) };
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `weft_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
      if (this.names.size < MAX_REMEMBERED) this.names.set(text, name);
    }
    return name;
  }
}
