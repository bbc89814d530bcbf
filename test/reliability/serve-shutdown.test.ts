// `weft serve` stopped with SIGTERM while a run executes: the run is handed over at once (its lease
// expires at once, finished steps kept), and the next process continues it without waiting for the
// lease. `--lease-ms` sets the lease, and a bad value is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../../src/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { printed, reap, spawnChild, type Child } from '../support/child-processes.js';
import { until } from '../support/wait.js';
import { reliabilityWorkflows } from './fixtures/reliability-workflows.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-serve-shutdown-'));
const children: Child[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) await reap(c);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(db: string, ...args: string[]): Child {
  const child = spawnChild('weft serve', 'src/cli/main.ts', { WEFT_DB: '', WEFT_LEASE_MS: '' }, [
    'serve',
    '--db',
    db,
    '--workflows',
    'test/reliability/fixtures/workflows-file.ts',
    '--port',
    '0',
    ...args,
  ]);
  children.push(child);
  return child;
}

describe('weft serve on SIGTERM', () => {
  it('hands its runs over at once: their leases expire, and the next process continues them', async () => {
    const db = join(dir, 'handover.db');
    const server = serve(db, '--lease-ms', '600000');
    await printed(server, 'Press Ctrl+C');
    const url = /api\s+(http:\/\/\S+)/.exec(server.output())![1]!;
    const response = await fetch(`${url}/workflows/hang/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputData: { n: 0 } }),
    });
    const { runId } = (await response.json()) as { runId: string };
    const storage = new SqliteStorage({ path: db });
    await storage.init();
    await until(async () => (await storage.getRun(runId))?.status === 'running', 'the run to start');
    server.child.kill('SIGTERM');
    expect(await server.exited, server.output()).toEqual({ code: 0, signal: null });
    const row = await storage.getRun(runId);
    expect(row?.status).toBe('running');
    // Handed over, not left for its ten-minute lease.
    expect(row?.leaseExpiresAt).toBe(0);
    const next = new Weft({ workflows: reliabilityWorkflows(0), storage, leaseMs: 600_000 });
    try {
      await next.init();
      await until(async () => (await storage.getRun(runId))?.status === 'success', 'the next process to finish it');
      expect((await next.getRun(runId))?.result).toEqual({ n: 1 });
    } finally {
      await next.close();
    }
  });

  it('refuses a --lease-ms that is not a whole number of at least 100', async () => {
    const server = serve(join(dir, 'refused.db'), '--lease-ms', '50');
    expect((await server.exited).code).toBe(2);
    expect(server.output()).toContain('--lease-ms must be a whole number from 100 to 86400000, got "50"');
  });
});
