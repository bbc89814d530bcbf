// Conformance of init() and of values: JSON text is stored byte for byte, ids and numbers round-trip.
import { describe, expect, it } from 'vitest';
import type { CurrentStorage } from './fixtures.js';
import { T0, claimRun, entry, newRun } from './fixtures.js';

/** JSON texts that an adapter must keep exactly, whitespace and escapes included. */
const AWKWARD_JSON = [
  '{"text":"héllo wörld — 你好 — مرحبا — 🧵🪡","emoji":"👩‍👩‍👧‍👦"}',
  '{ "spaced" :  [ 1 , 2 ] ,\n\t"keys":{"b":1,"a":2} }',
  '{"escaped":"\\u0000\\u001f\\"\\\\\\/\\ud83d\\ude00","lone":"\\ud800"}',
  '{"big":12345678901234567890123,"float":1.0,"exp":1e400,"neg":-0}',
  '"a plain string"',
  'null',
  '[]',
];

/** Registers the tests of initialisation and of the exact storage of values. */
export function describeValuesAndLifecycle(current: CurrentStorage): void {
  describe('init', () => {
    it('can be called again without harm and keeps what is stored', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      await current().appendJournal('r1', epoch, [entry(1)]);
      await current().init();
      await current().init();
      expect((await current().getRun('r1'))?.epoch).toBe(epoch);
      expect(await current().readJournal('r1')).toEqual([entry(1)]);
    });

    it('names its kind', () => {
      expect(typeof current().kind).toBe('string');
      expect(current().kind.length).toBeGreaterThan(0);
    });
  });

  describe('values', () => {
    it('stores journal data as the exact JSON text given', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const batch = AWKWARD_JSON.map((data, i) => entry(i + 1, 'custom', data));
      await current().appendJournal('r1', epoch, batch);
      const read = await current().readJournal('r1');
      expect(read.map((e) => e.data)).toEqual(AWKWARD_JSON);
    });

    it('stores run input and outcome as the exact JSON text given', async () => {
      await current().createRun(newRun('r1'));
      for (const text of AWKWARD_JSON) {
        await current().updateRun('r1', {}, { input: text, outcome: text, updatedAt: T0 + 1 });
        const row = await current().getRun('r1');
        expect(row?.input).toBe(text);
        expect(row?.outcome).toBe(text);
      }
    });

    it('keeps a large JSON text whole', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const big = JSON.stringify({ blob: 'x'.repeat(1_000_000), list: Array.from({ length: 1000 }, (_, i) => i) });
      await current().appendJournal('r1', epoch, [entry(1, 'step-end', big)]);
      expect((await current().readJournal('r1'))[0]?.data).toBe(big);
    });

    it('round-trips ids with unicode, quotes and SQL-looking text', async () => {
      const ids = ["r'1", 'r"2', 'рун-3 🧵', "x'); DROP TABLE runs; --", 'with space', '%_wild'];
      for (const runId of ids) {
        await current().createRun(newRun(runId, { workflowId: `wf ${runId}`, resourceId: `res ${runId}` }));
      }
      for (const runId of ids) {
        const row = await current().getRun(runId);
        expect(row).toMatchObject({ runId, workflowId: `wf ${runId}`, resourceId: `res ${runId}` });
      }
      expect((await current().listRuns({ resourceId: 'res %_wild' })).runs.map((r) => r.runId)).toEqual(['%_wild']);
      expect((await current().listRuns({ resourceId: 'res %' })).total).toBe(0);
    });

    it('round-trips times beyond 32 bits and entry times exactly', async () => {
      const far = 8_640_000_000_000_000;
      await current().createRun(newRun('r1', { createdAt: far }));
      const row = await current().updateRun(
        'r1',
        {},
        { status: 'running', leaseExpiresAt: far, wakeAt: far, updatedAt: far, bumpEpoch: true },
      );
      expect(row).toMatchObject({ createdAt: far, updatedAt: far, leaseExpiresAt: far, wakeAt: far });
      await current().appendJournal('r1', 1, [{ seq: 1, type: 'run-start', data: '{}', at: far }]);
      expect((await current().readJournal('r1'))[0]?.at).toBe(far);
      expect(typeof (await current().getRun('r1'))?.epoch).toBe('number');
    });

    it('round-trips every journal entry type', async () => {
      const { epoch } = await claimRun(current(), 'r1');
      const types = [
        'run-start',
        'run-resume',
        'run-restart',
        'run-time-travel',
        'step-start',
        'step-end',
        'step-retry',
        'branch',
        'nested-retry',
        'step-output',
        'custom',
        'run-cancel',
        'run-pause',
        'run-end',
      ] as const;
      const batch = types.map((type, i) => entry(i + 1, type));
      await current().appendJournal('r1', epoch, batch);
      expect(await current().readJournal('r1')).toEqual(batch);
    });
  });
}
