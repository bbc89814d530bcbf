// run.watch() on Postgres gives what Mastra's watch gives (the comparison of mastra-watch.test.ts).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { PG_URL, describeWithPostgres } from './support/postgres.js';
import { expectSameEvents, onMastra, onWeft, scenarios } from './support/watch-comparison.js';

/** Every schema of this file starts with this prefix; afterAll drops them. */
const PREFIX = `weft_watch_${randomBytes(4).toString('hex')}`;
let schemas = 0;

await describeWithPostgres('run.watch() on Postgres', 'the Postgres watch comparison', () => {
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const { rows } = await admin.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '\\_%'",
      [PREFIX],
    );
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    await admin.end();
  });

  describe('run.watch() on postgres gives what Mastra 1.71 gives', () => {
    it.each(Object.keys(scenarios))('%s', async (name) => {
      const storage = new PostgresStorage({ connectionString: PG_URL, schema: `${PREFIX}_${++schemas}` });
      expectSameEvents(await onWeft(name, storage), await onMastra(name));
    });
  });
});
