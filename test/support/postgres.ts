// The Postgres the suites use, and the rule for when it is missing: skip with a visible warning,
// unless WEFT_REQUIRE_PG=1 (as in CI), where a missing server fails the suite.
import pg from 'pg';
import { afterAll, afterEach, describe, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/postgres-storage.js';

/** The server the Postgres suites talk to (WEFT_PG_URL overrides it). */
export const PG_URL = process.env.WEFT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why Postgres cannot be used, or null when it answers. */
export async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Registers `body` when Postgres answers. Otherwise warns and registers a skipped suite, or, with
 * WEFT_REQUIRE_PG=1, a failing one. `what` names the tests in the warning ("the worker tests").
 */
export async function describeWithPostgres(name: string, what: string, body: () => void): Promise<void> {
  const problem = await unreachable();
  if (problem === null) {
    body();
    return;
  }
  if (process.env.WEFT_REQUIRE_PG === '1') {
    describe(name, () => {
      it('reaches Postgres (WEFT_REQUIRE_PG=1)', () => {
        throw new Error(`Cannot reach Postgres at ${PG_URL}: ${problem}`);
      });
    });
    return;
  }
  console.warn(`Skipping ${what}: cannot reach ${PG_URL} (${problem}). Set WEFT_REQUIRE_PG=1 to make this fail.`);
  describe.skip(`${name} (Postgres unreachable)`, () => {
    it('needs a Postgres server', () => undefined);
  });
}

/** Drops every schema whose name is `prefix` followed by `_` and anything (a suite's own schemas). */
export async function dropSchemas(admin: pg.Pool | pg.Client, prefix: string): Promise<void> {
  const { rows } = await admin.query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '\\_%'",
    [prefix],
  );
  for (const { nspname } of rows) await admin.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
}

/** Counts the statements every pg client of this process sends while `body` runs; gives the count and what `body` returned. */
export async function statementsOf<T>(body: () => Promise<T>): Promise<{ count: number; value: T }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  let count = 0;
  proto.query = function counted(this: unknown, ...args: unknown[]) {
    count += 1;
    return query.apply(this, args);
  };
  try {
    const value = await body();
    return { count, value };
  } finally {
    proto.query = query;
  }
}

/** What `suiteStorages` gives a suite. */
export interface SuiteStorages {
  /** A new schema's name under the suite's prefix. */
  schema(): string;
  /** A storage on `schema` (default a new one), initialized, closed after the test. */
  open(schema?: string): Promise<PostgresStorage>;
  /** Closes `resource` after the test (an engine instance, say), before the storages opened earlier. */
  closeAfter(resource: { close(): Promise<void> }): void;
}

/**
 * Storages for the tests of one suite, each in a schema named after `prefix`: what a test opened is
 * closed after it, and the suite's schemas are dropped after the suite. Call it in the suite's body.
 */
export function suiteStorages(prefix: string): SuiteStorages {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const opened: { close(): Promise<void> }[] = [];
  let schemas = 0;
  afterEach(async () => {
    for (const one of opened.splice(0).reverse()) await one.close();
  });
  afterAll(async () => {
    await dropSchemas(admin, prefix);
    await admin.end();
  });
  const schema = (): string => `${prefix}_${++schemas}`;
  return {
    schema,
    async open(name = schema()) {
      const storage = new PostgresStorage({ connectionString: PG_URL, schema: name });
      opened.push(storage);
      await storage.init();
      return storage;
    },
    closeAfter: (resource) => void opened.push(resource),
  };
}
