// Live events are shown only once stored: an owner whose write is refused (the run was canceled or
// taken over elsewhere) never shows its events, so a stream that reconnects from a seq it saw
// continues the same history the store holds. On SQLite files and memory; Postgres in the .pg suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { MemoryStorage, type WeftStorage } from '../../src/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { checkRefusedWriteShowsNothing } from './events-after-storage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => { a: WeftStorage; b: WeftStorage }][] = [
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'weft-events-'));
      dirs.push(dir);
      const path = join(dir, 'weft.db');
      return { a: new SqliteStorage({ path }), b: new SqliteStorage({ path }) };
    },
  ],
  [
    'memory',
    () => {
      const shared = new MemoryStorage();
      return { a: shared, b: shared };
    },
  ],
];

describe.each(stores)('events of a refused write, on %s', (_name, open) => {
  it.each(['canceled', 'taken over'] as const)(
    'are never shown when the run was %s elsewhere, and a reconnect from the last seq seen agrees with the store',
    async (how) => {
      const { a, b } = open();
      await checkRefusedWriteShowsNothing(a, b, how);
    },
  );
});
