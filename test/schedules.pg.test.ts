// Two worker processes on one Postgres schema fire a schedule every second: each fire is claimed and run exactly once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { PostgresStorage } from '../src/storage/postgres/index.js';
import { PG_URL, describeWithPostgres, dropSchemas } from './support/postgres.js';
import { expectOneRunPerFire } from './support/schedule-processes.js';

const PREFIX = 'weft_sched';

await describeWithPostgres('schedules on Postgres', 'the Postgres schedule tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  afterAll(async () => {
    await dropSchemas(admin, PREFIX);
    await admin.end();
  });

  describe('schedules across workers on one Postgres', () => {
    it('start each fire of a 6-part cron exactly once over 10 fires, from two workers', async () => {
      const schema = `${PREFIX}_${randomUUID().slice(0, 8)}`;
      await expectOneRunPerFire(
        { WEFT_PG_URL: PG_URL, WEFT_SCHEMA: schema },
        new PostgresStorage({ connectionString: PG_URL, schema }),
        10,
      );
    }, 60_000);
  });
});
