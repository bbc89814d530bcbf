// The inspector's schedules page in real headless Chromium: next fires and recent runs, pause, resume and trigger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, Weft } from '../src/index.js';
import { createServer, listen, type ListeningServer } from '../src/server/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-inspector-schedules-'));

const ping = createWorkflow({
  id: 'ping',
  inputSchema: z.object({ host: z.string() }),
  outputSchema: z.object({ ok: z.boolean() }),
  schedule: [
    { id: 'every-second', cron: '* * * * * *', inputData: { host: 'a' } },
    { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Paris', inputData: { host: 'b' } },
  ],
})
  .then(
    createStep({
      id: 'check',
      inputSchema: z.object({ host: z.string() }),
      outputSchema: z.object({ ok: z.boolean() }),
      execute: async () => ({ ok: true }),
    }),
  )
  .commit();

let weft: Weft;
let server: ListeningServer;
let browser: Browser;

beforeAll(async () => {
  weft = new Weft({
    workflows: { ping },
    storage: new SqliteStorage({ path: join(dir, 'inspector.db') }),
    scheduler: { tickIntervalMs: 100 },
  });
  await weft.init();
  server = await listen(createServer(weft), { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await weft?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the inspector schedules page', () => {
  it('lists schedules with their next fire and recent runs, and pauses, resumes and triggers them', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.click('#schedules-link');
    const fast = page.locator('tr[data-schedule="wf_ping__every-second"]');
    const nightly = page.locator('tr[data-schedule="wf_ping__nightly"]');
    await expect.poll(() => fast.count()).toBe(1);
    await expect.poll(() => nightly.locator('.schedule-next').textContent()).toMatch(/^(in \d+ (s|min)|\w{3} \d+)/);
    expect(await nightly.textContent()).toContain('Europe/Paris');
    expect(await nightly.textContent()).toContain('no fire yet');
    // Runs of the fast one show up, linked to their run pages.
    await expect.poll(() => fast.locator('a.schedule-run').count()).toBeGreaterThanOrEqual(2);
    const href = await fast.locator('a.schedule-run').first().getAttribute('href');
    expect(href).toMatch(/^#\/runs\/sched_wf_ping__every-second_\d+$/);
    expect(await fast.locator('a.schedule-run .badge').first().getAttribute('data-status')).toBe('success');

    await fast.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => fast.getAttribute('data-paused')).toBe('true');
    expect((await weft.schedules.get('wf_ping__every-second')).paused).toBe(true);
    await fast.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => fast.getAttribute('data-paused')).toBe('false');

    await nightly.getByRole('button', { name: 'Trigger now' }).click();
    // A trigger of a schedule this server fires opens its run.
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#\/runs\/sched_wf_ping__nightly_\d+$/);
    const runId = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/runs/'.length));
    await expect.poll(async () => (await weft.getRun(runId))?.status).toBe('success');
    expect(errors).toEqual([]);
    await page.close();
  });
});
