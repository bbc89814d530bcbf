// What a long run costs in SQLite: bytes and rows proportional to steps, and no per-step cost growth (SO6).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft, cloneStep, createStep, createWorkflow } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';

const n = z.object({ n: z.number() });
const inc = createStep({
  id: 'inc',
  inputSchema: n,
  outputSchema: n,
  execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
});

function chain(length: number) {
  let wf = createWorkflow({ id: `chain${length}`, inputSchema: n, outputSchema: n });
  for (let i = 0; i < length; i++) wf = wf.then(cloneStep(inc, { id: `s${i}` }));
  return wf.commit();
}

let files = 0;
const dir = mkdtempSync(join(tmpdir(), 'weft-growth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Measure {
  bytes: number;
  rows: number;
  ms: number;
  /** Journal bytes written for the first and the last 100 steps. */
  firstBytes: number;
  lastBytes: number;
}

/** Runs a chain of `length` steps on a fresh SQLite file and measures what it wrote. */
async function measure(length: number): Promise<Measure> {
  const path = join(dir, `run-${length}-${++files}.db`);
  const empty = new SqliteStorage({ path });
  await empty.init();
  await empty.close();
  const before = statSync(path).size;

  const wf = chain(length);
  const storage = new SqliteStorage({ path });
  const weft = new Weft({ workflows: { wf }, storage, recovery: false });
  const run = await wf.createRun();
  const t0 = performance.now();
  const r = await run.start({ inputData: { n: 0 } });
  const ms = performance.now() - t0;
  expect(r.status).toBe('success');
  expect(r.result).toEqual({ n: length });
  const journal = await storage.readJournal(run.runId);
  const stepBytes = (from: number, to: number): number =>
    journal
      .filter(
        (e) =>
          e.type.startsWith('step-') && Number(JSON.parse(e.data).key) >= from && Number(JSON.parse(e.data).key) < to,
      )
      .reduce((sum, e) => sum + e.data.length, 0);
  await weft.close(); // checkpoints the WAL into the file
  return {
    bytes: statSync(path).size - before,
    rows: journal.length,
    ms,
    firstBytes: stepBytes(0, 100),
    lastBytes: stepBytes(length - 100, length),
  };
}

describe('storage growth', () => {
  it('SO6: a 1,000-step run writes bytes and journal rows proportional to its steps, with no per-step growth', async () => {
    await measure(250); // warm-up: module loading and JIT
    // Timings are the best of two, as other work on the machine adds noise.
    const shorts = [await measure(250), await measure(250)];
    const longs = [await measure(1000), await measure(1000)];
    const short = { ...shorts[0]!, ms: Math.min(...shorts.map((m) => m.ms)) };
    const long = { ...longs[0]!, ms: Math.min(...longs.map((m) => m.ms)) };
    const perStep = { short: short.bytes / 250, long: long.bytes / 1000 };
    console.log(
      `storage growth: ${perStep.long.toFixed(0)} bytes/step over 1,000 steps (${perStep.short.toFixed(0)} over 250); ` +
        `${long.rows} journal rows; ${(long.ms / 1000).toFixed(3)} ms/step (${(short.ms / 250).toFixed(3)} over 250)`,
    );
    // Rows: a start and an end per step, plus a constant few for the run.
    expect(long.rows).toBeLessThanOrEqual(2 * 1000 + 4);
    expect(long.rows - short.rows).toBe(2 * 750);
    // Bytes: small outputs stay small per step, and a longer run does not cost more per step.
    expect(perStep.long).toBeLessThan(1024);
    expect(perStep.long).toBeLessThan(perStep.short * 1.5);
    // The last 100 steps of a run write what its first 100 did: nothing carried forward grows.
    expect(long.lastBytes).toBeLessThan(long.firstBytes * 1.2);
    // Time: four times the steps must not take much more than four times as long (quadratic would be 16x).
    expect(long.ms / 1000).toBeLessThan((short.ms / 250) * 3);
  });
});
