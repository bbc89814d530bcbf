// A storage write that fails mid-run (here Postgres answers disk_full, as with a full disk): the
// caller is told plainly that the run's outcome is not known (OUTCOME_UNKNOWN, with the run id), and
// recovery continues the run once storage works again; it ends success, never `running` for good.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Weft, WeftError } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { PG_URL, describeWithPostgres } from '../support/postgres.js';
import { until } from '../support/wait.js';
import { STEP_COUNT, reliabilityWorkflows } from './fixtures/reliability-workflows.js';

const SCHEMA = `weft_ou_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('outcome unknown', 'the outcome-unknown tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await admin.end();
  });

  /** Makes every journal insert of the schema fail with SQLSTATE 53100 (disk_full) while `disk.is_full` is true. */
  async function installFullDisk(): Promise<void> {
    await admin.query(`CREATE TABLE "${SCHEMA}".disk (is_full boolean NOT NULL)`);
    await admin.query(`INSERT INTO "${SCHEMA}".disk VALUES (false)`);
    await admin.query(`
      CREATE FUNCTION "${SCHEMA}".refuse_when_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT is_full FROM "${SCHEMA}".disk) THEN
          RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
        END IF;
        RETURN NEW;
      END $$`);
    await admin.query(
      `CREATE TRIGGER refuse_when_full BEFORE INSERT ON "${SCHEMA}".journal
       FOR EACH ROW EXECUTE FUNCTION "${SCHEMA}".refuse_when_full()`,
    );
  }

  describe('a run whose journal write fails mid-run', () => {
    it('answers OUTCOME_UNKNOWN with the run id, and recovery ends the run success once writes work again', async () => {
      const weft = new Weft({
        workflows: reliabilityWorkflows(50),
        storage: new PostgresStorage({ connectionString: PG_URL, schema: SCHEMA }),
        // A lease far longer than the test: recovery can only continue the run because it was released.
        leaseMs: 600_000,
        recoveryIntervalMs: 100,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      try {
        await weft.init();
        await installFullDisk();
        const run = await weft.getWorkflow('steps').createRun();
        const answer = run.start({ inputData: { n: 1 } }).catch((error: unknown) => error);
        await until(
          async () => Number((await admin.query(`SELECT count(*) AS n FROM "${SCHEMA}".journal`)).rows[0].n) >= 4,
          'the run to store a few steps',
        );
        await admin.query(`UPDATE "${SCHEMA}".disk SET is_full = true`);
        const error = await answer;
        expect(WeftError.is(error, 'OUTCOME_UNKNOWN'), String(error)).toBe(true);
        expect((error as WeftError).runId).toBe(run.runId);
        expect((error as Error).message).toContain(`The outcome of run "${run.runId}" is not known`);
        expect((error as Error).message).toContain('recovery continues it');
        expect(WeftError.is((error as Error).cause, 'STORAGE_ERROR')).toBe(true);
        expect((error as Error).message).toContain('53100');
        // The run was not failed: it waits for recovery, which cannot write either while the disk is full.
        const row = await weft.storage.getRun(run.runId);
        expect(row?.status).toBe('running');
        expect(row?.leaseExpiresAt).toBe(0);
        await admin.query(`UPDATE "${SCHEMA}".disk SET is_full = false`);
        await until(
          async () => (await weft.storage.getRun(run.runId))?.status === 'success',
          'recovery to finish the run',
          10_000,
          50,
        );
        expect((await weft.getRun(run.runId))?.result).toEqual({ n: 1 + STEP_COUNT });
      } finally {
        await weft.close();
      }
    });
  });
});
