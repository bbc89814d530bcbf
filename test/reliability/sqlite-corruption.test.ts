// A damaged SQLite file: `weft doctor` finds the damage, and once SQLite reports it the store refuses
// every write, with a message that says how to recover, so nothing more goes into a malformed file.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Weft } from '../../src/index.js';
import { createServer, listen } from '../../src/server/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { arithmetic } from '../server-fixtures.js';
import { runCli } from './fixtures.js';

let dir: string;
let db: string;

/** A store of 300 finished runs, closed (its WAL checkpointed into the file). */
async function fillStore(path: string): Promise<void> {
  const weft = new Weft({ workflows: { arithmetic }, storage: new SqliteStorage({ path }), recovery: false });
  for (let i = 0; i < 300; i++) await (await arithmetic.createRun()).start({ inputData: { n: i } });
  await weft.close();
}

/** Overwrites the middle half of the pages of the `runs` table and its newest-first index with random bytes. */
function damageRunPages(path: string): number[] {
  const reader = new Database(path, { readonly: true });
  const pageSize = reader.pragma('page_size', { simple: true }) as number;
  const pages = (
    reader
      .prepare(
        "SELECT pageno FROM dbstat WHERE name IN ('runs', 'runs_by_created') AND pagetype = 'leaf' ORDER BY pageno",
      )
      .pluck()
      .all() as number[]
  ).filter((_, i, all) => i >= all.length / 4 && i < (all.length * 3) / 4);
  reader.close();
  const fd = openSync(path, 'r+');
  const garbage = Buffer.alloc(pageSize);
  for (const page of pages) writeSync(fd, randomFillSync(garbage), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
  return pages;
}

/** A digest of the database file and its WAL, to show that nothing was written. */
function digest(path: string): string {
  const hash = createHash('sha256').update(readFileSync(path));
  if (existsSync(`${path}-wal`)) hash.update(readFileSync(`${path}-wal`));
  return hash.digest('hex');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-corrupt-'));
  db = join(dir, 'weft.db');
  await fillStore(db);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a SQLite file damaged in the middle', () => {
  it('weft doctor reports a healthy store: integrity, schema version, runs by status, sizes', async () => {
    const text = await runCli(dir, 'doctor', '--db', db);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/integrity\s+ok/);
    expect(text.stdout).toMatch(/schema\s+version 4 \(this Weft knows 4\)/);
    expect(text.stdout).toMatch(/runs\s+300: success 300/);
    expect(text.stdout).toMatch(/WAL 0 B/);
    const json = await runCli(dir, 'doctor', '--db', db, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, schemaVersion: 4, runsByStatus: { success: 300 } });
  });

  it('weft doctor finds the damage, exits 1 and says how to recover, without writing', async () => {
    expect(damageRunPages(db).length).toBeGreaterThan(0);
    const before = digest(db);
    const result = await runCli(dir, 'doctor', '--db', db);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/integrity\s+\d+ problems?/);
    expect(result.stderr).toContain('The store is damaged');
    expect(result.stderr).toContain(`sqlite3 ${db} .recover`);
    expect(digest(db)).toBe(before);
  });

  it('a server on the damaged file answers 503 to a list, then refuses to start a run and writes nothing', async () => {
    // The damage is not noticed at open (a full check reads the whole file): the server starts.
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const storage = new SqliteStorage({ path: db });
    const weft = new Weft({ workflows: { arithmetic }, storage, recovery: false, logger: quiet });
    await weft.init();
    const server = await listen(createServer(weft, { logger: { warn() {}, error() {} } }), { port: 0 });
    try {
      const list = await fetch(`${server.url}/api/runs?perPage=500`);
      expect(list.status).toBe(503);
      const listError = ((await list.json()) as { error: { message: string } }).error.message;
      expect(listError).toContain('SQLITE_CORRUPT');
      expect(listError).toContain('weft doctor --db');

      const before = digest(db);
      const start = await fetch(`${server.url}/api/workflows/arithmetic/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputData: { n: 1 }, wait: true }),
      });
      expect(start.status).toBe(503);
      const startError = ((await start.json()) as { error: { code: string; message: string } }).error;
      expect(startError.code).toBe('STORAGE_ERROR');
      expect(startError.message).toMatch(
        /refuses to (create|update) run "[^"]+": the file is damaged \(SQLITE_CORRUPT/,
      );
      expect(startError.message).toContain('.recover');
      expect(digest(db)).toBe(before);
    } finally {
      await server.close();
      await weft.close();
    }
  });
});
