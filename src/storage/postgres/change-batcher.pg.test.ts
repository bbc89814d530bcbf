// Compare-and-sets of many runs in one statement on Postgres: claims and ends issued together share a
// commit, and each run's change still applies, fails or is refused on its own.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { Weft } from '../../run/weft.js';
import { createStep } from '../../workflow/create-step.js';
import { createWorkflow } from '../../workflow/create-workflow.js';
import { claimRun, entry, expectWeftError, newRun } from '../conformance/fixtures.js';
import { PostgresStorage } from './postgres-storage.js';
import { PG_URL, describeWithPostgres, statementsOf, suiteStorages } from '../../../test/support/postgres.js';

const PREFIX = `weft_cb_${randomBytes(4).toString('hex')}`;

await describeWithPostgres('Batched run changes on Postgres', 'the Postgres batched change tests', () => {
  const storages = suiteStorages(PREFIX);
  const openStorage = (): Promise<PostgresStorage> => storages.open();

  it('sends the changes of many stored runs issued in one tick as one statement, each on its own condition', async () => {
    const storage = await openStorage();
    const ids = Array.from({ length: 12 }, (_, i) => `run-${i}`);
    for (const id of ids) await claimRun(storage, id);
    const { count, value } = await statementsOf(() =>
      Promise.all(
        ids.map((id, i) =>
          storage.updateRun(
            id,
            // Every third run is asked for an epoch it does not have: its change must not apply.
            { status: ['running'], epoch: i % 3 === 0 ? 7 : 1 },
            { status: 'success', outcome: `{"n":${i}}`, leaseOwner: null, updatedAt: 100 + i },
            [entry(1, 'run-end', `{"n":${i}}`)],
          ),
        ),
      ),
    );
    expect(count).toBe(1);
    for (const [i, id] of ids.entries()) {
      const stored = await storage.getRun(id);
      if (i % 3 === 0) {
        expect(value[i]).toBeNull();
        expect(stored).toMatchObject({ status: 'running', leaseOwner: 'owner-a', epoch: 1 });
        expect(await storage.readJournal(id)).toEqual([]);
      } else {
        expect(value[i]).toMatchObject({ runId: id, status: 'success', outcome: `{"n":${i}}`, leaseOwner: null });
        expect(stored).toEqual(value[i]);
        expect((await storage.readJournal(id)).map((e) => e.data)).toEqual([`{"n":${i}}`]);
      }
    }
  });

  it('leaves the fields a change does not set as they are, and sets those it gives as null', async () => {
    const storage = await openStorage();
    await claimRun(storage, 'a', { leaseExpiresAt: 5000 });
    await claimRun(storage, 'b', { leaseExpiresAt: 6000 });
    const [a, b] = await Promise.all([
      storage.updateRun('a', {}, { wakeAt: 42, updatedAt: 10, bumpEpoch: true }),
      storage.updateRun('b', {}, { status: 'waiting', leaseExpiresAt: null, input: '{"x":1}', updatedAt: 11 }),
    ]);
    expect(a).toMatchObject({ status: 'running', epoch: 2, leaseOwner: 'owner-a', leaseExpiresAt: 5000, wakeAt: 42 });
    expect(b).toMatchObject({ status: 'waiting', epoch: 1, leaseExpiresAt: null, input: '{"x":1}', wakeAt: null });
  });

  it('fails only the run whose entries the journal already holds; the others of the batch are stored', async () => {
    const storage = await openStorage();
    for (const id of ['a', 'b', 'c']) await claimRun(storage, id);
    await storage.appendJournal('b', 1, [entry(1), entry(2)]);
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((id) =>
        storage.updateRun(id, { status: ['running'] }, { status: 'success', updatedAt: 50 }, [entry(1, 'run-end')]),
      ),
    );
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'success' } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { status: 'success' } });
    await expectWeftError(Promise.reject((results[1] as PromiseRejectedResult).reason), 'STORAGE_ERROR');
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/already reaches 2; seqs must increase/);
    expect(await storage.getRun('b')).toMatchObject({ status: 'running' });
  });

  it('claims held runs together, and updates the stored run of an id already in use instead', async () => {
    const storage = await openStorage();
    await claimRun(storage, 'taken', { status: 'pending' });
    const claim = { status: 'running' as const, bumpEpoch: true, leaseOwner: 'me', leaseExpiresAt: 9e12, updatedAt: 7 };
    const ids = ['new-1', 'new-2', 'taken'];
    const created = ids.map((id) => storage.createRun(newRun(id, { claimFollows: true })));
    const claimed = await Promise.all(
      ids.map((id) => storage.updateRun(id, { status: ['pending'] }, claim, [entry(1, 'run-start')])),
    );
    expect(claimed[0]).toMatchObject({ runId: 'new-1', status: 'running', epoch: 1, leaseOwner: 'me' });
    expect(claimed[1]).toMatchObject({ runId: 'new-2', status: 'running', epoch: 1, leaseOwner: 'me' });
    // The stored run of "taken" was claimed before (epoch 1), pending again: its claim is an update, to epoch 2.
    expect(claimed[2]).toMatchObject({ runId: 'taken', status: 'running', epoch: 2, leaseOwner: 'me' });
    expect(await Promise.all(created)).toMatchObject([
      { runId: 'new-1', status: 'pending' },
      { runId: 'new-2', status: 'pending' },
      { runId: 'taken', epoch: 1 },
    ]);
    for (const id of ids) expect((await storage.readJournal(id)).map((e) => e.type)).toEqual(['run-start']);
  });

  it('starts 200 runs at once in far fewer statements than one claim and one end per run', async () => {
    const num = z.object({ n: z.number() });
    const wf = createWorkflow({ id: 'two', inputSchema: num, outputSchema: num })
      .then(createStep({ id: 'a', inputSchema: num, outputSchema: num, execute: async ({ inputData }) => inputData }))
      .then(createStep({ id: 'b', inputSchema: num, outputSchema: num, execute: async ({ inputData }) => inputData }))
      .commit();
    const storage = new PostgresStorage({ connectionString: PG_URL, schema: storages.schema() });
    const weft = new Weft({ workflows: { wf }, storage, recovery: false });
    storages.closeAfter(weft);
    await (await wf.createRun()).start({ inputData: { n: 0 } }); // opens the store
    const { count, value } = await statementsOf(() =>
      Promise.all(Array.from({ length: 200 }, async (_, n) => (await wf.createRun()).start({ inputData: { n } }))),
    );
    expect(value.map((result) => result.status)).toEqual(Array.from({ length: 200 }, () => 'success'));
    expect(value.map((result) => (result.status === 'success' ? result.result.n : -1))).toEqual(
      Array.from({ length: 200 }, (_, n) => n),
    );
    // One claim and one end per run alone would be 400 statements, besides the appends.
    expect(count).toBeLessThan(100);
    expect((await storage.listRuns({ status: 'success' })).total).toBe(201);
  });
});
