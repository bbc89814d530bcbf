// Killed Postgres connections: the backends of an engine process (and of worker processes) are
// terminated again and again while runs execute. No process may crash; every run ends `success`.
// Skipped with a warning when Postgres is unreachable, unless WEFT_REQUIRE_PG=1 (then it fails).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PG_URL, describeWithPostgres } from '../support/postgres.js';
import { until } from '../support/wait.js';
import { STEP_COUNT } from './fixtures/reliability-workflows.js';
import {
  printed,
  reap,
  spawnChild,
  terminateRepeatedly,
  withApplicationName,
  type Child,
} from '../support/child-processes.js';

/** Every schema and application_name of this file starts with this prefix. */
const PREFIX = `weft_rl_${randomBytes(4).toString('hex')}`;
const RUNS = 50;

await describeWithPostgres('connection loss', 'the connection-loss tests', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const children: Child[] = [];

  afterEach(async () => {
    for (const c of children.splice(0)) await reap(c);
  });

  afterAll(async () => {
    const { rows } = await admin.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '\\_%'",
      [PREFIX],
    );
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    await admin.end();
  });

  async function statuses(schema: string): Promise<Record<string, number>> {
    const { rows } = await admin.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM "${schema}".runs GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  describe('an engine process whose Postgres backends are terminated', () => {
    it('keeps running, and every run ends success', async () => {
      const schema = `${PREFIX}_engine`;
      const app = `${PREFIX}_engine`;
      const engine = spawnChild('engine', 'test/reliability/fixtures/engine-process.ts', {
        WEFT_PG_URL: withApplicationName(PG_URL, app),
        WEFT_SCHEMA: schema,
        RUNS: String(RUNS),
        LEASE_MS: '1000',
        STEP_MS: '150',
      });
      children.push(engine);
      await printed(engine, 'STARTED');
      const killed = await terminateRepeatedly(admin, app, 25, 100);
      expect(engine.alive(), engine.output()).toBe(true);
      expect(killed).toBeGreaterThan(25);
      await until(
        async () => (await statuses(schema)).success === RUNS,
        `the ${RUNS} runs to succeed`,
        25_000,
        100,
      ).catch(async (error: unknown) => {
        throw new Error(`${String(error)}: ${JSON.stringify(await statuses(schema))}\n${engine.output()}`);
      });
      expect(engine.alive(), engine.output()).toBe(true);
      const { rows } = await admin.query<{ result: { n: number } }>(
        `SELECT outcome::jsonb -> 'result' AS result FROM "${schema}".runs`,
      );
      expect(rows.map((r) => r.result.n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: RUNS }, (_, n) => n + STEP_COUNT),
      );
      // Each start call returned the run's outcome, or said plainly that it is unknown (the run was continued).
      const answers = engine
        .output()
        .split('\n')
        .filter((line) => line.startsWith('RESULT '))
        .map((line) => line.split(' ')[2]);
      expect(answers).toHaveLength(RUNS);
      for (const answer of answers) expect(['success', 'OUTCOME_UNKNOWN']).toContain(answer);
      engine.child.kill('SIGTERM');
      expect(await engine.exited, engine.output()).toEqual({ code: 0, signal: null });
    });
  });
});
