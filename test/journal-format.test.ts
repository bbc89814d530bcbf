// The journal format version: stored entries say which format they are in; journals written before
// versions existed read as format 1, and an entry of a later format is refused, never misread.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft, WeftError } from '../src/index.js';
import type { WorkflowEvent } from '../src/index.js';
import { readEntry } from '../src/journal/encoding.js';
import { JOURNAL_FORMAT } from '../src/journal/entries.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { goldenWorkflows, suspended } from './fixtures/golden/workflows.js';

const GOLDEN = join(import.meta.dirname, 'fixtures/golden/journal-v3.db');
const RUN = 'suspended-waiting';

const dirs: string[] = [];
const wefts: Weft[] = [];
afterEach(async () => {
  await Promise.all(wefts.splice(0).map((w) => w.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Weft over a fresh copy of the golden file, and its storage. */
function openCopy(): { weft: Weft; storage: SqliteStorage } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-format-'));
  dirs.push(dir);
  const path = join(dir, 'golden.db');
  copyFileSync(GOLDEN, path);
  const storage = new SqliteStorage({ path });
  const weft = new Weft({ workflows: goldenWorkflows, storage });
  wefts.push(weft);
  return { weft, storage };
}

/** Appends one raw entry to the stored run, as another version of Weft would have written it. */
async function appendRaw(storage: SqliteStorage, type: string, data: unknown): Promise<number> {
  await storage.init();
  const run = (await storage.getRun(RUN))!;
  const last = (await storage.readJournal(RUN)).at(-1)!.seq;
  await storage.appendJournal(RUN, run.epoch, [{ seq: last + 1, type, data: JSON.stringify(data), at: Date.now() }]);
  return last + 1;
}

async function refusal(promise: Promise<unknown>): Promise<WeftError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(WeftError.is(error, 'JOURNAL_FORMAT_UNSUPPORTED')).toBe(true);
  return error as WeftError;
}

describe('journal format', () => {
  it('reads every entry of the golden journal, written before format versions, as format 1', async () => {
    expect(JOURNAL_FORMAT).toBe(1);
    const { storage } = openCopy();
    await storage.init();
    const { runs } = await storage.listRuns();
    expect(runs.length).toBeGreaterThan(10);
    for (const run of runs) {
      const entries = await storage.readJournal(run.runId);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        const read = readEntry(entry, run.runId);
        expect(read.type).toBe(entry.type);
        expect(read.data).toEqual(JSON.parse(entry.data));
      }
    }
  });

  it('refuses a run whose journal has an entry of a later format, naming the entry, the run and both formats', async () => {
    const { weft, storage } = openCopy();
    const seq = await appendRaw(storage, 'step-end@2', { key: '1', id: 'approve', status: 'success', endedAt: 1 });
    const error = await refusal(suspended.getWorkflowRunById(RUN));
    expect(error.message).toBe(
      `Cannot read entry ${seq} of run "${RUN}": it is of journal format 2 (type "step-end@2"), and this version of Weft reads format 1 at most; it was written by a newer version of Weft, so read the run with that version`,
    );
    expect(error.runId).toBe(RUN);
    // Resuming is refused too, and leaves the stored run as it was.
    const run = await suspended.createRun({ runId: RUN });
    await refusal(run.resume({ resumeData: { approver: 'lee' } }));
    expect((await storage.getRun(RUN))!.status).toBe('suspended');
    expect((await storage.readJournal(RUN)).at(-1)!.seq).toBe(seq);
    // A replay of its events stops with the same error rather than skip the entry.
    const seen: WorkflowEvent[] = [];
    const replay = (async () => {
      for await (const event of weft.observeRun(RUN) as unknown as AsyncIterable<WorkflowEvent>) seen.push(event);
    })();
    await refusal(replay);
  });

  it('refuses an entry of a type this format does not have', async () => {
    const { storage } = openCopy();
    await appendRaw(storage, 'step-rewound', { key: '1' });
    const error = await refusal(suspended.getWorkflowRunById(RUN));
    expect(error.message).toContain('has type "step-rewound", which is no entry type of journal format 1');
  });
});
