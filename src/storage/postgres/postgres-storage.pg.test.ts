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
import { PG_URL, describeWithPostgres } from '../../../test/support/postgres.js';

/** Every schema of this file starts with this prefix; afterAll drops any that a test left. */
const PREFIX = `weft_t_${randomBytes(4).toString('hex')}`;
let schemaCount = 0;

await describeWithPostgres('PostgresStorage', 'the Postgres storage tests', () => {
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

    it('sends no notification for a run nobody follows, and one per write once somebody does', async () => {
      const schema = freshSchema();
      const writer = await openStorage(schema);
      const reader = await openStorage(schema);
      const { epoch } = await claimRun(writer, 'r1');
      // A bare listener on the channel sees every NOTIFY sent, followed or not.
      const raw = new pg.Client({ connectionString: PG_URL });
      await raw.connect();
      const heard: string[] = [];
      raw.on('notification', (message) => heard.push(message.payload ?? ''));
      try {
        await raw.query(`LISTEN "weft:${schema}"`);
        await writer.appendJournal('r1', epoch, entries(1, 2));
        await writer.updateRun('r1', { epoch }, { updatedAt: 2 }, [entry(3)]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(heard).toEqual([]);
        const unsubscribe = reader.notifier.subscribe('r1', () => undefined);
        await reader.notifier.ready();
        await writer.appendJournal('r1', epoch, entries(4, 5));
        await writer.updateRun('r1', { epoch }, { updatedAt: 3 }, [entry(6)]);
        await expect.poll(() => heard).toEqual(['r1', 'r1']);
        unsubscribe();
        await expect
          .poll(async () => (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".followed`)).rows[0].n)
          .toBe(0);
      } finally {
        await raw.end();
      }
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
});
