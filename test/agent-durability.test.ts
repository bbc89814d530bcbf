// An agent step that finished is never called again: not on the resume of a later step, not in another
// engine over the same file, not on time travel to a later step; time travel to the agent step calls it
// again and keeps the earlier answer as an earlier attempt. Model calls are counted in a file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { agentFlow, answerOf } from './fixtures/agent-workflows.js';

const dirs: string[] = [];
const engines: Weft[] = [];
afterEach(async () => {
  for (const weft of engines.splice(0)) await weft.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scene() {
  const dir = mkdtempSync(join(tmpdir(), 'weft-agent-'));
  dirs.push(dir);
  const calls = join(dir, 'calls.log');
  return {
    db: join(dir, 'weft.db'),
    calls,
    count: () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0),
  };
}

function engine(db: string, calls: string, approval = true) {
  const weft = new Weft({
    workflows: { reply: agentFlow({ calls, approval }) },
    storage: new SqliteStorage({ path: db }),
    recovery: false,
  });
  engines.push(weft);
  return weft;
}

describe('an agent step that finished', () => {
  it('is not called again when a later step is resumed, in this engine or another one over the same file', async () => {
    const s = scene();
    const first = engine(s.db, s.calls);
    const run = await first.getWorkflow('reply').createRun();
    expect((await run.start({ inputData: { prompt: 'Printer on fire' } })).status).toBe('suspended');
    expect(s.count()).toBe(1);

    const other = engine(s.db, s.calls);
    const again = await other.getWorkflow('reply').createRun({ runId: run.runId });
    const result = await again.resume({ step: 'approve', resumeData: { approved: true } });
    expect(result.status).toBe('success');
    expect(result.result).toEqual({ sent: answerOf(0) });
    expect(s.count()).toBe(1);
  });

  it('is not called again by a time travel to a later step', async () => {
    const s = scene();
    const weft = engine(s.db, s.calls, false);
    const run = await weft.getWorkflow('reply').createRun();
    await run.start({ inputData: { prompt: 'Printer on fire' } });
    const travelled = await run.timeTravel({ step: 'send' });
    expect(travelled.status).toBe('success');
    expect(travelled.result).toEqual({ sent: answerOf(0) });
    expect(s.count()).toBe(1);
  });

  it('is called again by a time travel to it, and its earlier answer stays readable as an earlier attempt', async () => {
    const s = scene();
    const weft = engine(s.db, s.calls, false);
    const run = await weft.getWorkflow('reply').createRun();
    await run.start({ inputData: { prompt: 'Printer on fire' } });
    const travelled = await run.timeTravel({ step: 'drafter', inputData: { prompt: 'Printer on fire' } });
    expect(travelled.status).toBe('success');
    expect(travelled.result).toEqual({ sent: answerOf(1) });
    expect(s.count()).toBe(2);
    const view = (await weft.getRun(run.runId))!;
    expect(view.steps.drafter!.output).toEqual({ text: answerOf(1) });
    expect(view.attempts).toHaveLength(1);
    expect(view.attempts[0]!.steps.drafter!.output).toEqual({ text: answerOf(0) });
    expect(view.attempts[0]!.steps.drafter!.usage).toMatchObject({ totalTokens: 18, modelId: 'mock-1' });
    // Both answers were paid for: the run's total counts the earlier attempt too.
    expect(view.usage).toEqual({ inputTokens: 22, outputTokens: 14, totalTokens: 36 });
  });
});
