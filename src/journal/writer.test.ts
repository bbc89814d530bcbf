// JournalWriter: numbering, folding, batched writes, and announcements made only for what is stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { SqliteStorage } from '../storage/sqlite/index.js';
import type { JournalEntry, JournalStore, WeftStorage } from '../storage/types.js';
import type { EntryDataMap } from './entries.js';
import { RunProjection } from './projection.js';
import { JournalWriter, type Announce, type DeferredClaim, type JournalWriterOptions } from './writer.js';

const RUN = 'r1';
const open: WeftStorage[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const storage of open.splice(0)) await storage.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function sqlite(): Promise<WeftStorage> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-writer-'));
  dirs.push(dir);
  const storage = new SqliteStorage({ path: join(dir, 'weft.db') });
  open.push(storage);
  await storage.init();
  return storage;
}

async function memory(): Promise<WeftStorage> {
  const storage = new MemoryStorage();
  open.push(storage);
  await storage.init();
  return storage;
}

/** Creates the run and claims it, as a start does; returns the epoch it holds. */
async function claimedRun(storage: WeftStorage): Promise<number> {
  await storage.createRun({ runId: RUN, workflowId: 'wf', resourceId: null, createdAt: 0 });
  const row = await storage.updateRun(
    RUN,
    { status: ['pending'] },
    { status: 'running', updatedAt: 1, bumpEpoch: true },
  );
  return row!.epoch;
}

/** Another owner takes the run over (a restart elsewhere): the epoch held before is stale. */
async function takeOver(storage: WeftStorage): Promise<void> {
  await storage.updateRun(RUN, { status: ['running'] }, { updatedAt: 2, bumpEpoch: true });
}

/** The claim of a pending run, as a start makes it: refused once somebody else claimed the run. */
function pendingClaim(storage: WeftStorage, claimed?: () => void, changes: unknown[] = []): DeferredClaim {
  return {
    claimed,
    write: async (entries, change) => {
      changes.push(change);
      const row = await storage.updateRun(
        RUN,
        { status: ['pending'] },
        { status: 'running', updatedAt: 1, bumpEpoch: true, ...change },
        entries,
      );
      if (!row) throw new WeftError('RUN_ALREADY_CLAIMED', 'claimed elsewhere');
      return row.epoch;
    },
  };
}

/** The store as the writer sees it, recording the seqs of each append. */
function recording(store: JournalStore): { store: JournalStore; batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    store: {
      keepsValues: store.keepsValues,
      appendJournal(runId: string, epoch: number, entries: readonly JournalEntry[]) {
        batches.push(entries.map((e) => e.seq));
        return store.appendJournal(runId, epoch, entries);
      },
      readJournal: (runId, options) => store.readJournal(runId, options),
    },
  };
}

/** A writer whose announcements are recorded as the seqs they were made for, in order. */
function writerFor(store: JournalStore, options: Partial<JournalWriterOptions> = {}) {
  const announced: number[] = [];
  const asked: { type: string; seq: number }[] = [];
  const announce: Announce = (type, _data, seq) => {
    asked.push({ type, seq });
    return () => announced.push(seq);
  };
  const projection = new RunProjection();
  const writer = new JournalWriter({
    store,
    runId: RUN,
    epoch: 1,
    lastSeq: 0,
    projection,
    maxOutputEntries: 100,
    now: () => 1_000,
    announce,
    ...options,
  });
  return { writer, announced, asked, projection };
}

const start = (key = '0'): EntryDataMap['step-start'] => ({ key, id: `s${key}`, payload: { n: 1 }, startedAt: 10 });
const end = (key = '0'): EntryDataMap['step-end'] => ({
  key,
  id: `s${key}`,
  status: 'success',
  endedAt: 20,
  output: { n: 2 },
});
const output = (n: number): EntryDataMap['step-output'] => ({ id: 's0', output: n });

const storedSeqs = async (storage: WeftStorage): Promise<number[]> =>
  (await storage.readJournal(RUN)).map((e) => e.seq);

/** Waits until `done()` holds, one turn of the event loop at a time (at most a second). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('JournalWriter', () => {
  it('numbers entries after the last stored seq and folds each into the projection as it is added', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    await storage.appendJournal(RUN, epoch, [{ seq: 4, type: 'custom', data: '{"type":"data-x"}', at: 0 }]);
    const { writer, projection } = writerFor(storage, { epoch, lastSeq: 4 });
    writer.add('step-start', start());
    writer.add('step-end', end());
    expect(writer.lastSeq).toBe(6);
    expect(projection.lastSeq).toBe(6);
    expect(projection.records.get('0')).toMatchObject({ status: 'success', output: { n: 2 }, payload: { n: 1 } });
    await writer.flush();
    const stored = await storage.readJournal(RUN);
    expect(stored.map((e) => [e.seq, e.type, e.at])).toEqual([
      [4, 'custom', 0],
      [5, 'step-start', 1_000],
      [6, 'step-end', 1_000],
    ]);
    expect(JSON.parse(stored[2]!.data)).toEqual(end());
  });

  it('asks announce about each entry as it is added, and announces it only once the write carrying it is stored', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { writer, announced, asked } = writerFor(storage, { epoch });
    writer.add('step-start', start());
    writer.add('step-end', end());
    expect(asked).toEqual([
      { type: 'step-start', seq: 1 },
      { type: 'step-end', seq: 2 },
    ]);
    const flushed = writer.flush();
    expect(announced).toEqual([]); // the append is on its way, not stored
    await flushed;
    expect(announced).toEqual([1, 2]);
    expect(await storedSeqs(storage)).toEqual([1, 2]);
  });

  it('drops the announcements of a refused write, and announces nothing it adds afterwards', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { writer, announced } = writerFor(storage, { epoch });
    await takeOver(storage);
    writer.add('step-start', start());
    const refused = await writer.flush().catch((error: unknown) => error);
    expect(WeftError.is(refused, 'RUN_OWNERSHIP_LOST')).toBe(true);
    expect(writer.failed).toBe(refused);
    writer.add('step-end', end());
    await expect(writer.flush()).rejects.toBe(refused);
    expect(announced).toEqual([]);
    expect(await storedSeqs(storage)).toEqual([]);
  });

  it('on a store that appends at once, stores and announces within flushNow, leaving nothing to await', async () => {
    const storage = await memory();
    const epoch = await claimedRun(storage);
    const { writer, announced } = writerFor(storage, { epoch });
    writer.add('step-start', start());
    expect(writer.flushNow()).toBeUndefined();
    expect(announced).toEqual([1]);
    expect(await storedSeqs(storage)).toEqual([1]);
    expect(writer.flushNow()).toBeUndefined(); // nothing queued
  });

  it('stores followed step output within the tick it was written, in one write, without a flush', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { store, batches } = recording(storage);
    const { writer, announced } = writerFor(store, { epoch });
    writer.add('step-output', output(1));
    writer.add('step-output', output(2));
    writer.add('step-output', output(3));
    await until(() => announced.length === 3);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(announced).toEqual([1, 2, 3]);
  });

  it('leaves unfollowed output for the next flush (announce has nothing to show)', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { store, batches } = recording(storage);
    const writer = new JournalWriter({
      store,
      runId: RUN,
      epoch,
      lastSeq: 0,
      projection: new RunProjection(),
      maxOutputEntries: 100,
      now: () => 0,
      announce: () => undefined,
    });
    writer.add('step-output', output(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([]);
    writer.add('step-end', end());
    await writer.flush();
    expect(batches).toEqual([[1, 2]]);
  });

  it('announces output past maxOutputEntries in its place, but never stores it', async () => {
    const storage = await memory();
    const epoch = await claimedRun(storage);
    const { writer, announced, projection } = writerFor(storage, { epoch, maxOutputEntries: 1 });
    writer.add('step-output', output(1));
    writer.add('step-output', output(2));
    writer.add('step-end', end());
    await writer.flush();
    expect(announced).toEqual([1, 2, 3]);
    expect(await storedSeqs(storage)).toEqual([1, 3]);
    expect(projection.outputEntries).toBe(2);
  });

  it('makes a deferred claim with its first write, storing the entries added before and announcing them once claimed', async () => {
    const storage = await memory();
    await storage.createRun({ runId: RUN, workflowId: 'wf', resourceId: null, createdAt: 0 });
    const order: string[] = [];
    const claim = pendingClaim(storage, () => order.push('claimed'));
    const announce: Announce = (_type, _data, seq) => () => order.push(`announced ${seq}`);
    const { writer } = writerFor(storage, { epoch: 0, claim, announce });
    expect(writer.claiming).toBe(true);
    writer.add('run-start', { input: 1, state: {}, requestContext: {}, resourceId: null });
    writer.add('step-start', start());
    expect(order).toEqual([]);
    await writer.flush();
    expect(writer.claiming).toBe(false);
    expect(writer.claimRefused).toBe(false);
    expect(writer.epoch).toBe(1);
    expect(order).toEqual(['claimed', 'announced 1', 'announced 2']);
    expect(await storedSeqs(storage)).toEqual([1, 2]);
    expect((await storage.getRun(RUN))!.status).toBe('running');
  });

  it('stores and announces nothing when its deferred claim is refused, and says so', async () => {
    const storage = await memory();
    await claimedRun(storage); // somebody else claimed the run first
    const claim = pendingClaim(storage);
    const { writer, announced } = writerFor(storage, { epoch: 0, claim });
    writer.add('run-start', { input: 1, state: {}, requestContext: {}, resourceId: null });
    await expect(writer.flush()).rejects.toMatchObject({ code: 'RUN_ALREADY_CLAIMED' });
    expect(writer.claimRefused).toBe(true);
    expect(announced).toEqual([]);
    expect(await storedSeqs(storage)).toEqual([]);
  });

  it('writes entries added while the claim is on its way after it, with the epoch the claim brought', async () => {
    const storage = await sqlite();
    await storage.createRun({ runId: RUN, workflowId: 'wf', resourceId: null, createdAt: 0 });
    const epochs: number[] = [];
    const { store } = recording(storage);
    const claim = pendingClaim(storage);
    const watched: JournalStore = {
      ...store,
      appendJournal(runId, epoch, entries) {
        epochs.push(epoch);
        return store.appendJournal(runId, epoch, entries);
      },
    };
    const { writer, announced } = writerFor(watched, { epoch: 0, claim });
    writer.add('step-start', start());
    const first = writer.flush();
    await Promise.resolve(); // the claim goes out a microtask after the flush that asks for it
    writer.add('step-end', end());
    const second = writer.flush();
    await Promise.all([first, second]);
    expect(epochs).toEqual([1]);
    expect(await storedSeqs(storage)).toEqual([1, 2]);
    expect(announced).toEqual([1, 2]);
  });

  it('claimWith makes a pending claim together with a change, once', async () => {
    const storage = await memory();
    await storage.createRun({ runId: RUN, workflowId: 'wf', resourceId: null, createdAt: 0 });
    const changes: unknown[] = [];
    const claim = pendingClaim(storage, undefined, changes);
    const { writer } = writerFor(storage, { epoch: 0, claim });
    writer.add('run-end', { status: 'failed', state: {}, requestContext: {} });
    await writer.claimWith({ status: 'failed', updatedAt: 3 });
    expect(writer.claimWith({ status: 'failed', updatedAt: 4 })).toBeUndefined();
    expect(changes).toEqual([{ status: 'failed', updatedAt: 3 }]);
    expect((await storage.getRun(RUN))!.status).toBe('failed');
    expect(await storedSeqs(storage)).toEqual([1]);
  });

  it("writeLast stores what is pending with the run's last change and announces it; a change refused announces nothing more", async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { writer, announced } = writerFor(storage, { epoch });
    writer.add('step-end', end());
    const row = await writer.writeLast((entries) =>
      storage.updateRun(RUN, { epoch }, { status: 'success', updatedAt: 5 }, entries),
    );
    expect(row!.status).toBe('success');
    expect(announced).toEqual([1]);

    writer.add('run-cancel', {});
    const refused = await writer.writeLast((entries) =>
      storage.updateRun(RUN, { epoch: epoch + 1 }, { status: 'canceled', updatedAt: 6 }, entries),
    );
    expect(refused).toBeNull();
    writer.add('step-output', output(1)); // silenced: never announced
    await writer.flush();
    expect(announced).toEqual([1]);
  });

  it('refuses, for a durable store, a value that cannot be serialized before it takes a seq', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { writer, projection } = writerFor(storage, { epoch });
    const bad = {
      toJSON() {
        throw new Error('no JSON for this');
      },
    };
    expect(() => writer.add('step-end', { ...end(), output: bad })).toThrow('no JSON for this');
    expect(writer.lastSeq).toBe(0);
    expect(projection.lastSeq).toBe(0);
    writer.add('step-start', start());
    await writer.flush();
    expect(await storedSeqs(storage)).toEqual([1]);
  });

  it('keeps one write on its way: what is added meanwhile goes together in the next; settle waits for both', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { store, batches } = recording(storage);
    const { writer, announced } = writerFor(store, { epoch });
    writer.add('step-start', start('0'));
    const first = writer.flush();
    await Promise.resolve(); // the write goes out a microtask after the flush that asks for it
    writer.add('step-start', start('1'));
    const second = writer.flush();
    writer.add('step-start', start('2'));
    const third = writer.flush();
    expect(batches).toEqual([[1]]); // the others wait for the write on its way
    expect(third).toBe(second); // and share the write that follows it
    await first;
    await writer.settle();
    expect(writer.settle()).toBeUndefined();
    expect(batches).toEqual([[1], [2, 3]]);
    expect(announced).toEqual([1, 2, 3]);
    expect(await storedSeqs(storage)).toEqual([1, 2, 3]);
  });

  it('gathers what is added in the same pass as a flush into its write: the arms of a block start together', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { store, batches } = recording(storage);
    const { writer } = writerFor(store, { epoch });
    const flushes = ['0', '1', '2'].map((key) => {
      writer.add('step-start', start(key));
      return writer.flush();
    });
    expect(batches).toEqual([]); // nothing sent yet: the write waits a microtask for its siblings
    expect(new Set(flushes).size).toBe(1);
    await flushes[0];
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await storedSeqs(storage)).toEqual([1, 2, 3]);
  });

  it('settle waits for a write still gathering, so the last change never overtakes it', async () => {
    const storage = await sqlite();
    const epoch = await claimedRun(storage);
    const { store, batches } = recording(storage);
    const { writer, announced } = writerFor(store, { epoch });
    writer.add('step-start', start('0'));
    void writer.flushNow(); // as a step's output flush does, nobody awaiting it
    const settled = writer.settle();
    expect(settled).toBeInstanceOf(Promise);
    await settled;
    expect(batches).toEqual([[1]]);
    expect(announced).toEqual([1]);
  });

  it('gathers the starts of a block into the claim of a run that has not been written yet', async () => {
    const storage = await sqlite();
    await storage.createRun({ runId: RUN, workflowId: 'wf', resourceId: null, createdAt: 0 });
    const { store, batches } = recording(storage);
    const { writer } = writerFor(store, { epoch: 0, claim: pendingClaim(storage) });
    writer.add('step-start', start('0'));
    const first = writer.flush();
    writer.add('step-start', start('1'));
    const second = writer.flush();
    await Promise.all([first, second]);
    expect(batches).toEqual([]); // both went with the claim
    expect(await storedSeqs(storage)).toEqual([1, 2]);
  });

  it('keeps an announcement that throws away from the run', async () => {
    const storage = await memory();
    const epoch = await claimedRun(storage);
    const { writer } = writerFor(storage, {
      epoch,
      announce: () => () => {
        throw new Error('listener failed');
      },
    });
    writer.add('step-start', start());
    writer.add('step-end', end());
    await writer.flush();
    expect(writer.failed).toBeUndefined();
    expect(await storedSeqs(storage)).toEqual([1, 2]);
  });
});
