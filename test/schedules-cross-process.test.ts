// Two processes on one SQLite file fire a schedule every second: each fire is claimed and run exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { expectOneRunPerFire } from './support/schedule-processes.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-schedules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('schedules across processes on one SQLite file', () => {
  it('start each fire of a 6-part cron exactly once over 10 fires, from two processes', async () => {
    const path = join(dir, 'shared.db');
    await expectOneRunPerFire({ SCHEDULE_DB: path }, new SqliteStorage({ path }), 10);
  }, 60_000);
});
