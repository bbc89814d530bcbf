// Row locks in one global order: batched journal appends, batched compare-and-sets and lease renewals
// of the same runs, from three storages (three pools, as three processes), never deadlock. Runs in a database of its own,
// so that the server's deadlock counter speaks of this test alone.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimRun, entry } from '../conformance/fixtures.js';
import { PostgresStorage } from './postgres-storage.js';
import { PG_URL, describeWithPostgres } from '../../../test/support/postgres.js';

const DATABASE = `weft_locks_${randomBytes(4).toString('hex')}`;
const RUNS = 400;

await describeWithPostgres('Postgres row lock order', 'the Postgres lock-order test', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const url = new URL(PG_URL);
  url.pathname = `/${DATABASE}`;

  beforeAll(async () => {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  });

  async function deadlocks(): Promise<number> {
    const { rows } = await admin.query<{ deadlocks: string }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = $1',
      [DATABASE],
    );
    return Number(rows[0]?.deadlocks ?? 0);
  }

  it('appends, compare-and-sets and lease renewals of the same runs, racing from three pools, cause no deadlock', async () => {
    const writer = new PostgresStorage({ connectionString: url.href, schema: 'weft' });
    const renewer = new PostgresStorage({ connectionString: url.href, schema: 'weft' });
    const changer = new PostgresStorage({ connectionString: url.href, schema: 'weft' });
    try {
      await writer.init();
      await renewer.init();
      await changer.init();
      // Random ids: the table's physical order is not the ids' order, so a lock order taken from a scan differs.
      const ids = Array.from({ length: RUNS }, () => randomBytes(6).toString('hex'));
      const epochs = new Map<string, number>();
      for (const id of ids) epochs.set(id, (await claimRun(writer, id, { owner: 'owner-a' })).epoch);
      const before = await deadlocks();

      const until = Date.now() + 2500;
      let renewals = 0;
      let appends = 0;
      const renewing = (async () => {
        while (Date.now() < until) {
          const renewed = await renewer.renewLeases('owner-a', ids, Date.now() + 30_000);
          expect(renewed).toHaveLength(RUNS);
          renewals += 1;
        }
      })();
      const appending = (async () => {
        let seq = 0;
        while (Date.now() < until) {
          seq += 1;
          // Every run appends in one tick: the batcher sends them as one statement locking all their rows.
          await Promise.all(ids.map((id) => writer.appendJournal(id, epochs.get(id)!, [entry(seq)])));
          appends += RUNS;
        }
      })();
      let changes = 0;
      const changing = (async () => {
        while (Date.now() < until) {
          // Every run's change in one tick: one statement locking all their rows, as claims and ends of runs
          // executing together are sent. The condition holds and the epoch stays, so the appends go on.
          const changed = await Promise.all(
            ids.map((id) =>
              changer.updateRun(id, { status: ['running'] }, { leaseExpiresAt: Date.now() + 30_000, updatedAt: 1 }),
            ),
          );
          expect(changed.every((row) => row !== null)).toBe(true);
          changes += 1;
        }
      })();
      await Promise.all([renewing, appending, changing]);
      // The statistics of the backends that found a deadlock reach the view within a second.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await deadlocks()).toBe(before);
      expect(renewals).toBeGreaterThan(5);
      expect(appends).toBeGreaterThan(RUNS * 5);
      expect(changes).toBeGreaterThan(5);
    } finally {
      await writer.close();
      await renewer.close();
      await changer.close();
    }
  });
});
