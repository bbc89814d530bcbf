// A run's insert folded into its claim on Postgres: a start of a new run stores the run, claims it and writes
// its first entries in one statement, and every operation still sees the runs created before it.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { Weft } from '../../run/weft.js';
import { createStep } from '../../workflow/create-step.js';
import { createWorkflow } from '../../workflow/create-workflow.js';
import { entry, expectWeftError, newRun } from '../conformance/fixtures.js';
import { PostgresStorage } from './postgres-storage.js';
import { PG_URL, describeWithPostgres, statementsOf, suiteStorages } from '../../../test/support/postgres.js';

const PREFIX = `weft_rc_${randomBytes(4).toString('hex')}`;

const claimChange = {
  status: 'running' as const,
  bumpEpoch: true,
  leaseOwner: 'me',
  leaseExpiresAt: 9e12,
  updatedAt: 5,
};

/** Waits for `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

await describeWithPostgres('Run creations on Postgres', 'the Postgres run creation tests', () => {
  const storages = suiteStorages(PREFIX);
  const openStorage = storages.open;

  it('starts a new run of a one-step workflow in two statements: insert, claim and first entries in one', async () => {
    const num = z.object({ n: z.number() });
    const wf = createWorkflow({ id: 'one', inputSchema: num, outputSchema: num })
      .then(createStep({ id: 'add', inputSchema: num, outputSchema: num, execute: async ({ inputData }) => inputData }))
      .commit();
    const storage = new PostgresStorage({ connectionString: PG_URL, schema: storages.schema() });
    const weft = new Weft({ workflows: { wf }, storage, recovery: false });
    storages.closeAfter(weft);
    await (await wf.createRun()).start({ inputData: { n: 0 } }); // opens the store
    const { count, value } = await statementsOf(async () => {
      const run = await wf.createRun();
      return { runId: run.runId, result: await run.start({ inputData: { n: 7 } }) };
    });
    expect(value.result.status).toBe('success');
    expect(count).toBe(2);
    const row = await storage.getRun(value.runId);
    expect(row).toMatchObject({ status: 'success', epoch: 1, workflowId: 'one' });
    expect((await storage.readJournal(value.runId)).map((e) => e.type)).toEqual([
      'run-start',
      'step-start',
      'step-end',
      'run-end',
    ]);
  });

  it('stores a run and its claim together when the claim is issued in the same tick, and settles createRun', async () => {
    const storage = await openStorage();
    const { count, value } = await statementsOf(async () => {
      const created = storage.createRun(newRun('r1'));
      const claimed = storage.updateRun('r1', { status: ['pending'] }, claimChange, [entry(1, 'run-start')]);
      return { created: await created, claimed: await claimed };
    });
    expect(count).toBe(1);
    expect(value.created).toMatchObject({ runId: 'r1', status: 'pending', epoch: 0 });
    expect(value.claimed).toMatchObject({ runId: 'r1', status: 'running', epoch: 1, leaseOwner: 'me' });
    expect((await storage.readJournal('r1')).map((e) => e.seq)).toEqual([1]);
  });

  it('holds the insert of a run whose claim follows past turns of the event loop, and stores it unclaimed once turns go by without claims', async () => {
    const schema = storages.schema();
    const storage = await openStorage(schema);
    const other = await openStorage(schema);
    const { count, value } = await statementsOf(async () => {
      const created = storage.createRun(newRun('later', { claimFollows: true }));
      await turns(2);
      const claimed = await storage.updateRun('later', { status: ['pending'] }, claimChange, [entry(1, 'run-start')]);
      return { created: await created, claimed };
    });
    expect(count).toBe(1);
    expect(value.claimed).toMatchObject({ status: 'running', epoch: 1 });

    // No claim comes: the insert goes out after a few turns of the event loop, well before 50 ms would pass.
    const unclaimed = await statementsOf(async () => {
      const created = storage.createRun(newRun('unclaimed', { claimFollows: true }));
      await turns(5);
      return created;
    });
    expect(unclaimed.count).toBe(1);
    expect(await unclaimed.value).toMatchObject({ status: 'pending', epoch: 0 });
    expect(await other.getRun('unclaimed')).toMatchObject({ status: 'pending' });
  });

  it('lets a list wait for a held run to be claimed rather than send its insert alone', async () => {
    const storage = await openStorage();
    const { count, value } = await statementsOf(async () => {
      const created = storage.createRun(newRun('listed', { claimFollows: true }));
      const list = storage.listRuns();
      const claimed = storage.updateRun('listed', { status: ['pending'] }, claimChange, [entry(1, 'run-start')]);
      return { created: await created, list: await list, claimed: await claimed };
    });
    expect(value.list.runs).toMatchObject([{ runId: 'listed', status: 'running' }]);
    expect(value.claimed).toMatchObject({ status: 'running', epoch: 1 });
    expect(count).toBe(2); // the claim carrying the insert, and the list
  });

  it('refuses a second start of a run whose insert and claim failed with RUN_NOT_FOUND, not the same failure again', async () => {
    const num = z.object({ n: z.number() });
    const wf = createWorkflow({ id: 'one', inputSchema: num, outputSchema: num })
      .then(createStep({ id: 'add', inputSchema: num, outputSchema: num, execute: async ({ inputData }) => inputData }))
      .commit();
    const weft = new Weft({
      workflows: { wf },
      storage: new PostgresStorage({ connectionString: PG_URL, schema: storages.schema() }),
      recovery: false,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    storages.closeAfter(weft);
    await weft.init();
    // Postgres refuses a NUL character in text: the statement that inserts and claims the run fails.
    const run = await wf.createRun({ resourceId: 'bad\u0000id' });
    await expectWeftError(run.start({ inputData: { n: 1 } }), 'STORAGE_ERROR');
    await expectWeftError(run.start({ inputData: { n: 1 } }), 'RUN_NOT_FOUND');
    expect(await weft.storage.getRun(run.runId)).toBeNull();
  });

  it('lets reads and lists issued right after createRun see the run, and stores an awaited createRun alone', async () => {
    const storage = await openStorage();
    const created = storage.createRun(newRun('seen'));
    const [row, list] = await Promise.all([storage.getRun('seen'), storage.listRuns()]);
    expect(row).toMatchObject({ runId: 'seen', status: 'pending' });
    expect(list.runs.map((run) => run.runId)).toEqual(['seen']);
    expect(await created).toMatchObject({ runId: 'seen', status: 'pending', epoch: 0 });
    expect(await storage.createRun(newRun('alone'))).toMatchObject({ runId: 'alone', status: 'pending' });
    expect(await storage.getRun('alone')).toMatchObject({ status: 'pending' });
  });

  it('inserts the runs created in one tick, and answers an id in use with its stored row, in one statement', async () => {
    const schema = storages.schema();
    const first = await openStorage(schema);
    const second = await openStorage(schema);
    await first.createRun(newRun('taken', { workflowId: 'first' }));
    const { count, value } = await statementsOf(() =>
      Promise.all([
        second.createRun(newRun('a')),
        second.createRun(newRun('b')),
        second.createRun(newRun('taken', { workflowId: 'second' })),
        second.createRun(newRun('a', { workflowId: 'again' })),
      ]),
    );
    expect(count).toBe(1);
    expect(value.map((run) => [run.runId, run.workflowId])).toEqual([
      ['a', 'wf'],
      ['b', 'wf'],
      ['taken', 'first'],
      ['a', 'wf'],
    ]);
  });

  it('claims a run created elsewhere under the same id as a stored run, and refuses a claim the new run does not allow', async () => {
    const schema = storages.schema();
    const first = await openStorage(schema);
    const second = await openStorage(schema);
    const stored = await first.createRun(newRun('shared', { workflowId: 'first' }));
    await first.updateRun('shared', { status: ['pending'] }, claimChange, [entry(1, 'run-start')]);
    const created = second.createRun(newRun('shared', { workflowId: 'second' }));
    const claim = second.updateRun('shared', { status: ['pending'] }, claimChange, [entry(1, 'run-start')]);
    expect(await claim).toBeNull();
    expect(await created).toMatchObject({ runId: 'shared', workflowId: 'first', createdAt: stored.createdAt });

    const fresh = second.createRun(newRun('fresh'));
    expect(await second.updateRun('fresh', { status: ['suspended'] }, claimChange)).toBeNull();
    expect(await fresh).toMatchObject({ status: 'pending', epoch: 0 });
    expect(await first.getRun('fresh')).toMatchObject({ status: 'pending', epoch: 0 });
  });
});
