// Run ids chosen by callers are bounded: length and characters are checked before anything is stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../src/index.js';
import { arithmetic } from '../server-fixtures.js';
import { EXAMPLE_WORKFLOWS, runCli, serveTestServerForSuite } from './fixtures.js';

const served = serveTestServerForSuite();

const huge = 'x'.repeat(900 * 1024);

describe('run ids chosen by callers', () => {
  it('refuses a 900 KB id, control characters and lone surrogates in createRun, and stores nothing', async () => {
    for (const runId of [huge, 'a'.repeat(257), 'bad\nid', 'nul\u0000', 'del\u007f', 'half\ud800', '']) {
      const error = await arithmetic.createRun({ runId }).catch((e: unknown) => e);
      expect(WeftError.is(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/^Invalid run id/);
      expect((error as Error).message.length).toBeLessThan(300);
    }
    expect((await served.t.weft.listRuns()).total).toBe(0);
    // The longest allowed id, and ids with spaces, slashes and non-ASCII letters, still work.
    for (const runId of ['a'.repeat(256), 'order 42/retry#1', 'commande-é-😀']) {
      const run = await arithmetic.createRun({ runId });
      expect((await run.start({ inputData: { n: 1 } })).status).toBe('success');
    }
  });

  it('answers 400 INVALID_ARGUMENT over HTTP for a huge or control-character id, on a real port', async () => {
    for (const runId of [huge, 'evil\r\nSet-Cookie: x=1']) {
      const res = await fetch(`${served.server.url}/api/workflows/arithmetic/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ runId, inputData: { n: 1 } }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_ARGUMENT');
      expect(body.error.message).toMatch(/^Invalid run id/);
    }
    const list = (await (await fetch(`${served.server.url}/api/runs`)).json()) as { runs: { runId: string }[] };
    expect(list.runs.some((r) => r.runId.startsWith('xxx') || r.runId.startsWith('evil'))).toBe(false);
  });

  it('refuses them in `weft runs start --run-id` with the invalid-input exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-run-ids-'));
    try {
      const db = join(dir, 'weft.db');
      const args = ['runs', 'start', 'expense-approval', '--db', db, '--workflows', EXAMPLE_WORKFLOWS];
      const result = await runCli(dir, ...args, '--run-id', 'a\tb', '--input', '{}');
      expect(result.code).toBe(5);
      expect(result.stderr).toContain('Invalid run id');
      expect(result.stderr).toContain('U+0009');
      const list = await runCli(dir, 'runs', 'list', '--db', db, '--json');
      expect(JSON.parse(list.stdout).runs).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
