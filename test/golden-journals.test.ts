// Golden journals: runs stored by an earlier version of the journal format (test/fixtures/golden)
// must read back as they did when written, replay the same events, and still resume and
// time-travel. A change to the journal that breaks stored runs fails here, not in production.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../src/index.js';
import type { WorkflowEvent } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import {
  foreach,
  goldenWorkflows,
  loop,
  nested,
  nestedSuspended,
  parallel,
  sequence,
  suspended,
} from './fixtures/golden/workflows.js';

const GOLDEN = join(import.meta.dirname, 'fixtures/golden');

/** The journals kept, one per format: the file and what its runs read back as when written. */
const FORMATS = ['journal-v3'];

interface Recorded {
  read: Record<string, unknown>;
  events: WorkflowEvent[];
}

type Json = Record<string, any>;

/** The fields of a step result whose meaning a format change must keep. */
function stepFacts(step: Json): Json {
  return {
    status: step.status,
    payload: step.payload,
    output: step.output,
    suspendPayload: step.suspendPayload,
    resumePayload: step.resumePayload,
    error: step.error?.message,
  };
}

/** The fields of a read run whose meaning a format change must keep (not times, not additions). */
function runFacts(read: Json): Json {
  const steps = Object.fromEntries(Object.entries(read.steps as Json).map(([id, step]) => [id, stepFacts(step)]));
  return {
    status: read.status,
    result: read.result,
    error: read.error?.message,
    payload: read.payload,
    steps,
    attempts: ((read.attempts as Json[] | undefined) ?? []).map((a) => Object.keys(a.steps as Json).sort()),
  };
}

/** An event's identity and data: kind, seq, step and what it carried. */
function eventFacts(event: Json): Json {
  const p = (event.payload ?? {}) as Json;
  return { type: event.type, seq: event.seq, id: p.id ?? p.stepName, status: p.status, output: p.output };
}

const dirs: string[] = [];
const wefts: Weft[] = [];
afterEach(async () => {
  await Promise.all(wefts.splice(0).map((w) => w.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Weft over a fresh copy of the golden file (the checked-in file is never written). */
function openCopy(format: string): Weft {
  const dir = mkdtempSync(join(tmpdir(), 'weft-golden-'));
  dirs.push(dir);
  const path = join(dir, 'golden.db');
  copyFileSync(join(GOLDEN, `${format}.db`), path);
  const weft = new Weft({ workflows: goldenWorkflows, storage: new SqliteStorage({ path }) });
  wefts.push(weft);
  return weft;
}

async function events(weft: Weft, runId: string): Promise<WorkflowEvent[]> {
  const seen: WorkflowEvent[] = [];
  for await (const event of weft.observeRun(runId) as unknown as AsyncIterable<WorkflowEvent>) seen.push(event);
  return seen;
}

describe.each(FORMATS)('golden journal %s', (format) => {
  const recorded = JSON.parse(readFileSync(join(GOLDEN, `${format}.expected.json`), 'utf8')) as Record<
    string,
    Recorded
  >;
  const runIds = Object.keys(recorded);

  it('holds a run of every shape', () => {
    expect(runIds.sort()).toEqual([
      'foreach-done',
      'loop-done',
      'nested-done',
      'nested-suspended-waiting',
      'parallel-done',
      'retried-done',
      'retried-failed',
      'sequence-done',
      'sequence-travelled',
      'suspended-resumed',
      'suspended-waiting',
    ]);
  });

  it.each(runIds)('reads run %s back as it was written', async (runId) => {
    const weft = openCopy(format);
    const { read } = recorded[runId]!;
    const wf = weft.getWorkflow(read.workflowName as string);
    const now = await wf.getWorkflowRunById(runId);
    expect(now).not.toBeNull();
    expect(runFacts(now as Json)).toEqual(runFacts(read));
  });

  it.each(runIds)('replays the events of run %s with their seqs', async (runId) => {
    const weft = openCopy(format);
    const now = await events(weft, runId);
    expect(now.map(eventFacts)).toEqual(recorded[runId]!.events.map(eventFacts));
  });

  it('resumes a suspended run without running its finished step again', async () => {
    const weft = openCopy(format);
    const before = (await suspended.getWorkflowRunById('suspended-waiting')) as Json;
    const run = await suspended.createRun({ runId: 'suspended-waiting' });
    const result = await run.resume({ resumeData: { approver: 'lee' } });
    expect(result.status).toBe('success');
    expect(result.status === 'success' && result.result).toEqual({ n: 50, approver: 'lee' });
    const after = (await suspended.getWorkflowRunById('suspended-waiting')) as Json;
    expect(after.steps.prepare).toEqual(before.steps.prepare);
    expect(after.steps.approve.resumePayload).toEqual({ approver: 'lee' });
    expect(weft.getWorkflow('golden-suspended')).toBe(suspended);
  });

  it('resumes a run suspended inside a nested workflow by its path', async () => {
    openCopy(format);
    const run = await nestedSuspended.createRun({ runId: 'nested-suspended-waiting' });
    const result = await run.resume({ step: ['golden-inner-approval', 'approve'], resumeData: { approver: 'ana' } });
    expect(result.status).toBe('success');
    expect(result.status === 'success' && result.result).toEqual({ n: 1007, approver: 'ana' });
  });

  it('time-travels stored runs of every shape from their stored data', async () => {
    openCopy(format);
    const travel = async (wf: any, runId: string, step: string) => {
      const run = await wf.createRun({ runId });
      return (await run.timeTravel({ step })) as Json;
    };
    expect((await travel(sequence, 'sequence-done', 'c')).result).toEqual({ n: 112 });
    expect((await travel(parallel, 'parallel-done', 'join')).result).toEqual({ n: 5 });
    expect((await travel(loop, 'loop-done', 'done')).result).toEqual({ n: 6 });
    expect((await travel(nested, 'nested-done', 'after')).result).toEqual({ n: 104 });
    expect((await travel(foreach, 'foreach-done', 'total')).result).toEqual({ n: 30 });
    const again = (await sequence.getWorkflowRunById('sequence-done')) as Json;
    expect(again.attempts).toHaveLength(1);
    expect(again.attempts[0].steps.c.output).toEqual({ n: 112 });
  });

  it('time-travels with supplied input a run that was time-travelled before', async () => {
    openCopy(format);
    const run = await sequence.createRun({ runId: 'sequence-travelled' });
    const result = (await run.timeTravel({ step: 'c', inputData: { n: 1 } })) as Json;
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ n: 101 });
    const read = (await sequence.getWorkflowRunById('sequence-travelled')) as Json;
    expect(read.attempts).toHaveLength(2);
  });
});
