// Retention on a real Postgres, in a schema of its own: the same scenario as on SQLite, and the
// journal rows of pruned runs gone from the table.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { PG_URL, describeWithPostgres } from '../support/postgres.js';
import { checkRetentionSetOnce } from './retention.js';

const SCHEMA = `weft_retention_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('retention on Postgres', 'the Postgres retention tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await admin.end();
  });

  describe('retention on Postgres', () => {
    it('set once on the instance, prunes success runs after 7 days and failed ones after 30, never suspended ones', async () => {
      await checkRetentionSetOnce(new PostgresStorage({ connectionString: PG_URL, schema: SCHEMA }));
      // Only the suspended-then-resumed run is left, with its own journal rows.
      const runs = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${SCHEMA}".runs`);
      expect(Number(runs.rows[0]!.n)).toBe(1);
      const orphans = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${SCHEMA}".journal j WHERE NOT EXISTS (SELECT 1 FROM "${SCHEMA}".runs r WHERE r.run_id = j.run_id)`,
      );
      expect(Number(orphans.rows[0]!.n)).toBe(0);
    });
  });
});
