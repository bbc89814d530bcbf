// Schedules from the HTTP API and the `weft schedules` command: list with next fires and recent runs,
// pause, resume, trigger and delete, and runs listed by schedule id.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Weft, createStep, createWorkflow } from '../src/index.js';
import { createServer } from '../src/server/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { until } from './support/wait.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'weft-schedule-surfaces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nightly() {
  const step = createStep({
    id: 'count',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
  });
  return createWorkflow({
    id: 'nightly',
    inputSchema: z.object({ n: z.number() }),
    outputSchema: z.object({ n: z.number() }),
    schedule: [{ id: 'fast', cron: '* * * * * *', inputData: { n: 1 }, metadata: { owner: 'ops' } }],
  })
    .then(step)
    .commit();
}
const SCHEDULE = 'wf_nightly__fast';

/** Runs the weft command; resolves with its exit code and output. */
function weft(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', WEFT_DB: '', WEFT_WORKFLOWS: '' } },
      (error, stdout, stderr) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('schedules', () => {
  it('are listed, paused, resumed, triggered and deleted over the HTTP API', async () => {
    const weft = new Weft({
      workflows: { nightly: nightly() },
      storage: new SqliteStorage({ path: join(dir, 'api.db') }),
      scheduler: { tickIntervalMs: 100 },
    });
    const app = createServer(weft);
    const json = async (method: string, path: string) => {
      const res = await app.request(`/api${path}`, { method, headers: { Host: 'localhost' } });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      await until(async () => (await json('GET', `/runs?scheduleId=${SCHEDULE}`)).body.total >= 1, 'a fire');
      const listed = await json('GET', '/schedules');
      expect(listed.status).toBe(200);
      expect(listed.body.schedules).toHaveLength(1);
      const [row] = listed.body.schedules;
      expect(row).toMatchObject({
        scheduleId: SCHEDULE,
        workflowId: 'nightly',
        cron: '* * * * * *',
        paused: false,
        overlap: 'skip',
        catchup: 'latest',
        metadata: { owner: 'ops' },
        declaredHere: true,
      });
      expect(Date.parse(row.nextFireAt)).toBeGreaterThan(Date.now() - 1500);
      expect(row.recentRuns[0].runId).toMatch(/^sched_wf_nightly__fast_\d+$/);
      const runs = await json('GET', `/runs?scheduleId=${SCHEDULE}`);
      expect(runs.body.runs[0]).toMatchObject({ scheduleId: SCHEDULE, workflowName: 'nightly' });

      expect((await json('POST', `/schedules/${SCHEDULE}/pause`)).body.paused).toBe(true);
      const triggered = await json('POST', `/schedules/${SCHEDULE}/trigger`);
      expect(triggered).toMatchObject({ status: 201, body: { scheduleId: SCHEDULE, startedHere: true } });
      await until(async () => (await weft.getRun(triggered.body.runId))?.status === 'success', 'the triggered run');
      const one = await json('GET', `/schedules/${SCHEDULE}`);
      expect(one.body.recentRuns[0]).toMatchObject({ runId: triggered.body.runId, manual: true, status: 'success' });
      expect((await json('POST', `/schedules/${SCHEDULE}/resume`)).body.paused).toBe(false);
      expect(await json('DELETE', `/schedules/${SCHEDULE}`)).toEqual({
        status: 200,
        body: { scheduleId: SCHEDULE, deleted: true },
      });
      const missing = await json('POST', '/schedules/wf_nope/trigger');
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({
        code: 'SCHEDULE_NOT_FOUND',
        message: expect.stringContaining('"wf_nope"'),
      });
    } finally {
      await weft.close();
    }
  });

  it('are listed, paused, triggered and resumed by weft schedules, on the store alone', async () => {
    const db = join(dir, 'cli.db');
    const firing = new Weft({
      workflows: { nightly: nightly() },
      storage: new SqliteStorage({ path: db }),
      scheduler: { tickIntervalMs: 100 },
    });
    await until(async () => (await firing.listRuns({ scheduleId: SCHEDULE, status: 'success' })).total >= 1, 'a fire');
    await firing.close();

    const list = await weft('schedules', 'list', '--db', db, '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).schedules[0]).toMatchObject({ scheduleId: SCHEDULE, paused: false });
    const table = await weft('schedules', 'list', '--db', db);
    expect(table.stdout).toMatch(/SCHEDULE\s+WORKFLOW\s+CRON\s+STATE\s+NEXT FIRE\s+LAST FIRE\s+LAST RUN/);
    expect(table.stdout).toContain(`${SCHEDULE}  nightly`);

    expect(JSON.parse((await weft('schedules', 'pause', SCHEDULE, '--db', db, '--json')).stdout).paused).toBe(true);
    const trigger = await weft('schedules', 'trigger', SCHEDULE, '--db', db, '--json');
    const { runId } = JSON.parse(trigger.stdout);
    expect(runId).toMatch(/^sched_wf_nightly__fast_\d+$/);
    // Stored pending, for a process that fires the schedule to start.
    const runs = JSON.parse((await weft('runs', 'list', '--schedule', SCHEDULE, '--db', db, '--json')).stdout);
    expect(runs.runs.find((r: { runId: string }) => r.runId === runId)).toMatchObject({
      status: 'pending',
      scheduleId: SCHEDULE,
    });
    const resumed = await weft('schedules', 'resume', SCHEDULE, '--db', db);
    expect(resumed.stdout).toContain(`resumed schedule ${SCHEDULE}; next fire`);
    const missing = await weft('schedules', 'pause', 'wf_nope', '--db', db);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`Schedule "wf_nope" not found; stored schedules: "${SCHEDULE}"`);

    // A process that fires the schedule starts the triggered run.
    const serving = new Weft({
      workflows: { nightly: nightly() },
      storage: new SqliteStorage({ path: db }),
      scheduler: { tickIntervalMs: 100 },
    });
    try {
      await until(async () => (await serving.getRun(runId))?.status === 'success', 'the triggered run to run', 10_000);
      expect((await serving.getRun(runId))?.result).toEqual({ n: 2 });
    } finally {
      await serving.close();
    }
  });
});
