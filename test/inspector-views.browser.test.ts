// The inspector in real headless Chromium at five widths: layout, restart, retries, time travel, foreach, graph and start-page counts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow, Weft } from '../src/index.js';
import { listen, type ListeningServer } from '../src/server/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { eventually, jsonInit, openTestServer, testWorkflows, type TestServer } from './server-fixtures.js';

const WIDTHS = [1440, 1180, 1024, 800, 600];
/** Where to save a screenshot of each page at each width (set it to look at them). */
const SHOTS = process.env.WEFT_SCREENSHOTS;

const word = z.object({ text: z.string() });
const echo = (id: string) =>
  createStep({ id, inputSchema: word, outputSchema: word, execute: async ({ inputData }) => inputData });
/** A branch: short texts go one way, long ones the other. */
const routing = createWorkflow({ id: 'routing', inputSchema: word, outputSchema: z.any() })
  .then(echo('read'))
  .branch([
    [async ({ inputData }) => inputData.text.length < 5, echo('short-path')],
    [async ({ inputData }) => inputData.text.length >= 5, echo('long-path')],
  ])
  .commit();

/** A workflow whose one step holds until its run is canceled; one object per engine instance (registration binds it). */
const held = () =>
  createWorkflow({ id: 'held', inputSchema: z.object({}), outputSchema: z.any() })
    .then(
      createStep({
        id: 'hold',
        inputSchema: z.object({}),
        outputSchema: z.any(),
        execute: ({ abortSignal }) =>
          new Promise((resolve) => abortSignal.addEventListener('abort', () => resolve({ stopped: true }))),
      }),
    )
    .commit();

/** Opens for the items of the `leads` foreach: an item finishes once its gate opens, or fails when its run is canceled. */
const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
function gate(email: string): { opened: Promise<void>; open: () => void } {
  let entry = gates.get(email);
  if (!entry) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    entry = { opened, open };
    gates.set(email, entry);
  }
  return entry;
}
const lead = z.object({ email: z.string() });
/** A foreach, three items at a time, whose items finish only when the test opens their gates. */
const leads = createWorkflow({
  id: 'leads',
  inputSchema: z.object({ emails: z.array(z.string()) }),
  outputSchema: z.any(),
})
  .then(
    createStep({
      id: 'split-leads',
      inputSchema: z.object({ emails: z.array(z.string()) }),
      outputSchema: z.array(lead),
      execute: async ({ inputData }) => inputData.emails.map((email) => ({ email })),
    }),
  )
  .foreach(
    createStep({
      id: 'enrich-lead',
      inputSchema: lead,
      outputSchema: lead,
      execute: async ({ inputData, abortSignal }) => {
        const canceled = new Promise<void>((resolve) => abortSignal.addEventListener('abort', () => resolve()));
        await Promise.race([gate(inputData.email).opened, canceled]);
        if (abortSignal.aborted) throw new Error(`Lookup of ${inputData.email} was canceled`);
        return inputData;
      },
    }),
    { concurrency: 3 },
  )
  .commit();

let t: TestServer;
let server: ListeningServer;
let browser: Browser;

beforeAll(async () => {
  t = await openTestServer({}, { ...testWorkflows, routing, held: held(), leads });
  server = await listen(t.app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

type CheckedPage = Page & { errors: string[] };

/** A duration as the inspector prints it: `7.5 ms`, `840 ms`, `1.2 s` (a loaded machine makes milliseconds seconds). */
const DURATION_TEXT = String.raw`\d+(?:\.\d)? m?s`;
const DURATION = new RegExp(`^${DURATION_TEXT}$`);

/** The milliseconds of a DURATION text. */
function milliseconds(text: string): number {
  const [value, unit] = text.split(' ');
  return Number(value) * (unit === 's' ? 1000 : 1);
}

async function openPage(path = '/', width = 1440, base = server.url): Promise<CheckedPage> {
  const page = (await browser.newPage({ viewport: { width, height: 900 } })) as CheckedPage;
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(base + path);
  return page;
}

async function startRun(workflowId: string, inputData: unknown, wait = true): Promise<string> {
  const res = await t.app.request('/api/runs', jsonInit('POST', { workflowId, inputData, wait }));
  const body = (await res.json()) as { runId: string };
  expect(body.runId).toBeTruthy();
  return body.runId;
}

/** Layout faults the page shows at its width, as readable sentences (none expected). */
function layoutFaults(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const faults: string[] = [];
    const box = (el: Element): DOMRect => el.getBoundingClientRect();
    const overlap = (a: DOMRect, b: DOMRect): boolean =>
      a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1)
      faults.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${vw} px window`);
    const main = document.querySelector('.main')!;
    if (main.scrollWidth > main.clientWidth + 1)
      faults.push(`the main area overflows: ${main.scrollWidth} > ${main.clientWidth}`);
    for (const el of Array.from(document.querySelectorAll('.run-item, .wf-card, .stat-tile, .card'))) {
      const r = box(el);
      if (r.width > 0 && (r.right > vw + 1 || r.left < -1))
        faults.push(`${el.className} spans ${r.left}-${r.right} of ${vw}`);
    }
    for (const axis of Array.from(document.querySelectorAll('.tl-axis'))) {
      const labels = Array.from(axis.querySelectorAll('span')).filter((s) => getComputedStyle(s).display !== 'none');
      for (let i = 1; i < labels.length; i++)
        if (overlap(box(labels[i - 1]!), box(labels[i]!)))
          faults.push(`axis labels "${labels[i - 1]!.textContent}" and "${labels[i]!.textContent}" overlap`);
    }
    for (const dur of Array.from(document.querySelectorAll('.tl-dur'))) {
      const card = box(dur.closest('.card')!);
      const r = box(dur);
      if (r.right > card.right + 1) faults.push(`the Took cell "${dur.textContent}" is cut off by its card`);
      if ((dur as HTMLElement).scrollWidth > (dur as HTMLElement).clientWidth + 1)
        faults.push(`the Took cell "${dur.textContent}" is clipped`);
    }
    const steps = document.querySelector('.attempt');
    if (steps && box(steps).width < 300) faults.push(`the Steps card is only ${box(steps).width} px wide`);
    const detail = document.querySelector('.detail-card');
    for (const other of Array.from(document.querySelectorAll('.io-grid .card, .attempt, .graph-card'))) {
      if (detail && overlap(box(detail), box(other)))
        faults.push(`the step panel covers the ${other.querySelector('.card-title')?.textContent} card`);
    }
    return faults;
  });
}

async function shoot(page: Page, name: string, width: number): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
}

describe('inspector views', () => {
  it('lays out the start page and run pages without overlap or overflow at 1440, 1180, 1024, 800 and 600 px', async () => {
    const retried = await startRun('sync-inventory', { warehouse: 'north', flakyAttempts: 2 });
    const nested = await startRun('publish-article', { slug: 'layout-check' });
    for (const width of WIDTHS) {
      const home = await openPage('/', width);
      await expect.poll(() => home.locator('.stat-tile').count()).toBe(7);
      await expect.poll(() => home.locator('.run-item').count()).toBeGreaterThan(1);
      expect(await layoutFaults(home), `start page at ${width} px`).toEqual([]);
      await shoot(home, 'home', width);
      await home.close();
      for (const [name, runId, step] of [
        ['run-retried', retried, 'fetch-counts'],
        ['run-nested', nested, 'render-html'],
      ] as const) {
        const page = await openPage(`/#/runs/${runId}`, width);
        await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('success');
        await page.locator(`.tl-row[data-step="${step}"]`).click();
        await expect.poll(() => page.locator('.detail-card').getAttribute('data-step')).toBe(step);
        expect(await layoutFaults(page), `${name} at ${width} px`).toEqual([]);
        await shoot(page, name, width);
        expect(page.errors).toEqual([]);
        await page.close();
      }
    }
  }, 120_000);

  it('offers restart only for a run whose owner is gone, and explains it before restarting', async () => {
    // A healthy running run: its owner holds the lease.
    const live = await startRun('slow', {}, false);
    const page = await openPage(`/#/runs/${live}`);
    const restart = page.locator('.run-actions [data-action="restart"]');
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('running');
    expect(await restart.isDisabled()).toBe(true);
    expect(await restart.getAttribute('title')).toContain('still holds it');
    await t.app.request(`/api/runs/${live}/cancel`, jsonInit('POST', {}));

    // A sleeping run says when it wakes, not how long it has run.
    const sleeping = await startRun('trial-reminder', { customer: 'Acme', plan: 'team', trialSeconds: 120 }, false);
    await page.goto(`${server.url}/#/runs/${sleeping}`);
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('waiting');
    await expect.poll(() => page.locator('.run-age').textContent()).toMatch(/^sleeping, wakes in 1 min \d+ s$/);
    expect(await restart.isDisabled()).toBe(true);
    await t.app.request(`/api/runs/${sleeping}/cancel`, jsonInit('POST', {}));

    // A run whose process went away (another instance on the same file, closed mid-step).
    const owner = new Weft({
      workflows: { held: held() },
      storage: new SqliteStorage({ path: t.dbPath }),
      recovery: false,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const run = await owner.getWorkflow('held').createRun();
    await run.startAsync({ inputData: {} });
    await eventually(async () => ((await t.weft.getRun(run.runId))?.steps.hold ? true : undefined));
    await owner.close();
    await page.goto(`${server.url}/#/runs/${run.runId}`);
    await expect.poll(() => page.locator('.banner-orphaned').count()).toBe(1);
    expect(await restart.isDisabled()).toBe(false);
    await restart.click();
    const dialog = page.locator('dialog');
    await expect.poll(() => dialog.textContent()).toContain('its lease expired');
    await dialog.getByRole('button', { name: 'Restart run' }).click();
    await expect
      .poll(async () => (await t.weft.storage.getRun(run.runId))?.leaseExpiresAt ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(Date.now());
    await expect.poll(() => page.locator('.banner-orphaned').count(), { timeout: 10_000 }).toBe(0);
    expect(page.errors).toEqual([]);
    await t.app.request(`/api/runs/${run.runId}/cancel`, jsonInit('POST', {}));
    await page.close();
  }, 60_000);

  it('shows each attempt of a retried step in the step panel, the timeline and the graph', async () => {
    const runId = await startRun('sync-inventory', { warehouse: 'east', flakyAttempts: 2 });
    const page = await openPage(`/#/runs/${runId}`);
    const row = page.locator('.tl-row[data-step="fetch-counts"]');
    await expect.poll(() => row.locator('.tag-tries').textContent()).toBe('×3');
    expect(await row.locator('.bar-try').count()).toBe(3);
    expect(await row.locator('.bar-try').evaluateAll((bars) => bars.map((b) => b.classList[1]))).toEqual([
      'bar-failed',
      'bar-failed',
      'bar-success',
    ]);
    await row.click();
    const tries = page.locator('.detail-card .try');
    await expect.poll(() => tries.count()).toBe(3);
    for (const i of [0, 1]) {
      expect(await tries.nth(i).getAttribute('data-status')).toBe('failed');
      expect(await tries.nth(i).locator('.try-error').textContent()).toBe('Warehouse API of "east" timed out');
      expect(await tries.nth(i).locator('.try-took').textContent()).toMatch(DURATION);
    }
    expect(await tries.nth(2).getAttribute('data-status')).toBe('success');
    expect(await page.locator('.detail-took').textContent()).toMatch(
      new RegExp(`^3 attempts, ${DURATION_TEXT} in all \\(last took ${DURATION_TEXT}\\)$`),
    );
    expect(await page.locator('.graph-card .fg-node[data-step="fetch-counts"] .fg-tries').textContent()).toBe('×3');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('after time travel: earlier attempts only, JSON unwrapped, the current attempt timed alone, stable buttons', async () => {
    const runId = await startRun('arithmetic', { n: 3 });
    const page = await openPage(`/#/runs/${runId}`);
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('success');
    const actions = () => page.locator('.run-actions button').evaluateAll((bs) => bs.map((b) => b.dataset.action));
    const finishedActions = await actions();
    expect(finishedActions).toEqual(['cancel', 'restart', 'time-travel', 'run-again', 'delete']);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // idle time before the travel
    await page.locator('.tl-row[data-step="double"]').click();
    await page.getByRole('button', { name: 'Time travel from this step' }).click();
    const travelledAt = Date.now();
    await page.locator('dialog').getByRole('button', { name: 'Travel and run' }).click();
    await expect.poll(() => page.locator('.attempt[data-current="true"]').getAttribute('data-attempt')).toBe('2');
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('success');
    // The header times the current attempt (begun after the click), not the idle time since the run was created.
    const took = (await page.locator('.run-age').textContent()) ?? '';
    expect(took).toMatch(new RegExp(`^took ${DURATION_TEXT}$`));
    expect(milliseconds(took.slice('took '.length))).toBeLessThanOrEqual(Date.now() - travelledAt + 50);
    expect(await actions()).toEqual(finishedActions);

    const current = page.locator('.attempt[data-current="true"]');
    // A step before the target was kept as it was: it is marked, and not listed again as an earlier attempt.
    await current.locator('.tl-row[data-step="add-one"]').click();
    expect(await current.locator('.tl-row[data-step="add-one"] .tl-kept').count()).toBe(1);
    expect(await page.locator('.detail-card .compare').count()).toBe(0);
    await current.locator('.tl-row[data-step="describe"]').click();
    const compare = page.locator('.detail-card .compare');
    await expect.poll(() => compare.locator('.compare-row').count()).toBe(1);
    expect(await compare.locator('.compare-row').getAttribute('data-attempt')).toBe('1');
    expect(await compare.locator('.kv-title').textContent()).toBe('This step in earlier attempts');
    expect(await compare.locator('.json').evaluate((el) => getComputedStyle(el).whiteSpace)).toBe('pre');
    await shoot(page, 'run-time-travel', 1440);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('shows foreach items with durations, in-flight items as running, and a canceled foreach as canceled', async () => {
    const emails = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne'].map(
      (c) => `sales@${c}.com`,
    );
    const runId = await startRun('leads', { emails }, false);
    const page = await openPage(`/#/runs/${runId}`);
    const items = page.locator('.tl-row.tl-item');
    const statuses = () => items.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status));
    // Three at a time, none finishing until told: items in flight show as running, the ones not begun yet as pending.
    await expect
      .poll(async () => {
        const seen = await statuses();
        return seen.includes('running') && seen.includes('pending');
      })
      .toBe(true);
    expect(await items.filter({ has: page.locator('.dot-running') }).count()).toBeGreaterThan(0);
    expect(await items.filter({ has: page.locator('.dot-pending') }).count()).toBeGreaterThan(0);
    const runningActions = await page
      .locator('.run-actions button')
      .evaluateAll((bs) => bs.map((b) => b.dataset.action));
    // Let one item finish, then cancel the rest.
    gate(emails[0]!).open();
    await expect.poll(statuses, { timeout: 10_000 }).toContain('success');
    await t.app.request(`/api/runs/${runId}/cancel`, jsonInit('POST', {}));
    await expect.poll(() => page.locator('.run-header .badge').getAttribute('data-status')).toBe('canceled');
    await expect.poll(statuses).toContain('canceled');
    const done = items.filter({ has: page.locator('.dot-success') }).first();
    expect(await done.locator('.tl-dur').textContent()).toMatch(DURATION);
    expect(await page.locator('.tl-row[data-step="enrich-lead"]').getAttribute('data-status')).toBe('canceled');
    const stepResult = page.locator('.event-row[data-type="workflow-step-result"]').filter({ hasText: 'enrich-lead' });
    await expect.poll(() => stepResult.locator('.ev-type').getAttribute('class')).toContain('ev-canceled');
    const summaries = await page.locator('.event-row .ev-summary').allTextContents();
    expect(summaries.filter((s) => s.includes('0/0'))).toEqual([]);
    await shoot(page, 'run-foreach-canceled', 1440);
    expect(summaries.filter((s) => /^item \d+ canceled$/.test(s)).length).toBeGreaterThan(0);
    expect(summaries.filter((s) => /^item \d+ succeeded · \d+\/9 done$/.test(s)).length).toBeGreaterThan(0);
    expect(await page.locator('.run-actions button').evaluateAll((bs) => bs.map((b) => b.dataset.action))).toEqual(
      runningActions,
    );
    expect(page.errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('draws the workflow graph with the path a run took, and counts runs by status on the start page', async () => {
    const runId = await startRun('routing', { text: 'a long text' });
    const page = await openPage(`/#/runs/${runId}`);
    const node = (step: string) => page.locator(`.graph-card .fg-node[data-step="${step}"]`);
    await expect.poll(() => node('long-path').getAttribute('data-status')).toBe('success');
    expect(await node('long-path').getAttribute('class')).toContain('fg-taken');
    expect(await node('short-path').getAttribute('class')).toContain('fg-idle');
    expect(await node('read').getAttribute('class')).toContain('fg-taken');
    expect(await page.locator('.graph-card .fg-arrow-taken').count()).toBe(1);
    await shoot(page, 'run-branch', 1440);
    // The graph selects a step for the panel.
    await node('read').click();
    await expect.poll(() => page.locator('.detail-card').getAttribute('data-step')).toBe('read');

    const stats = (await (await t.app.request('/api/stats')).json()) as {
      counts: Record<string, number>;
      total: number;
    };
    await page.goto(`${server.url}/#/`);
    const tile = (status: string) => page.locator(`.stat-tile[data-status="${status}"] .stat-n`);
    await expect.poll(() => tile('total').textContent()).toBe(String(stats.total));
    expect(await tile('success').textContent()).toBe(String(stats.counts.success));
    expect(await tile('canceled').textContent()).toBe(String(stats.counts.canceled));
    expect(await page.locator('.sparkline .spark-bar').count()).toBe(60);
    expect(await page.locator('.stat-spark').getAttribute('data-last-hour')).toBe(String(stats.total));
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('shows an empty store without markup characters', async () => {
    const empty = await openTestServer();
    const emptyServer = await listen(empty.app, { port: 0, host: '127.0.0.1' });
    try {
      const page = await openPage('/', 1024, emptyServer.url);
      const box = page.locator('.runs-empty');
      await expect.poll(() => box.locator('code').textContent()).toBe('weft runs start');
      expect(await box.textContent()).not.toContain('`');
      expect(await page.locator('.stat-tile[data-status="total"] .stat-n').textContent()).toBe('0');
      await page.close();
    } finally {
      await emptyServer.close();
      await empty.close();
    }
  });
});
