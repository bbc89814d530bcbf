// Agent steps across crashes, with real processes: a child running the `reply` workflow on a SQLite file is
// killed with SIGKILL, then another process restarts or recovers the run. Model calls are counted in a file
// that every process appends to: a finished agent step is never called again; one interrupted mid-stream
// is called again, and a consumer reconnecting from the last seq it saw gets the new attempt whole.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Weft, type WorkflowEvent } from '../src/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { agentFlow, answerOf } from './fixtures/agent-workflows.js';
import { printed, reap, spawnChild, type Child } from './support/child-processes.js';
import { until } from './support/wait.js';

const FIXTURE = 'test/fixtures/agent-crash-process.ts';
// Each case starts two or three processes that load @mastra/core: seconds each on a busy machine.
const PROCESSES_MS = 120_000;
const dirs: string[] = [];
const children: Child[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await reap(child);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scene() {
  const dir = mkdtempSync(join(tmpdir(), 'weft-agent-crash-'));
  dirs.push(dir);
  const calls = join(dir, 'calls.log');
  const env = { WEFT_DB: join(dir, 'weft.db'), CALLS: calls, RUN_ID: randomUUID() };
  return {
    env,
    count: () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0),
    child(mode: 'start' | 'restart' | 'recover', hold?: 'send' | 'stream') {
      const c = spawnChild(`${mode} process`, FIXTURE, { ...env, MODE: mode, ...(hold ? { HOLD: hold } : {}) });
      children.push(c);
      return c;
    },
  };
}

async function resultOf(c: Child): Promise<any> {
  await printed(c, 'RESULT ', 60_000);
  const line = c
    .output()
    .split('\n')
    .find((l) => l.startsWith('RESULT '))!;
  return JSON.parse(line.slice('RESULT '.length));
}

/** Starts the run in a child that hangs at `hold`, and kills it there. */
async function crashAt(s: ReturnType<typeof scene>, hold: 'send' | 'stream'): Promise<void> {
  const started = s.child('start', hold);
  await printed(started, `HANGING ${hold}`, 60_000);
  if (hold === 'stream') {
    // Let the chunks written so far reach the file (they are stored as they come while a stream listens).
    const storage = new SqliteStorage({ path: s.env.WEFT_DB });
    await storage.init();
    await until(async () => {
      const entries = await storage.readJournal(s.env.RUN_ID);
      return entries.filter((e) => e.type === 'step-output' && e.data.includes('text-delta')).length >= 3;
    });
    await storage.close();
  }
  await reap(started);
}

describe('an agent step across crashes', () => {
  it(
    'that finished is not called again when a new process restarts the run after SIGKILL',
    async () => {
      const s = scene();
      await crashAt(s, 'send');
      expect(s.count()).toBe(1);
      const result = await resultOf(s.child('restart'));
      expect(result.status).toBe('success');
      expect(result.result).toEqual({ sent: answerOf(0) });
      expect(s.count()).toBe(1);
    },
    PROCESSES_MS,
  );

  it(
    "that finished is not called again when another process's recovery continues the run",
    async () => {
      const s = scene();
      await crashAt(s, 'send');
      const view = await resultOf(s.child('recover'));
      expect(view.status).toBe('success');
      expect(view.result).toEqual({ sent: answerOf(0) });
      expect(view.steps.drafter.usage).toMatchObject({ totalTokens: 18, finishReason: 'stop' });
      expect(s.count()).toBe(1);
    },
    PROCESSES_MS,
  );

  it(
    'interrupted mid-stream is called again on recovery, and a consumer reconnecting from its last seq sees the new attempt whole',
    async () => {
      const s = scene();
      await crashAt(s, 'stream');
      expect(s.count()).toBe(1);
      // What a consumer had seen: every event stored before the crash.
      const storage = new SqliteStorage({ path: s.env.WEFT_DB });
      await storage.init();
      const seen = (await storage.readJournal(s.env.RUN_ID)).at(-1)!.seq;
      await storage.close();

      const view = await resultOf(s.child('recover'));
      expect(view.status).toBe('success');
      expect(view.result).toEqual({ sent: answerOf(1) });
      expect(s.count()).toBe(2);

      const reader = new Weft({
        workflows: { reply: agentFlow({ calls: s.env.CALLS }) },
        storage: new SqliteStorage({ path: s.env.WEFT_DB }),
        recovery: false,
      });
      const events: WorkflowEvent[] = [];
      const stream = reader.observeRun(s.env.RUN_ID, { afterSeq: seen }).getReader();
      for (;;) {
        const { value: event } = await stream.read();
        events.push(event!);
        if (event!.type === 'workflow-finish') break;
      }
      await stream.cancel();
      await reader.close();
      expect(events[0]!.seq).toBeGreaterThan(seen);
      expect(events[0]!.type).toBe('workflow-start');
      expect(events[1]).toMatchObject({ type: 'workflow-step-start', payload: { stepName: 'drafter' } });
      const chunks = events.filter((e) => e.type === 'workflow-step-output').map((e) => e.payload.output);
      expect(chunks[0].type).toBe('start');
      expect(chunks.at(-1).type).toBe('finish');
      const text = chunks
        .filter((c) => c.type === 'text-delta')
        .map((c) => c.payload.text)
        .join('');
      expect(text).toBe(answerOf(1));
    },
    PROCESSES_MS,
  );
});
