// The three stores a behaviour must hold on: memory, a SQLite file and Postgres (its own schema per
// storage, dropped afterwards). Postgres is left out with a warning when unreachable, unless
// WEFT_REQUIRE_PG=1, where the suite fails instead.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { MemoryStorage } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { WeftStorage } from '../../src/storage/types.js';
import { PG_URL, unreachable } from './postgres.js';

export interface StoreCase {
  name: 'memory' | 'sqlite' | 'postgres';
  /** A fresh, empty storage (closed by the Weft instance that owns it). */
  open(): WeftStorage;
}

/** The stores to run a suite on; call at the top level of a test file (it registers the clean-up). */
export async function storeCases(): Promise<StoreCase[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-stores-'));
  let files = 0;
  const prefix = `weft_s_${randomBytes(4).toString('hex')}`;
  let schemas = 0;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (schemas === 0) return;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '\\_%'",
        [prefix],
      );
      for (const { nspname } of rows) await admin.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    } finally {
      await admin.end();
    }
  });
  const cases: StoreCase[] = [
    { name: 'memory', open: () => new MemoryStorage() },
    { name: 'sqlite', open: () => new SqliteStorage({ path: join(dir, `${++files}.db`) }) },
  ];
  const problem = await unreachable();
  if (problem === null) {
    cases.push({
      name: 'postgres',
      open: () => new PostgresStorage({ connectionString: PG_URL, schema: `${prefix}_${++schemas}` }),
    });
  } else if (process.env.WEFT_REQUIRE_PG === '1') {
    throw new Error(`Cannot reach Postgres at ${PG_URL}: ${problem} (WEFT_REQUIRE_PG=1)`);
  } else {
    console.warn(`Leaving Postgres out: cannot reach ${PG_URL} (${problem}). Set WEFT_REQUIRE_PG=1 to make this fail.`);
  }
  return cases;
}
