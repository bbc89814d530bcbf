// Test fixtures of the server suites: a Weft on a real SQLite file in a temp dir, with the examples and small workflows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createStep, createWorkflow, Weft, type Clock } from '../src/index.js';
import { createServer, type ServerOptions } from '../src/server/index.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { workflows as exampleWorkflows } from '../examples/index.js';

const num = z.object({ n: z.number() });

/** A three-step workflow (add one, double, describe) that finishes at once: good for time travel. */
export const arithmetic = createWorkflow({
  id: 'arithmetic',
  inputSchema: num,
  outputSchema: z.object({ text: z.string() }),
})
  .then(
    createStep({
      id: 'add-one',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
    }),
  )
  .then(
    createStep({
      id: 'double',
      inputSchema: num,
      outputSchema: num,
      execute: async ({ inputData }) => ({ n: inputData.n * 2 }),
    }),
  )
  .then(
    createStep({
      id: 'describe',
      inputSchema: num,
      outputSchema: z.object({ text: z.string() }),
      execute: async ({ inputData }) => ({ text: `n=${inputData.n}` }),
    }),
  )
  .commit();

/** A workflow whose one step waits until its abort signal fires (or 30 s). */
export const slow = createWorkflow({
  id: 'slow',
  inputSchema: z.object({}),
  outputSchema: z.object({ done: z.boolean() }),
})
  .then(
    createStep({
      id: 'wait',
      inputSchema: z.object({}),
      outputSchema: z.object({ done: z.boolean() }),
      execute: ({ abortSignal }) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve({ done: true }), 30_000);
          abortSignal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve({ done: false });
          });
        }),
    }),
  )
  .commit();

/** Every workflow the test servers load. */
export const testWorkflows = { ...exampleWorkflows, arithmetic, slow };

/** A valid input of the approval example that needs a person (over the auto-approval limit). */
export const claimInput = { claimId: 'EXP-1', employee: 'Ann', amount: 420, purpose: 'Conference ticket' };

/** A Weft on a fresh SQLite file, its app, and a cleanup function. */
export interface TestServer {
  weft: Weft;
  app: ReturnType<typeof createServer>;
  dir: string;
  dbPath: string;
  close(): Promise<void>;
}

/** Opens a Weft on a new SQLite file in a temp dir (with `clock`, e.g. a manual one) and builds its server app. */
export async function openTestServer(
  options: ServerOptions = {},
  workflows: Record<string, any> = testWorkflows,
  dir = mkdtempSync(join(tmpdir(), 'weft-server-')),
  clock?: Clock,
): Promise<TestServer> {
  const dbPath = join(dir, 'weft.db');
  const weft = new Weft({
    workflows,
    storage: new SqliteStorage({ path: dbPath }),
    recovery: false,
    ...(clock ? { clock } : {}),
  });
  await weft.init();
  const quiet = { warn() {}, error() {} };
  const app = createServer(weft, { logger: quiet, ...options });
  return {
    weft,
    app,
    dir,
    dbPath,
    close: async () => {
      await weft.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** JSON request init for `app.request`. */
export function jsonInit(method: string, body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

/** Polls `check` until it returns a value other than undefined (or fails after `ms`). */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
