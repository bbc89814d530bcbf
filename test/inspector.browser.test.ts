// The inspector in real headless Chromium: start an approval run, resume it from the generated form, time-travel a run.
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from '../src/server/index.js';
import { createManualClock } from '../src/testing.js';
import { claimInput, jsonInit, openTestServer, testWorkflows, type TestServer } from './server-fixtures.js';

let t: TestServer;
let server: ListeningServer;
let browser: Browser;

beforeAll(async () => {
  t = await openTestServer();
  server = await listen(t.app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

async function openPage(path = '/', base = server.url): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(base + path);
  return page;
}

describe('inspector', () => {
  it('starts an approval run, shows it suspended, resumes it from the form and watches it finish live', async () => {
    const page = await openPage();
    await expect.poll(() => page.locator('.wf-card').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'New run' }).click();
    const dialog = page.locator('dialog');
    await dialog.getByLabel('Workflow').selectOption('expense-approval');
    await dialog.getByLabel('Claim Id').fill('EXP-2001');
    await dialog.getByLabel('Employee').fill('Ann Lee');
    await dialog.getByLabel('Amount').fill('640');
    await dialog.getByLabel('Purpose').fill('Flights to the customer workshop');
    await dialog.getByRole('button', { name: 'Start run' }).click();

    const header = page.locator('.run-header');
    await expect
      .poll(() => header.locator('.badge').getAttribute('data-status'), { timeout: 10_000 })
      .toBe('suspended');
    const panel = page.locator('[data-testid="resume-panel"]');
    await expect.poll(() => panel.textContent()).toContain('Flights to the customer workshop');
    const runId = await page.locator('.run-page').getAttribute('data-run-id');
    expect(runId).toBeTruthy();
    await expect
      .poll(() => page.locator(`.run-item[data-run-id="${runId}"]`).getAttribute('data-status'))
      .toBe('suspended');

    // An empty required field is caught before anything is sent.
    await panel.getByRole('button', { name: 'Resume run' }).click();
    await expect.poll(() => panel.locator('.form-error').textContent()).toContain('Approver is required');

    await panel.getByLabel('Approved').check();
    await panel.getByLabel('Approver').fill('Dana');
    await panel.getByLabel('Comment').fill('Booked through the travel desk');
    await panel.getByRole('button', { name: 'Resume run' }).click();

    await expect.poll(() => header.locator('.badge').getAttribute('data-status'), { timeout: 10_000 }).toBe('success');
    await expect.poll(() => page.locator('.tl-row[data-step="settle"]').getAttribute('data-status')).toBe('success');
    await expect.poll(() => page.locator('.io-grid').textContent()).toContain('Approved by Dana');
    await expect.poll(() => page.locator('.event-row[data-type="workflow-finish"]').count()).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator(`.run-item[data-run-id="${runId}"]`).getAttribute('data-status'))
      .toBe('success');
    expect((await t.weft.getRun(runId!))?.status).toBe('success');
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('time-travels a finished run from its second step and shows the new attempt next to the old', async () => {
    const res = await t.app.request(
      '/api/runs',
      jsonInit('POST', { workflowId: 'arithmetic', inputData: { n: 3 }, wait: true }),
    );
    const { runId } = (await res.json()) as { runId: string };
    const page = await openPage(`/#/runs/${runId}`);
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('success');
    await page.locator('.tl-row[data-step="double"]').first().click();
    await page.getByRole('button', { name: 'Time travel from this step' }).click();
    const dialog = page.locator('dialog');
    await expect.poll(() => dialog.getByLabel('Step', { exact: true }).inputValue()).toBe('double');
    const editor = dialog.getByLabel('Step input as JSON');
    expect(JSON.parse(await editor.inputValue())).toEqual({ n: 4 });
    await editor.fill('{ "n": 10 }');
    await dialog.getByRole('button', { name: 'Travel and run' }).click();

    const current = page.locator('.attempt[data-current="true"]');
    await expect.poll(() => current.getAttribute('data-attempt'), { timeout: 10_000 }).toBe('2');
    const old = page.locator('.attempt[data-attempt="1"]');
    await expect.poll(() => old.count()).toBe(1);
    await expect.poll(() => page.locator('.io-grid').textContent()).toContain('n=20');
    await page.locator('.attempt[data-current="true"] .tl-row[data-step="describe"]').click();
    const compare = page.locator('.detail-card .compare');
    await expect.poll(() => compare.textContent()).toContain('n=8');
    // The current result is the panel's own output, not repeated among the earlier attempts.
    await expect.poll(() => page.locator('.detail-card').textContent()).toContain('n=20');
    expect(await compare.textContent()).not.toContain('n=20');
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('follows a sleeping run live until it finishes, and filters the runs list by status', async () => {
    // The sleeps end when the test moves this engine's clock: the page sees the run waiting however slowly it loads.
    const clock = createManualClock(Date.now());
    const sleepy = await openTestServer({}, testWorkflows, undefined, clock);
    const sleepyServer = await listen(sleepy.app, { port: 0, host: '127.0.0.1' });
    try {
      const res = await sleepy.app.request(
        '/api/runs',
        jsonInit('POST', {
          workflowId: 'trial-reminder',
          inputData: { customer: 'Initech', plan: 'business', trialSeconds: 2 },
        }),
      );
      const { runId } = (await res.json()) as { runId: string };
      const page = await openPage(`/#/runs/${runId}`, sleepyServer.url);
      const badge = page.locator('.run-header .badge');
      await expect.poll(() => badge.getAttribute('data-status'), { timeout: 10_000 }).toBe('waiting');
      await expect
        .poll(() => page.locator('.tl-row[data-step="trial-period"]').getAttribute('data-status'))
        .toBe('waiting');
      await expect.poll(() => page.locator('.live-dot.on').count()).toBe(1);
      // The trial (1.5 s), then the grace period (0.5 s): each wakes once its sleep has begun.
      for (const ms of [1500, 500]) {
        await expect.poll(() => clock.sleepers(), { timeout: 10_000 }).toBe(1);
        clock.advance(ms);
      }
      await expect.poll(() => badge.getAttribute('data-status'), { timeout: 15_000 }).toBe('success');
      await expect.poll(() => page.locator('.event-row[data-type="workflow-step-waiting"]').count()).toBe(2);
      await expect.poll(() => page.locator('.io-grid').textContent()).toContain('converted');

      await sleepy.app.request(
        '/api/runs',
        jsonInit('POST', { workflowId: 'expense-approval', inputData: claimInput, wait: true }),
      );
      const listed = () =>
        page
          .locator('.run-item')
          .evaluateAll((els) => [...new Set(els.map((e) => (e as HTMLElement).dataset.status))].sort().join());
      await expect.poll(listed, { timeout: 5000 }).toBe('success,suspended');
      await page.locator('.chip[data-status="success"]').click();
      await expect.poll(listed).toBe('success');
      await page.locator('.chip[data-status="success"]').click();
      await expect.poll(listed).toBe('success,suspended');
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
      await page.close();
    } finally {
      await sleepyServer.close();
      await sleepy.close();
    }
  });

  it('asks for the token when the server needs one', async () => {
    const { createServer } = await import('../src/server/index.js');
    const app = createServer(t.weft, { token: 'tok-123', logger: { warn() {}, error() {} } });
    const guarded = await listen(app, { port: 0 });
    try {
      const page = await browser.newPage();
      await page.goto(guarded.url);
      const dialog = page.locator('dialog');
      await dialog.getByLabel('API token').fill('tok-123');
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await expect.poll(() => page.locator('.wf-card').count()).toBeGreaterThan(0);
      await page.close();
    } finally {
      await guarded.close();
    }
  });
});
