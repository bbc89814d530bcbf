// DNS rebinding: a tokenless server on loopback answers only requests whose Host names this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer, listen } from '../../src/server/index.js';
import { serveTestServerForSuite, startServe } from './fixtures.js';

const served = serveTestServerForSuite();

/** A raw HTTP request to 127.0.0.1 with the given Host and Origin (fetch would set Host itself). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('content-type', 'application/json');
      req.end(JSON.stringify(body));
    } else req.end();
  });
}

describe('a tokenless server on loopback', () => {
  it('refuses a rebound Host with 403 for reads, starts and cancels, and changes nothing', async () => {
    const { t } = served;
    const { port } = served.server;
    const run = await t.weft.getWorkflow('slow').createRun();
    void run.start({ inputData: {} });
    const evil = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };

    const list = await send(port, 'GET', '/api/runs', evil);
    expect(list.status).toBe(403);
    expect(JSON.parse(list.body).error).toMatchObject({ code: 'FORBIDDEN' });
    expect(list.body).not.toContain(run.runId);
    expect(JSON.parse(list.body).error.message).toContain('--allowed-host');

    const start = await send(port, 'POST', '/api/workflows/arithmetic/runs', evil, { inputData: { n: 1 } });
    expect(start.status).toBe(403);
    const cancel = await send(port, 'POST', `/api/runs/${run.runId}/cancel`, evil, {});
    expect(cancel.status).toBe(403);
    expect((await send(port, 'GET', '/', evil)).status).toBe(403);

    const runs = await t.weft.listRuns();
    expect(runs.runs.map((r) => [r.runId, r.status])).toEqual([[run.runId, 'running']]);
    await run.cancel();
  });

  it('answers localhost, 127.0.0.1 and [::1] names, with or without a port', async () => {
    const { port } = served.server;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST.']) {
      const res = await send(port, 'GET', '/api/runs', { host });
      expect(res.status, host).toBe(200);
    }
    // A same-origin write from the loopback name still works.
    const start = await send(
      port,
      'POST',
      '/api/workflows/arithmetic/runs',
      { host: `localhost:${port}`, origin: `http://localhost:${port}` },
      { inputData: { n: 1 }, wait: true },
    );
    expect(start.status).toBe(201);
  });

  it('answers the names given as allowed hosts, and refuses malformed ones when created', async () => {
    const { t } = served;
    const app = createServer(t.weft, { allowedHosts: ['weft.internal'], logger: { warn() {}, error() {} } });
    const other = await listen(app, { port: 0, host: '127.0.0.1' });
    try {
      expect((await send(other.port, 'GET', '/api/runs', { host: `weft.internal:${other.port}` })).status).toBe(200);
      expect((await send(other.port, 'GET', '/api/runs', { host: `evil.example:${other.port}` })).status).toBe(403);
    } finally {
      await other.close();
    }
    expect(() => createServer(t.weft, { allowedHosts: ['http://x:1/'] })).toThrow(/Invalid allowed host/);
  });

  it('with a token, accepts any Host (the token is what a rebinding page cannot send)', async () => {
    const { t } = served;
    const app = createServer(t.weft, { token: 's3cret', logger: { warn() {}, error() {} } });
    const res = await app.request('http://evil.example/api/runs', { headers: { authorization: 'Bearer s3cret' } });
    expect(res.status).toBe(200);
  });

  it('weft serve answers --allowed-host names and refuses others, on a real port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-hosts-'));
    const served = await startServe(
      dir,
      '--db',
      join(dir, 'weft.db'),
      '--port',
      '0',
      '--allowed-host',
      'weft.internal',
    );
    try {
      const port = Number(new URL(served.url).port);
      expect(served.banner).toContain('Host must be localhost, 127.0.0.1, [::1], weft.internal');
      expect((await send(port, 'GET', '/api/runs', { host: `weft.internal:${port}` })).status).toBe(200);
      expect((await send(port, 'GET', '/api/runs', { host: `evil.example:${port}` })).status).toBe(403);
    } finally {
      await served.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
