// The scenario of the events suites: a run's owner loses it (canceled or taken over by another
// instance) while a step runs; nothing its refused write carried may have been shown live.
import { z } from 'zod';
import { expect } from 'vitest';
import { createStep, createWorkflow, Weft, type WeftStorage } from '../../src/index.js';
import type { WorkflowEvent } from '../../src/events/event-types.js';
import { until } from '../support/wait.js';

/** A two-step workflow whose first step waits for `gate`, and streams a chunk before it does. */
function gatedWorkflow(gate: Promise<void>, started: () => void) {
  const first = createStep({
    id: 'first',
    inputSchema: z.object({}),
    outputSchema: z.object({ done: z.boolean() }),
    execute: async ({ writer }) => {
      await writer.write({ progress: 'half' });
      started();
      await gate;
      return { done: true };
    },
  });
  const second = createStep({
    id: 'second',
    inputSchema: z.object({ done: z.boolean() }),
    outputSchema: z.object({ done: z.boolean() }),
    execute: async ({ inputData }) => inputData,
  });
  return createWorkflow({ id: 'gated', inputSchema: z.object({}), outputSchema: z.any() })
    .then(first)
    .then(second)
    .commit();
}

/** The events a fresh stream replays from the store, after `afterSeq`. */
async function replay(weft: Weft, runId: string, afterSeq = 0): Promise<WorkflowEvent[]> {
  const out: WorkflowEvent[] = [];
  const reader = weft.observeRun(runId, { afterSeq }).getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(next.value);
  return out;
}

/**
 * Runs the scenario on two storages of one store (`a` for the owner, `b` for the other instance):
 * every event a live stream showed is the one the store holds at its seq, the owner's own end of the
 * interrupted step is never shown when the run was canceled, and a replay after the last seq seen
 * continues with what the store holds.
 */
export async function checkRefusedWriteShowsNothing(
  a: WeftStorage,
  b: WeftStorage,
  how: 'canceled' | 'taken over',
): Promise<void> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let running!: () => void;
  const firstRunning = new Promise<void>((resolve) => (running = resolve));
  // The owner does not renew its lease during the test: it learns of the loss from its next write.
  const owner = new Weft({
    workflows: { gated: gatedWorkflow(gate, running) },
    storage: a,
    recovery: false,
    ownershipCheckMs: 60_000,
  });
  const other = new Weft({
    workflows: { gated: gatedWorkflow(Promise.resolve(), () => undefined) },
    storage: b,
    recovery: false,
  });
  try {
    const run = await owner.getWorkflow('gated').createRun();
    const output = run.stream({ inputData: {} });
    const seen: WorkflowEvent[] = [];
    const reading = (async () => {
      for await (const event of output.fullStream) seen.push(event as WorkflowEvent);
    })();
    await firstRunning;
    // The step's output is shown while the step still runs: stored at once for a live reader.
    await until(() => seen.some((e) => e.type === 'workflow-step-output'), 'the step output event');

    const elsewhere = await other.getWorkflow('gated').createRun({ runId: run.runId });
    if (how === 'canceled') await elsewhere.cancel();
    else expect((await elsewhere.restart()).status).toBe('success');

    release(); // the owner's step ends now; its step-end and the next step-start are refused
    await output.result.catch(() => undefined);
    await reading;

    const stored = await replay(other, run.runId);
    const storedBySeq = new Map(stored.map((e) => [e.seq, e]));
    const live = seen.filter((e) => e.seq > 0);
    expect(live.length).toBeGreaterThan(0);
    // Every event shown live is the one the store holds at that seq.
    for (const event of live) expect(storedBySeq.get(event.seq), `seq ${event.seq}`).toEqual(event);
    // The owner's own end of "first" was never shown.
    const ownEnd = live.find((e) => e.type === 'workflow-step-result' && e.payload?.id === 'first');
    if (how === 'canceled') expect(ownEnd).toBeUndefined();
    // A stream reconnecting after the last seq seen continues with what the store holds next.
    const lastSeen = live[live.length - 1]!.seq;
    expect(await replay(other, run.runId, lastSeen)).toEqual(stored.filter((e) => e.seq > lastSeen));
  } finally {
    release();
    await owner.close();
    await other.close();
  }
}
