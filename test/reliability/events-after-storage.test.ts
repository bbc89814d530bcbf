// Live events are shown only once stored: an owner whose write is refused (the run was canceled or
// taken over elsewhere) never shows its events, so a stream that reconnects from a seq it saw
// continues the same history the store holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createStep, createWorkflow, MemoryStorage, Weft, type WeftStorage } from '../../src/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
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

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => { a: WeftStorage; b: WeftStorage }][] = [
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'weft-events-'));
      dirs.push(dir);
      const path = join(dir, 'weft.db');
      return { a: new SqliteStorage({ path }), b: new SqliteStorage({ path }) };
    },
  ],
  [
    'memory',
    () => {
      const shared = new MemoryStorage();
      return { a: shared, b: shared };
    },
  ],
];

describe.each(stores)('events of a refused write, on %s', (_name, open) => {
  it.each(['canceled', 'taken over'] as const)(
    'are never shown when the run was %s elsewhere, and a reconnect from the last seq seen agrees with the store',
    async (how) => {
      const { a, b } = open();
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
    },
  );
});
