// PgAppendBatcher's grouping and failure isolation, against a scripted stand-in for the pg pool.
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../errors.js';
import { entries } from '../conformance/fixtures.js';
import { PgAppendBatcher } from './append-batcher.js';
import type { BatchOutcomeRow } from './journal-queries.js';
import { StatementNames } from './statement-names.js';

/** The run ids of each statement sent, and a pool that answers as `answer` says. */
function scriptedPool(answer: (runIds: string[]) => BatchOutcomeRow[]): { pool: Pool; statements: string[][] } {
  const statements: string[][] = [];
  const pool = {
    query: async (query: { values: unknown[] }) => {
      // A batch of many runs gives their ids as an array; a batch of one run, its id.
      const first = query.values[0] as string | string[];
      const runIds = Array.isArray(first) ? first : [first];
      statements.push(runIds);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { rows: answer(runIds) };
    },
  } as unknown as Pool;
  return { pool, statements };
}

/** Every run exists at epoch 1 with an empty journal. */
const allAccepted = (runIds: string[]): BatchOutcomeRow[] =>
  runIds.map((run_id) => ({ run_id, epoch: 1, last_seq: null, accepted: true }));

const wrap = (runId: string, error: unknown): unknown =>
  new WeftError('STORAGE_ERROR', `failed to append to run "${runId}"`, { runId, cause: error });

describe('PgAppendBatcher', () => {
  it('sends the appends of many runs issued in one tick as one statement', async () => {
    const { pool, statements } = scriptedPool(allAccepted);
    const batcher = new PgAppendBatcher(pool, new StatementNames(false), '"weft"', 'weft:weft', wrap);
    const ids = Array.from({ length: 50 }, (_, i) => `r${i}`);
    await Promise.all(ids.map((runId) => batcher.append({ runId, epoch: 1, entries: entries(1, 2) })));
    expect(statements).toEqual([ids]);
  });

  it('puts two appends of one run into successive statements, in issue order', async () => {
    const { pool, statements } = scriptedPool(allAccepted);
    const batcher = new PgAppendBatcher(pool, new StatementNames(false), '"weft"', 'weft:weft', wrap);
    await Promise.all([
      batcher.append({ runId: 'a', epoch: 1, entries: entries(1, 1) }),
      batcher.append({ runId: 'a', epoch: 1, entries: entries(2, 2) }),
      batcher.append({ runId: 'b', epoch: 1, entries: entries(1, 1) }),
    ]);
    expect(statements).toEqual([['a', 'b'], ['a']]);
  });

  it('rejects only the runs whose epoch or seq check failed', async () => {
    const { pool } = scriptedPool(() => [
      { run_id: 'ok', epoch: 1, last_seq: null, accepted: true },
      { run_id: 'stale', epoch: 2, last_seq: null, accepted: false },
      { run_id: 'behind', epoch: 1, last_seq: '7', accepted: false },
    ]);
    const batcher = new PgAppendBatcher(pool, new StatementNames(false), '"weft"', 'weft:weft', wrap);
    const results = await Promise.allSettled(
      ['ok', 'stale', 'behind', 'gone'].map((runId) => batcher.append({ runId, epoch: 1, entries: entries(1, 1) })),
    );
    expect(results[0]?.status).toBe('fulfilled');
    const reasons = results.slice(1).map((r) => (r as PromiseRejectedResult).reason as WeftError);
    expect(reasons.map((e) => e.code)).toEqual(['RUN_OWNERSHIP_LOST', 'STORAGE_ERROR', 'RUN_OWNERSHIP_LOST']);
    expect(reasons[1]?.message).toContain('already reaches 7');
  });

  it('retries each run alone when a whole statement fails, so only the faulty run fails', async () => {
    const { pool, statements } = scriptedPool((runIds) => {
      if (runIds.includes('faulty')) throw Object.assign(new Error('boom'), { code: 'XX000' });
      return allAccepted(runIds);
    });
    const batcher = new PgAppendBatcher(pool, new StatementNames(false), '"weft"', 'weft:weft', wrap);
    const results = await Promise.allSettled(
      ['a', 'faulty', 'b'].map((runId) => batcher.append({ runId, epoch: 1, entries: entries(1, 1) })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(WeftError.is((results[1] as PromiseRejectedResult).reason, 'STORAGE_ERROR')).toBe(true);
    expect(statements[0]).toEqual(['a', 'faulty', 'b']);
    expect(statements.slice(1).sort()).toEqual([['a'], ['b'], ['faulty']]);
  });

  it('gathers appends issued while statements are in flight into the next statement', async () => {
    const { pool, statements } = scriptedPool(allAccepted);
    const batcher = new PgAppendBatcher(pool, new StatementNames(false), '"weft"', 'weft:weft', wrap);
    const all: Promise<void>[] = [];
    for (let tick = 0; tick < 12; tick++) {
      all.push(batcher.append({ runId: `r${tick}`, epoch: 1, entries: entries(1, 1) }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    expect(statements.flat().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`).sort());
    expect(statements.length).toBeLessThan(12);
  });
});
