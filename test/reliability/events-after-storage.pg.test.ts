// Live events are shown only once stored, on a real Postgres (a schema of its own): an owner whose
// append is refused never shows what it carried.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { PG_URL, describeWithPostgres } from '../support/postgres.js';
import { checkRefusedWriteShowsNothing } from './events-after-storage.js';

const PREFIX = `weft_events_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('events of a refused write on Postgres', 'the Postgres events tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  afterAll(async () => {
    for (const how of ['canceled', 'taken_over']) await admin.query(`DROP SCHEMA IF EXISTS "${PREFIX}_${how}" CASCADE`);
    await admin.end();
  });

  describe('events of a refused write, on postgres', () => {
    it.each(['canceled', 'taken over'] as const)(
      'are never shown when the run was %s by another instance, and a reconnect agrees with the store',
      async (how) => {
        const schema = `${PREFIX}_${how.replace(' ', '_')}`;
        const a = new PostgresStorage({ connectionString: PG_URL, schema });
        const b = new PostgresStorage({ connectionString: PG_URL, schema });
        await checkRefusedWriteShowsNothing(a, b, how);
      },
    );
  });
});
