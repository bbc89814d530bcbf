// SqliteStorage: the conformance suite on a real file, plus sharing one file across instances and processes.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WeftError } from '../../errors.js';
import { describeStorageConformance } from '../conformance/index.js';
import { claimRun, entries, newRun, seqs } from '../conformance/fixtures.js';
import { SQLITE_SCHEMA_VERSION } from './migrations.js';
import { SqliteStorage } from './sqlite-storage.js';

const INDEX_URL = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A fresh directory for one test's database file. */
function tempDir(): string {
  return mkdtempSync(join(tmpdir(), `weft-sqlite-${randomUUID().slice(0, 8)}-`));
}

describeStorageConformance('sqlite', async () => {
  const dir = tempDir();
  const storage = new SqliteStorage({ path: join(dir, 'weft.db') });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/**
 * A child process that opens the file, optionally appends `count` single-entry batches to a
 * run (seqs `from..from+count-1`) and exits. Prints the migrations it applied.
 */
const CHILD_SCRIPT = `
const [indexUrl, path, runId, epoch, from, count] = process.argv.slice(2);
const { SqliteStorage } = await import(indexUrl);
const storage = new SqliteStorage({ path });
await storage.init();
for (let i = 0; i < Number(count ?? 0); i++) {
  const seq = Number(from) + i;
  await storage.appendJournal(runId, Number(epoch), [{ seq, type: 'custom', data: JSON.stringify({ child: seq }), at: seq }]);
}
await storage.close();
`;

/** Runs the child script with tsx; resolves with its exit code and stderr. */
function runChild(dir: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const script = join(dir, 'child.mjs');
  if (!existsSync(script)) writeFileSync(script, CHILD_SCRIPT);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, INDEX_URL, ...args], { cwd: REPO_ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('SqliteStorage', () => {
  const dirs: string[] = [];
  const opened: SqliteStorage[] = [];

  /** A storage on `path`, initialised, closed after the test. */
  async function openStorage(path: string): Promise<SqliteStorage> {
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.init();
    return storage;
  }

  function newDir(): string {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  }

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('lets two instances on one file see each other’s writes', async () => {
    const path = join(newDir(), 'weft.db');
    const a = await openStorage(path);
    const b = await openStorage(path);
    const { epoch } = await claimRun(a, 'r1');
    await a.appendJournal('r1', epoch, entries(1, 2));
    expect((await b.getRun('r1'))?.status).toBe('running');
    await b.appendJournal('r1', epoch, entries(3, 3));
    expect(seqs(await a.readJournal('r1'))).toEqual([1, 2, 3]);
    expect(await b.updateRun('r1', { epoch }, { updatedAt: 1, bumpEpoch: true })).not.toBeNull();
    await expect(a.appendJournal('r1', epoch, entries(4, 4))).rejects.toSatisfy((e) =>
      WeftError.is(e, 'RUN_OWNERSHIP_LOST'),
    );
  });

  it('shares the file with a child process appending at the same time', async () => {
    const dir = newDir();
    const path = join(dir, 'weft.db');
    const storage = await openStorage(path);
    const mine = await claimRun(storage, 'parent-run');
    const theirs = await claimRun(storage, 'child-run');
    let childDone = false;
    const child = runChild(dir, [path, 'child-run', String(theirs.epoch), '1', '300']).finally(
      () => (childDone = true),
    );
    let seq = 0;
    while (!childDone) {
      seq += 1;
      await storage.appendJournal('parent-run', mine.epoch, entries(seq, seq));
    }
    const { code, stderr } = await child;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(seqs(await storage.readJournal('parent-run'))).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    const childJournal = await storage.readJournal('child-run');
    expect(seqs(childJournal)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(childJournal[0]?.data).toBe('{"child":1}');
  });

  it('while another connection holds the write lock, an append waits without blocking the event loop', async () => {
    const path = join(newDir(), 'weft.db');
    const storage = await openStorage(path);
    const { epoch } = await claimRun(storage, 'r1');
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      let stored = false;
      const append = storage.appendJournal('r1', epoch, entries(1, 1)).then(() => (stored = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(stored).toBe(false);
      expect(ticks).toBeGreaterThanOrEqual(10); // the loop kept turning: nothing sleeps in a busy handler
      other.exec('COMMIT');
      await append;
      expect(seqs(await storage.readJournal('r1'))).toEqual([1]);
    } finally {
      clearInterval(timer);
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('an append that waits longer than busyTimeoutMs for the write lock fails with STORAGE_ERROR, and stores nothing', async () => {
    const path = join(newDir(), 'weft.db');
    const storage = new SqliteStorage({ path, busyTimeoutMs: 100 });
    opened.push(storage);
    await storage.init();
    const { epoch } = await claimRun(storage, 'r1');
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(storage.appendJournal('r1', epoch, entries(1, 1))).rejects.toSatisfy(
        (e) => WeftError.is(e, 'STORAGE_ERROR') && /SQLITE_BUSY/.test((e as Error).message),
      );
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await storage.readJournal('r1')).toEqual([]);
    await storage.appendJournal('r1', epoch, entries(1, 1));
    expect(seqs(await storage.readJournal('r1'))).toEqual([1]);
  });

  it('after a write failed for waiting too long, a later short wait for the lock still succeeds', async () => {
    const path = join(newDir(), 'weft.db');
    const storage = new SqliteStorage({ path, busyTimeoutMs: 200 });
    opened.push(storage);
    await storage.init();
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const first = storage.createRun(newRun('a'));
      await storage.getRun('a'); // a read commits the queued write first, waiting there, and gives up
      await expect(first).rejects.toSatisfy((e) => WeftError.is(e, 'STORAGE_ERROR'));
      other.exec('ROLLBACK');
      other.exec('BEGIN IMMEDIATE');
      setTimeout(() => other.exec('ROLLBACK'), 50);
      expect((await storage.createRun(newRun('b'))).runId).toBe('b');
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('a file written steadily has its WAL checkpointed off the event loop, so the WAL stops growing', async () => {
    const path = join(newDir(), 'weft.db');
    const storage = await openStorage(path);
    const { epoch } = await claimRun(storage, 'r1');
    const walSize = (): number => statSync(`${path}-wal`).size;
    // One commit per append (each awaited): far past the point where checkpoints move to the worker.
    const page = 'x'.repeat(3000);
    // A count, not a time (a loaded machine commits more slowly): far more pages than the WAL may hold.
    const seq = 24_000;
    let largest = 0;
    for (let i = 1; i <= seq; i++) {
      await storage.appendJournal('r1', epoch, [{ seq: i, type: 'custom', data: JSON.stringify(page), at: i }]);
      if (i % 100 === 0) largest = Math.max(largest, walSize());
    }
    // Each commit adds at least two 4 KB pages to the WAL (the entry and its key): unless checkpoints
    // let it restart, it holds them all (about 280 MB). It restarts at about 8000 pages, later when the
    // worker thread is descheduled in the middle of a checkpoint on a loaded machine (the writer's own
    // checkpoints find it busy meanwhile: 12,500 pages were seen on two cores at a load of 15).
    // A WAL that does not stop growing passes half of the least that was written.
    const written = seq * 2 * 4096;
    expect(largest).toBeLessThan(written / 2);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM journal').pluck().get()).toBe(seq);
    } finally {
      db.close();
    }
  });

  it('migrates once when several processes open a new file at the same time', async () => {
    const dir = newDir();
    const path = join(dir, 'nested', 'deeper', 'weft.db');
    const results = await Promise.all([1, 2, 3].map(() => runChild(dir, [path])));
    for (const { code, stderr } of results) expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const db = new Database(path, { readonly: true });
    try {
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      db.close();
    }
  });

  it('keeps everything after close and reopen', async () => {
    const path = join(newDir(), 'weft.db');
    const first = new SqliteStorage({ path });
    await first.init();
    const { epoch } = await claimRun(first, 'r1');
    const pending = first.appendJournal('r1', epoch, entries(1, 3));
    await first.close();
    await pending;
    const again = await openStorage(path);
    expect((await again.getRun('r1'))?.epoch).toBe(epoch);
    expect(await again.readJournal('r1')).toEqual(entries(1, 3));
  });

  it('records the schema version and does nothing when initialised again', async () => {
    const path = join(newDir(), 'weft.db');
    await (await openStorage(path)).close();
    const readMigrations = (): unknown[] => {
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
        return db.prepare('SELECT version, name, applied_at FROM schema_migrations').all();
      } finally {
        db.close();
      }
    };
    const before = readMigrations();
    expect(before).toHaveLength(SQLITE_SCHEMA_VERSION);
    const again = await openStorage(path);
    await again.init();
    expect(readMigrations()).toEqual(before);
  });

  it('refuses a file migrated by a newer version of Weft', async () => {
    const path = join(newDir(), 'weft.db');
    await (await openStorage(path)).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'future', 0);
    db.close();
    const error = await new SqliteStorage({ path }).init().catch((e: unknown) => e);
    expect(WeftError.is(error, 'STORAGE_ERROR')).toBe(true);
    expect((error as Error).message).toContain('schema version is 999');
  });

  it('works in memory', async () => {
    const storage = await openStorage(':memory:');
    const { epoch } = await claimRun(storage, 'r1');
    await storage.appendJournal('r1', epoch, entries(1, 2));
    expect(seqs(await storage.readJournal('r1'))).toEqual([1, 2]);
  });

  it('says to call init() when used before it, and that it is closed after close()', async () => {
    const path = join(newDir(), 'weft.db');
    const storage = new SqliteStorage({ path });
    await expect(storage.getRun('r1')).rejects.toThrow(/not initialised: call init\(\) first/);
    await expect(storage.appendJournal('r1', 0, [])).rejects.toThrow(/not initialised/);
    await storage.init();
    await storage.close();
    await expect(storage.createRun(newRun('r1'))).rejects.toThrow(/is closed/);
  });

  it('commits an update issued after an unawaited append in issue order', async () => {
    const storage = await openStorage(join(newDir(), 'weft.db'));
    const { epoch } = await claimRun(storage, 'r1');
    const append = storage.appendJournal('r1', epoch, entries(1, 2));
    const update = storage.updateRun('r1', { epoch }, { status: 'success', updatedAt: 5 }, entries(3, 3));
    await Promise.all([append, update]);
    expect(seqs(await storage.readJournal('r1'))).toEqual([1, 2, 3]);
  });

  it('commits the writes of one tick together, and a refused one leaves no trace while the others commit', async () => {
    const storage = await openStorage(join(newDir(), 'weft.db'));
    const { epoch } = await claimRun(storage, 'r1');
    await storage.appendJournal('r1', epoch, entries(1, 2));
    const [created, refused, appended, stale] = await Promise.allSettled([
      storage.createRun(newRun('r2')),
      // Its entries do not follow the journal: the status change must be rolled back with them.
      storage.updateRun('r1', { epoch }, { status: 'success', updatedAt: 5 }, entries(2, 3)),
      storage.appendJournal('r1', epoch, entries(3, 3)),
      storage.appendJournal('r1', epoch + 1, entries(4, 4)),
    ]);
    expect(created.status === 'fulfilled' && created.value.status).toBe('pending');
    expect(refused.status === 'rejected' && WeftError.is(refused.reason)).toBe(true);
    expect(appended.status).toBe('fulfilled');
    expect(stale.status === 'rejected' && (stale.reason as WeftError).code).toBe('RUN_OWNERSHIP_LOST');
    expect((await storage.getRun('r1'))?.status).toBe('running');
    expect(seqs(await storage.readJournal('r1'))).toEqual([1, 2, 3]);
  });
});
