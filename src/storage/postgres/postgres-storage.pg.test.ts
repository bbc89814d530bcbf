// PostgresStorage on a real server: the conformance suite, concurrent migrations and live notifications.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WeftError } from '../../errors.js';
import { describeStorageConformance } from '../conformance/index.js';
import { claimRun, entries, entry, seqs } from '../conformance/fixtures.js';
import { PG_SCHEMA_VERSION } from './migrations.js';
import { PostgresStorage } from './postgres-storage.js';

const PG_URL = process.env.WEFT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRE_PG = process.env.WEFT_REQUIRE_PG === '1';
/** Every schema of this file starts with this prefix; afterAll drops any that a test left. */
const PREFIX = `weft_t_${randomBytes(4).toString('hex')}`;
let schemaCount = 0;

/** Why Postgres cannot be used, or null when it answers. */
async function unreachable(): Promise<string | null> {
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

const problem = await unreachable();

if (problem !== null && !REQUIRE_PG) {
  console.warn(
    `Skipping the Postgres storage tests: cannot reach ${PG_URL} (${problem}). Set WEFT_REQUIRE_PG=1 to make this fail.`,
  );
  describe.skip('PostgresStorage (Postgres unreachable)', () => {
    it('needs a Postgres server', () => undefined);
  });
} else if (problem !== null) {
  describe('PostgresStorage', () => {
    it('reaches Postgres (WEFT_REQUIRE_PG=1)', () => {
      throw new Error(`Cannot reach Postgres at ${PG_URL}: ${problem}`);
    });
  });
} else {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 4 });
  const shared = new pg.Pool({ connectionString: PG_URL, max: 10 });
  const newSchema = (): string => `${PREFIX}_${++schemaCount}`;
  const dropSchema = (schema: string): Promise<unknown> => admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);

  afterAll(async () => {
    const { rows } = await admin.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '\\_%'",
      [PREFIX],
    );
    for (const { nspname } of rows) await dropSchema(nspname);
    await shared.end();
    await admin.end();
  });

  describeStorageConformance('postgres', async () => {
    const schema = newSchema();
    const storage = new PostgresStorage({ pool: shared, schema });
    return {
      storage,
      cleanup: async () => {
        await storage.close();
        await dropSchema(schema);
      },
    };
  });

  describe('PostgresStorage', () => {
    const opened: PostgresStorage[] = [];
    const schemas: string[] = [];

    /** An initialised storage with its own pool on `schema`, closed after the test. */
    async function openStorage(schema: string): Promise<PostgresStorage> {
      const storage = new PostgresStorage({ connectionString: PG_URL, schema });
      opened.push(storage);
      await storage.init();
      return storage;
    }

    function freshSchema(): string {
      const schema = newSchema();
      schemas.push(schema);
      return schema;
    }

    afterEach(async () => {
      for (const storage of opened.splice(0)) await storage.close();
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    });

    it('migrates once when several instances initialise one schema at the same time', async () => {
      const schema = freshSchema();
      await Promise.all([1, 2, 3, 4].map(() => openStorage(schema)));
      const { rows } = await admin.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    });

    it('refuses a schema migrated by a newer version of Weft', async () => {
      const schema = freshSchema();
      await openStorage(schema);
      await admin.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (999, 'future')`);
      const error = await new PostgresStorage({ pool: shared, schema }).init().catch((e: unknown) => e);
      expect(WeftError.is(error, 'STORAGE_ERROR')).toBe(true);
      expect((error as Error).message).toContain('schema version is 999');
    });

    it('lets two instances see each other’s writes and fences the older owner', async () => {
      const schema = freshSchema();
      const a = await openStorage(schema);
      const b = await openStorage(schema);
      const { epoch } = await claimRun(a, 'r1');
      await b.appendJournal('r1', epoch, entries(1, 2));
      expect(seqs(await a.readJournal('r1'))).toEqual([1, 2]);
      await b.updateRun('r1', { epoch }, { updatedAt: 1, bumpEpoch: true });
      await expect(a.appendJournal('r1', epoch, [entry(3)])).rejects.toSatisfy((e) =>
        WeftError.is(e, 'RUN_OWNERSHIP_LOST'),
      );
    });

    it('notifies a listener in another instance of entries appended to its run', async () => {
      const schema = freshSchema();
      const writer = await openStorage(schema);
      const reader = await openStorage(schema);
      const { epoch } = await claimRun(writer, 'r1');
      await claimRun(writer, 'other');
      const calls: string[] = [];
      reader.notifier.subscribe('r1', () => calls.push('r1'));
      reader.notifier.subscribe('other', () => calls.push('other'));
      await reader.notifier.ready();
      calls.length = 0;
      const notified = new Promise<void>((resolve) => reader.notifier.subscribe('r1', resolve));
      await writer.appendJournal('r1', epoch, entries(1, 2));
      await notified;
      expect(calls).toEqual(['r1']);
      expect(seqs(await reader.readJournal('r1'))).toEqual([1, 2]);
    });

    it('notifies for entries appended by updateRun, and not after unsubscribing', async () => {
      const schema = freshSchema();
      const writer = await openStorage(schema);
      const reader = await openStorage(schema);
      const { epoch } = await claimRun(writer, 'r1');
      let calls = 0;
      let wake: () => void = () => undefined;
      const unsubscribe = reader.notifier.subscribe('r1', () => {
        calls += 1;
        wake();
      });
      await reader.notifier.ready();
      calls = 0;
      const notified = new Promise<void>((resolve) => (wake = resolve));
      await writer.updateRun('r1', { epoch }, { status: 'success', updatedAt: 2 }, [entry(1, 'run-end')]);
      await notified;
      expect(calls).toBe(1);
      unsubscribe();
      await writer.updateRun('r1', {}, { updatedAt: 3 }, [entry(2)]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(calls).toBe(1);
    });

    it('leaves a pool it was given open when closed', async () => {
      const storage = new PostgresStorage({ pool: shared, schema: freshSchema() });
      await storage.init();
      await storage.close();
      expect((await shared.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    });

    it('rejects a schema name that is not a plain identifier', () => {
      expect(() => new PostgresStorage({ pool: shared, schema: 'weft"; DROP' })).toThrow(
        /Invalid Postgres schema name/,
      );
    });
  });
}
