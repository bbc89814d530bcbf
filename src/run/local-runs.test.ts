// What one engine instance holds of its runs in this process: executions, handles, listeners, streams, takeovers.
import { describe, expect, it } from 'vitest';
import type { Execution } from '../engine/execution.js';
import type { WorkflowEvent } from '../events/event-types.js';
import { LocalRuns } from './local-runs.js';

const execution = (runId: string): Execution => ({ runId, finished: Promise.resolve() }) as unknown as Execution;

describe('LocalRuns', () => {
  it('tracks an execution until its own release, which leaves a later execution of the run in place', () => {
    let tracked = 0;
    const local = new LocalRuns(() => tracked++);
    const first = execution('r1');
    const untrackFirst = local.track(first);
    expect(local.execution('r1')).toBe(first);
    const second = execution('r1');
    const untrackSecond = local.track(second);
    untrackFirst();
    expect(local.execution('r1')).toBe(second);
    expect(local.executions()).toEqual([second]);
    untrackSecond();
    expect(local.execution('r1')).toBeUndefined();
    expect(tracked).toBe(2);
  });

  it('holds a handle per run until its release', () => {
    const local = new LocalRuns(() => undefined);
    const handle = { runId: 'r1', workflowId: 'wf' };
    const release = local.holdHandle(handle);
    expect(local.handle('r1')).toBe(handle);
    release();
    expect(local.handle('r1')).toBeUndefined();
  });

  it('finds live listeners by run, and forgets a run whose last listener left', () => {
    const local = new LocalRuns(() => undefined);
    const seen: WorkflowEvent[] = [];
    const stop = local.subscribe('r1', (event) => seen.push(event));
    expect(local.listenersOf('r1')?.size).toBe(1);
    expect(local.listenersOf('r2')).toBeUndefined();
    stop();
    expect(local.listenersOf('r1')).toBeUndefined();
  });

  it('counts the streams that relay a run; a release counts once however often it is called', () => {
    const local = new LocalRuns(() => undefined);
    const a = local.streamRun('r1');
    const b = local.streamRun('r1');
    a();
    a();
    expect(local.isStreamed('r1')).toBe(true);
    b();
    expect(local.isStreamed('r1')).toBe(false);
  });

  it('reports a takeover under way until it settles, failed or not', async () => {
    const local = new LocalRuns(() => undefined);
    let fail!: (error: Error) => void;
    const takeover = new Promise((_, reject) => (fail = reject));
    takeover.catch(() => undefined);
    local.noteTakeover('r1', takeover);
    const stopped = local.stopped('r1');
    expect(stopped).toBeDefined();
    fail(new Error('claimed elsewhere'));
    await stopped;
    expect(local.stopped('r1')).toBeUndefined();
  });
});
