// The inspector in real headless Chromium on a run with an agent step (a real Mastra Agent on a mock model):
// the answer shows as it streams, then the step's model usage and the run's total tokens.
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStep, createWorkflow } from '../src/index.js';
import { listen, type ListeningServer } from '../src/server/index.js';
import { openTestServer, type TestServer } from './server-fixtures.js';
import { mockAgent } from './support/mock-agent.js';

let t: TestServer;
let server: ListeningServer;
let browser: Browser;
let release!: () => void;
const held = new Promise<void>((resolve) => (release = resolve));

const answer = 'The invoice was charged twice; a refund is on its way.';
const writer = mockAgent('reply-writer', {
  text: answer,
  pieceLength: 10,
  // The model stops after three pieces until the test has seen them on the page.
  beforePiece: (i) => (i === 3 ? held : undefined),
  usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 },
});
const wf = createWorkflow({ id: 'agent-reply', inputSchema: z.object({ prompt: z.string() }), outputSchema: z.any() })
  .then(createStep(writer))
  .commit();

beforeAll(async () => {
  t = await openTestServer({}, { 'agent-reply': wf });
  server = await listen(t.app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});

afterAll(async () => {
  release();
  await browser?.close();
  await server?.close();
  await t?.close();
});

describe('inspector, agent step', () => {
  it("renders the agent's answer as it streams, then its model usage and the run's total tokens", async () => {
    const run = await t.weft.getWorkflow('agent-reply').createRun();
    const done = run.start({ inputData: { prompt: 'Customer says they were charged twice' } });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#/runs/${run.runId}`);

    const row = page.locator('.tl-row[data-step="reply-writer"]');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('running');
    await row.click();
    const stream = page.locator('.agent-stream');
    await expect.poll(() => stream.textContent(), { timeout: 10_000 }).toBe(answer.slice(0, 30));
    expect((await t.weft.getRun(run.runId))!.status).toBe('running');

    release();
    expect((await done).status).toBe('success');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('success');
    const detail = page.locator('.detail-card');
    await expect.poll(() => detail.locator('.usage').textContent()).toContain('model mock-1 · 120 in / 30 out tokens');
    await expect.poll(() => detail.textContent()).toContain(answer);
    expect(await stream.count()).toBe(0);
    await expect.poll(() => page.locator('.run-header .run-tokens').textContent()).toBe('150 tokens');
    expect(errors).toEqual([]);
    await page.close();
  });
});
