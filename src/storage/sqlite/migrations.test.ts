// The SQLite schema: a file of an older version opens, keeps everything and migrates; the listing queries stay indexed.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_STATUSES } from '../types.js';
import type { JournalEntry, RunFilter, RunStatus, StoredRun } from '../types.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, migrateSqlite } from './migrations.js';
import { ListRunsQueries, prepareRunStatements } from './run-statements.js';
import { SqliteStorage } from './sqlite-storage.js';

const T0 = 1_700_000_000_000;

/** Forty runs over every status, some with a resource, a lease, a wake time, an input and an outcome. */
function v1Runs(): StoredRun[] {
  return Array.from({ length: 40 }, (_, i) => {
    const status = RUN_STATUSES[i % RUN_STATUSES.length]!;
    const active = status === 'running' || status === 'waiting';
    return {
      runId: `run-${String(i).padStart(2, '0')}`,
      workflowId: i % 3 === 0 ? 'order' : 'refund',
      resourceId: i % 4 === 0 ? null : `user-${i % 5}`,
      status,
      epoch: i % 7,
      // Some share a creation time, so the run id breaks the tie.
      createdAt: T0 + Math.floor(i / 2),
      updatedAt: T0 + 1000 + i,
      leaseOwner: active ? 'owner-a' : null,
      leaseExpiresAt: active ? T0 + (i % 2 === 0 ? 0 : 10_000_000) : null,
      wakeAt: status === 'waiting' ? T0 + 5000 : null,
      input: status === 'pending' ? null : JSON.stringify({ n: i, text: 'é'.repeat(i) }),
      outcome: status === 'success' ? JSON.stringify({ result: { n: i } }) : null,
    };
  });
}

/** The journal of run `i`: `i % 6` entries, one of them large. */
function v1Journal(i: number): JournalEntry[] {
  return Array.from({ length: i % 6 }, (_, k) => ({
    seq: k + 1,
    type: k === 0 ? 'run-start' : 'step-end',
    data: JSON.stringify({ key: String(k), output: k === 2 ? 'x'.repeat(5000) : { n: k } }),
    at: T0 + 100 * i + k,
  }));
}

/** Writes a file as version 1 of the schema left it: migration 1's SQL only, then the given rows. */
function writeV1File(path: string, runs: readonly StoredRun[], journals: ReadonlyMap<string, JournalEntry[]>): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE schema_migrations (
      version    INTEGER NOT NULL PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const v1 = SQLITE_MIGRATIONS[0]!;
    db.exec(v1.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(1, v1.name, T0);
    db.pragma('user_version = 1');
    const insertRun = db.prepare(
      `INSERT INTO runs (run_id, workflow_id, resource_id, status, epoch, created_at, updated_at, lease_owner,
         lease_expires_at, wake_at, input, outcome)
       VALUES (@runId, @workflowId, @resourceId, @status, @epoch, @createdAt, @updatedAt, @leaseOwner,
         @leaseExpiresAt, @wakeAt, @input, @outcome)`,
    );
    const insertEntry = db.prepare('INSERT INTO journal (run_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const run of runs) insertRun.run(run);
      for (const [runId, entries] of journals)
        for (const e of entries) insertEntry.run(runId, e.seq, e.type, e.data, e.at);
    })();
  } finally {
    db.close();
  }
}

/** What listRuns must return for `filter` over `runs` (no paging): newest first, the run id breaking ties. */
function expectedListing(runs: readonly StoredRun[], filter: RunFilter): StoredRun[] {
  const statuses = filter.status === undefined ? undefined : ([] as RunStatus[]).concat(filter.status);
  return runs
    .filter(
      (r) =>
        (filter.workflowId === undefined || r.workflowId === filter.workflowId) &&
        (statuses === undefined || statuses.includes(r.status)) &&
        (filter.resourceId === undefined || r.resourceId === filter.resourceId),
    )
    .sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
}

describe('SQLite schema', () => {
  const dirs: string[] = [];
  const opened: SqliteStorage[] = [];

  function newPath(): string {
    const dir = mkdtempSync(join(tmpdir(), `weft-schema-${randomUUID().slice(0, 8)}-`));
    dirs.push(dir);
    return join(dir, 'weft.db');
  }

  async function openStorage(path: string): Promise<SqliteStorage> {
    const storage = new SqliteStorage({ path });
    opened.push(storage);
    await storage.init();
    return storage;
  }

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file of schema version 1, migrates it, and keeps every run, entry and listing', async () => {
    const path = newPath();
    const runs = v1Runs();
    const journals = new Map(runs.map((r, i) => [r.runId, v1Journal(i)]));
    writeV1File(path, runs, journals);

    const storage = await openStorage(path);
    for (const run of runs) {
      expect(await storage.getRun(run.runId)).toEqual(run);
      expect(await storage.readJournal(run.runId)).toEqual(journals.get(run.runId));
    }
    const filters: RunFilter[] = [
      {},
      { status: 'failed' },
      { status: 'suspended' },
      { status: 'success' },
      { status: ['failed', 'canceled', 'paused'] },
      { status: ['pending', 'suspended'] },
      { resourceId: 'user-1' },
      { workflowId: 'order' },
      { workflowId: 'refund', status: 'failed' },
      { resourceId: 'user-2', status: ['suspended', 'running'] },
    ];
    for (const filter of filters) {
      const expected = expectedListing(runs, filter);
      expect(await storage.listRuns(filter)).toEqual({ runs: expected, total: expected.length });
      const page = await storage.listRuns({ ...filter, page: 1, perPage: 3 });
      expect(page).toEqual({ runs: expected.slice(3, 6), total: expected.length });
    }
    const expired = runs.filter(
      (r) => (r.status === 'running' || r.status === 'waiting') && (r.leaseExpiresAt ?? 0) < T0 + 1,
    );
    expect((await storage.listExpiredRuns(T0 + 1, 100)).map((r) => r.runId).sort()).toEqual(
      expired.map((r) => r.runId).sort(),
    );

    // It keeps working: claim a pending run, append to it, fail it; create another.
    const pending = runs.find((r) => r.status === 'pending')!;
    const claimed = await storage.updateRun(
      pending.runId,
      { status: ['pending'] },
      { status: 'running', bumpEpoch: true, updatedAt: T0 + 9000 },
    );
    const next = journals.get(pending.runId)!.length + 1;
    const entry = (seq: number): JournalEntry => ({ seq, type: 'custom', data: '{}', at: T0 + 9000 });
    await storage.appendJournal(pending.runId, claimed!.epoch, [entry(next)]);
    await storage.updateRun(pending.runId, { epoch: claimed!.epoch }, { status: 'failed', updatedAt: T0 + 9001 }, [
      entry(next + 1),
    ]);
    await storage.createRun({ runId: 'new-run', workflowId: 'order', resourceId: null, createdAt: T0 + 9002 });
    expect((await storage.readJournal(pending.runId)).map((e) => e.seq)).toEqual(
      Array.from({ length: next + 1 }, (_, i) => i + 1),
    );
    expect((await storage.listRuns({ status: 'failed' })).runs.map((r) => r.runId)).toContain(pending.runId);
    expect((await storage.listRuns({ perPage: 1 })).runs[0]?.runId).toBe('new-run');
    await storage.close();

    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([1, 2, 3, 4]);
      expect(db.pragma('user_version', { simple: true })).toBe(4);
      const indexes = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL ORDER BY name",
      );
      expect(indexes.pluck().all()).toEqual([
        'runs_active_by_updated',
        'runs_by_created',
        'runs_by_resource',
        'runs_by_workflow',
        'runs_stopped_by_status',
      ]);
      expect(SQLITE_SCHEMA_VERSION).toBe(4);
      // The journal is one b-tree: no index of its own, each entry keyed by its run's key and its seq.
      expect(
        db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal'").pluck().get(),
      ).toBe(0);
      const keys = db
        .prepare('SELECT r.run_key * 4294967296 + j.seq = j.entry_key FROM journal j JOIN runs r')
        .pluck()
        .all();
      expect(keys.filter((same) => same === 1)).toHaveLength(
        [...journals.values()].reduce((n, entries) => n + entries.length, 0) + 2,
      );
      expect(db.prepare('SELECT COUNT(*) FROM journal').pluck().get()).toBe(
        [...journals.values()].reduce((n, entries) => n + entries.length, 0) + 2,
      );
    } finally {
      db.close();
    }
  });

  it('keeps listing by a status other than success, by resource, and recovery indexed', () => {
    const db = new Database(':memory:');
    try {
      migrateSqlite(db, ':memory:');
      const insert = db.prepare(
        `INSERT INTO runs (run_id, workflow_id, resource_id, status, created_at, updated_at) VALUES (?, 'wf', ?, ?, ?, ?)`,
      );
      for (let i = 0; i < 2000; i++) {
        insert.run(`r${i}`, i % 10 === 0 ? `user-${i}` : null, i % 50 === 0 ? 'failed' : 'success', T0 + i, T0 + i);
      }
      // The SQL the listing builds, captured as it is prepared.
      const prepared: string[] = [];
      const prepare = db.prepare.bind(db);
      const capturing = Object.create(db, {
        prepare: { value: (sql: string) => (prepared.push(sql), prepare(sql)) },
      }) as Database.Database;
      const lists = new ListRunsQueries(capturing);
      const plan = (filter: RunFilter): string => {
        prepared.length = 0;
        lists.list(filter);
        const params = filter.resourceId === undefined ? [] : [filter.resourceId];
        return prepared
          .map((sql) =>
            (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
              .map((row) => row.detail)
              .join('; '),
          )
          .join(' | ');
      };
      for (const status of ['failed', 'suspended', 'paused', 'canceled'] as const) {
        expect(plan({ status })).toMatch(
          /^SEARCH runs USING INDEX runs_stopped_by_status \(status=\?\) \| SEARCH runs USING COVERING INDEX runs_stopped_by_status/,
        );
      }
      expect(plan({ status: ['failed', 'suspended'] })).toContain('MULTI-INDEX OR');
      expect(plan({ status: ['failed', 'suspended'] })).not.toMatch(/SCAN runs(?! USING)/);
      expect(plan({ resourceId: 'user-10' })).toContain('USING INDEX runs_by_resource (resource_id=?)');

      const expired = prepareRunStatements(db).expired.source;
      const recovery = db.prepare(`EXPLAIN QUERY PLAN ${expired}`).all(T0, 10) as { detail: string }[];
      expect(recovery.map((row) => row.detail).join('; ')).toContain('USING INDEX runs_active_by_updated');
    } finally {
      db.close();
    }
  });

  it('lists no run for a status it does not know, as before, and never writes the filter into SQL', async () => {
    const storage = await openStorage(newPath());
    await storage.createRun({ runId: 'r1', workflowId: 'wf', resourceId: null, createdAt: T0 });
    const unknown = ["pending' OR 1=1 --", 'PENDING'] as unknown as RunStatus[];
    expect(await storage.listRuns({ status: unknown })).toEqual({ runs: [], total: 0 });
    expect(await storage.listRuns({ status: [] })).toEqual({ runs: [], total: 0 });
    expect((await storage.listRuns({ status: [...unknown, 'pending'] })).total).toBe(1);
  });
});
