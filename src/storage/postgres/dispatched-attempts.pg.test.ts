// The dispatched attempts table on a real Postgres: a worker hands results in and claims the next
// attempts in one statement, with what `complete` and `claim` do apart.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, it } from 'vitest';
import type { NewAttempt } from './dispatched-attempts.js';
import { PG_URL, describeWithPostgres, statementsOf, suiteStorages } from '../../../test/support/postgres.js';

await describeWithPostgres('Dispatched step attempts on Postgres', 'the dispatched attempt tests', () => {
  const storages = suiteStorages(`weft_da_${randomBytes(4).toString('hex')}`);
  const T = 1_800_000_000_000;
  const LEASE = 30_000;

  /** A storage with one run and `count` ready attempts of it, a0, a1, ... (created in that order). */
  async function withAttempts(count: number) {
    const storage = await storages.open();
    await storage.createRun({ runId: 'run', workflowId: 'wf', resourceId: null, createdAt: T });
    const attempts: NewAttempt[] = Array.from({ length: count }, (_, i) => ({
      attemptId: `a${i}`,
      dispatchId: `d${i}`,
      runId: 'run',
      workflowId: 'wf',
      stepKey: `0.${i}`,
      epoch: 1,
      call: '{}',
    }));
    for (const [i, attempt] of attempts.entries()) await storage.attempts.insert([attempt], T + i);
    return storage;
  }

  /** Listens on `channel` of the storage's database; `heard()` lists the payloads so far. */
  async function listen(channel: string) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const payloads: string[] = [];
    client.on('notification', (n) => payloads.push(n.payload ?? ''));
    await client.query(`LISTEN "${channel}"`);
    storages.closeAfter({ close: () => client.end() });
    return { heard: () => payloads };
  }

  it('stores results and claims the next attempts, oldest first, in one statement', async () => {
    const storage = await withAttempts(5);
    const { attempts } = storage;
    expect((await attempts.claim('w1', ['wf'], 2, T + 10, T + LEASE)).map((a) => a.attemptId)).toEqual(['a0', 'a1']);
    const coordinator = await listen(attempts.doneChannel);
    const { count, value: next } = await statementsOf(() =>
      attempts.completeAndClaim(
        'w1',
        [
          { attemptId: 'a0', result: '{"value":0}' },
          { attemptId: 'a1', result: '{"value":1}' },
        ],
        { workflowIds: ['wf'], limit: 2, now: T + 20, expiresAt: T + LEASE },
      ),
    );
    expect(count).toBe(1);
    expect(next.map((a) => [a.attemptId, a.tries])).toEqual([
      ['a2', 1],
      ['a3', 1],
    ]);
    expect(await attempts.results(['a0', 'a1', 'a2'])).toEqual([
      { attemptId: 'a0', result: '{"value":0}' },
      { attemptId: 'a1', result: '{"value":1}' },
    ]);
    await expect.poll(() => coordinator.heard()).toEqual(['run']);
  });

  it('tells the coordinator when nothing is left to claim', async () => {
    const storage = await withAttempts(1);
    const { attempts } = storage;
    await attempts.claim('w1', ['wf'], 1, T + 10, T + LEASE);
    const coordinator = await listen(attempts.doneChannel);
    const next = await attempts.completeAndClaim('w1', [{ attemptId: 'a0', result: '{"value":0}' }], {
      workflowIds: ['wf'],
      limit: 3,
      now: T + 20,
      expiresAt: T + LEASE,
    });
    expect(next).toEqual([]);
    await expect.poll(() => coordinator.heard()).toEqual(['run']);
  });

  it('does not take back an attempt it completes whose lease expired meanwhile', async () => {
    const storage = await withAttempts(2);
    const { attempts } = storage;
    await attempts.claim('w1', ['wf'], 1, T + 10, T + 100);
    // Past the lease of a0: a claim alone would take it as a dead worker's attempt.
    const next = await attempts.completeAndClaim('w1', [{ attemptId: 'a0', result: '{"value":0}' }], {
      workflowIds: ['wf'],
      limit: 2,
      now: T + 1_000,
      expiresAt: T + 1_000 + LEASE,
    });
    expect(next.map((a) => a.attemptId)).toEqual(['a1']);
    expect(await attempts.results(['a0'])).toEqual([{ attemptId: 'a0', result: '{"value":0}' }]);
  });

  it('stores no result for an attempt another worker holds now, and still claims', async () => {
    const storage = await withAttempts(2);
    const { attempts } = storage;
    await attempts.claim('w1', ['wf'], 1, T + 10, T + 100);
    // w1 stalled past its lease; w2 took a0 over.
    expect((await attempts.claim('w2', ['wf'], 1, T + 1_000, T + 1_000 + LEASE)).map((a) => a.attemptId)).toEqual([
      'a0',
    ]);
    const next = await attempts.completeAndClaim('w1', [{ attemptId: 'a0', result: '{"stale":true}' }], {
      workflowIds: ['wf'],
      limit: 1,
      now: T + 1_010,
      expiresAt: T + 1_010 + LEASE,
    });
    expect(next.map((a) => a.attemptId)).toEqual(['a1']);
    expect(await attempts.results(['a0'])).toEqual([]);
    expect(await attempts.complete('w2', [{ attemptId: 'a0', result: '{"value":0}' }])).toEqual(['a0']);
  });
});
