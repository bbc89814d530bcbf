// Group commit on a real SQLite file: writes of one tick share transactions, in order, without holding the event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeftError } from '../../errors.js';
import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  let dir: string;
  let db: Database.Database;
  let group: GroupCommit;
  let commits: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-group-'));
    db = new Database(join(dir, 'g.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (n INTEGER NOT NULL)');
    commits = 0;
    group = new GroupCommit(
      db,
      (_action, _runId, error) => error,
      5000,
      () => commits++,
    );
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (n: number) => (): number => {
    db.prepare('INSERT INTO t (n) VALUES (?)').run(n);
    return n;
  };
  const rows = (): number[] => db.prepare('SELECT n FROM t ORDER BY rowid').pluck().all() as number[];
  /** Whether the event loop has turned since this was called. */
  const turnWatch = (): (() => boolean) => {
    let turned = false;
    setImmediate(() => (turned = true));
    return () => turned;
  };

  it('commits a burst of writes in issue order, letting timers run between its transactions', async () => {
    const count = 20_000;
    let resolvedBeforeTimer = -1;
    let resolved = 0;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        resolvedBeforeTimer = resolved;
        resolve();
      }, 0),
    );
    const writes = Array.from({ length: count }, (_, n) =>
      group.write('insert', 'r', insert(n)).then((value) => {
        resolved++;
        return value;
      }),
    );
    expect(await Promise.all(writes)).toEqual(Array.from({ length: count }, (_, n) => n));
    await timer;
    // The timer ran while the burst was being committed: not before the first transaction, not after the last.
    expect(resolvedBeforeTimer).toBeGreaterThan(0);
    expect(resolvedBeforeTimer).toBeLessThan(count);
    expect(rows()).toEqual(Array.from({ length: count }, (_, n) => n));
  });

  it('commits the writes of one batch of microtasks together, before the event loop turns', async () => {
    const turned = turnWatch();
    // Writes issued by separate promise chains, as concurrent runs issue them.
    const writes = [1, 2, 3].map((n) => Promise.resolve().then(() => group.write('insert', 'r', insert(n))));
    expect(await Promise.all(writes)).toEqual([1, 2, 3]);
    expect(turned()).toBe(false);
    expect(commits).toBe(1);
    expect(rows()).toEqual([1, 2, 3]);
  });

  it('after a transaction of many writes, the next commit waits for a turn of the event loop and groups what it moves on', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, n) => group.write('insert', 'r', insert(n))));
    expect(commits).toBe(1);
    let late: Promise<number> | undefined;
    setImmediate(() => (late = group.write('insert', 'r', insert(11))));
    expect(await group.write('insert', 'r', insert(10))).toBe(10);
    expect(await late).toBe(11);
    expect(commits).toBe(2); // both in one transaction
    // That one had two writes: the next commits in a tick again, before the event loop turns.
    const turned = turnWatch();
    await group.write('insert', 'r', insert(12));
    expect(turned()).toBe(false);
    expect(commits).toBe(3);
  });

  it('a loop of awaited writes still lets timers run', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    let n = 0;
    // Commits that each followed the last in a tick would never let the timer run; bounded, so that would fail, not hang.
    while (!fired && n < 100_000) await group.write('insert', 'r', insert(n++));
    expect(fired).toBe(true);
    expect(rows()).toHaveLength(n);
  });

  it('flush commits everything queued at once, so a read issued after a write sees it', async () => {
    const writes = Array.from({ length: 5_000 }, (_, n) => group.write('insert', 'r', insert(n)));
    group.flush();
    expect(rows()).toHaveLength(5_000);
    await Promise.all(writes);
  });

  it('a write refused with a WeftError fails alone; the others of its transaction are kept', async () => {
    const refused = group.write('insert', 'r', () => {
      throw new WeftError('STORAGE_ERROR', 'refused');
    });
    const kept = [group.write('insert', 'r', insert(1)), group.write('insert', 'r', insert(2))];
    await expect(refused).rejects.toThrow('refused');
    expect(await Promise.all(kept)).toEqual([1, 2]);
    expect(rows()).toEqual([1, 2]);
  });

  it('a driver error fails every write of its transaction and keeps none of them; later writes go on', async () => {
    const first = group.write('insert', 'r', insert(1));
    const broken = group.write('insert', 'r', () => db.prepare('INSERT INTO missing VALUES (1)').run());
    await expect(first).rejects.toThrow();
    await expect(broken).rejects.toThrow(/no such table/);
    expect(rows()).toEqual([]);
    expect(await group.write('insert', 'r', insert(3))).toBe(3);
    expect(rows()).toEqual([3]);
  });

  it('flush leaves nothing queued: after a driver error, the writes after the failed one commit too', async () => {
    const first = group.write('insert', 'r', insert(1));
    const broken = group.write('insert', 'r', () => db.prepare('INSERT INTO missing VALUES (1)').run());
    const after = group.write('insert', 'r', insert(2));
    group.flush();
    expect(rows()).toEqual([2]);
    await expect(first).rejects.toThrow();
    await expect(broken).rejects.toThrow(/no such table/);
    expect(await after).toBe(2);
  });
});
