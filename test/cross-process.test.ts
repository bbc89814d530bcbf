// Runs shared through one SQLite file by real child processes: resume elsewhere (S11/R4), replay events elsewhere.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Weft, type WorkflowEvent } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { approvalWorkflow } from './fixtures/approval-workflow.js';

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, 'fixtures');

async function child(script: string, args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(fixtures, script), ...args], {
    timeout: 30_000,
  });
  return stdout.trim().split('\n').filter(Boolean);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-xproc-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function collect(stream: ReadableStream<WorkflowEvent>): Promise<WorkflowEvent[]> {
  const events: WorkflowEvent[] = [];
  for await (const e of stream as unknown as AsyncIterable<WorkflowEvent>) events.push(e);
  return events;
}

describe('across processes on one SQLite file', () => {
  it('S11/R4: createRun({runId}) in another process resumes a run the first process suspended; earlier steps do not run again', async () => {
    const db = join(dir, 'weft.db');
    const [started] = await child('approval-process.ts', ['start', db, 'xp-1']);
    expect(JSON.parse(started!)).toEqual({ calls: ['a', 'b'], status: 'suspended', suspended: [['b']] });

    // This process sees the suspension too.
    const calls: string[] = [];
    const wf = approvalWorkflow(calls);
    const weft = new Weft({ workflows: { wf }, storage: new SqliteStorage({ path: db }), recovery: false });
    const view = await wf.getWorkflowRunById('xp-1');
    expect(view?.status).toBe('suspended');
    expect(view?.steps.b?.suspendPayload).toEqual({ reason: 'need add' });

    const [resumed] = await child('approval-process.ts', ['resume', db, 'xp-1']);
    // requestContext set by b before the suspend, in the first process, is seen by c in the third.
    expect(JSON.parse(resumed!)).toEqual({ calls: ['b', 'c'], status: 'success', result: { out: 'n=7 by ann' } });

    const done = await wf.getWorkflowRunById('xp-1');
    expect(done?.status).toBe('success');
    expect(done?.result).toEqual({ out: 'n=7 by ann' });
    expect(done?.steps.b).toMatchObject({
      status: 'success',
      resumePayload: { add: 5 },
      suspendPayload: { reason: 'need add' },
    });
    expect(calls).toEqual([]);
    await weft.close();
  });

  it('S11: a run suspended here is resumed by a child process, and a second resume here is refused', async () => {
    const db = join(dir, 'weft.db');
    const calls: string[] = [];
    const wf = approvalWorkflow(calls);
    const weft = new Weft({ workflows: { wf }, storage: new SqliteStorage({ path: db }), recovery: false });
    const here = await wf.createRun({ runId: 'xp-2' });
    expect((await here.start({ inputData: { n: 1 } })).status).toBe('suspended');
    const [resumed] = await child('approval-process.ts', ['resume', db, 'xp-2']);
    expect(JSON.parse(resumed!).status).toBe('success');
    await expect(here.resume({ resumeData: { add: 1 } })).rejects.toThrow(/expected "suspended"/);
    expect(calls).toEqual(['a', 'b']);
    await weft.close();
  });

  it('a stream opened in a second process replays a finished run’s events, in full or from a seq', async () => {
    const db = join(dir, 'weft.db');
    const calls: string[] = [];
    const wf = approvalWorkflow(calls);
    const weft = new Weft({ workflows: { wf }, storage: new SqliteStorage({ path: db }), recovery: false });
    const r = await wf.createRun({ runId: 'xp-3' });
    const first = await collect(r.stream({ inputData: { n: 1 } }).fullStream);
    const second = await collect(r.resumeStream({ resumeData: { add: 5 } }).fullStream);
    const live = [...first, ...second];
    expect(live.at(-1)!.payload.workflowStatus).toBe('success');

    const replayed = (await child('replay-events.ts', [db, 'xp-3', '0'])).map((l) => JSON.parse(l) as WorkflowEvent);
    expect(replayed).toEqual(live);

    const cut = first.at(-1)!.seq;
    const tail = (await child('replay-events.ts', [db, 'xp-3', String(cut)])).map(
      (l) => JSON.parse(l) as WorkflowEvent,
    );
    expect(tail).toEqual(second);
    await weft.close();
  });
});
