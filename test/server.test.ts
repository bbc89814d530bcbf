// The HTTP API in-process (app.request): every endpoint, its errors, auth and limits, on a real SQLite file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/server/index.js';
import { claimInput, eventually, jsonInit, openTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
beforeEach(async () => {
  t = await openTestServer();
});
afterEach(async () => {
  await t.close();
});

async function json(res: Response): Promise<any> {
  return res.json();
}

async function startClaim(body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.app.request(
    '/api/workflows/expense-approval/runs',
    jsonInit('POST', { inputData: claimInput, wait: true, ...body }),
  );
  expect(res.status).toBe(201);
  const out = await json(res);
  expect(out.status).toBe('suspended');
  return out.runId;
}

async function finishedArithmetic(n = 3): Promise<string> {
  const res = await t.app.request(
    '/api/runs',
    jsonInit('POST', { workflowId: 'arithmetic', inputData: { n }, wait: true }),
  );
  const out = await json(res);
  expect(out.status).toBe('success');
  return out.runId;
}

describe('workflows', () => {
  it('lists the loaded workflows with graphs and the JSON Schemas of inputs, resume and suspend payloads', async () => {
    const res = await t.app.request('/api/workflows');
    expect(res.status).toBe(200);
    const { workflows } = await json(res);
    const approval = workflows.find((w: any) => w.id === 'expense-approval');
    expect(approval.inputSchema.properties.claimId.type).toBe('string');
    expect(approval.inputSchema.required).toContain('amount');
    expect(approval.stepGraph.map((n: any) => n.step?.id)).toEqual(['check-policy', 'request-approval', 'settle']);
    const step = approval.steps['request-approval'];
    expect(step.canSuspend).toBe(true);
    expect(step.resumeSchema.properties.approved.type).toBe('boolean');
    expect(step.suspendSchema.properties.summary.type).toBe('string');
    const publish = workflows.find((w: any) => w.id === 'publish-article');
    expect(publish.steps['review-article.fix-spelling'].kind).toBe('step');
    expect(publish.steps['render-html'].placement).toBe('parallel');
    const leads = workflows.find((w: any) => w.id === 'enrich-leads');
    expect(leads.steps['enrich-lead'].placement).toBe('foreach');
  });

  it('describes one workflow and answers 404 for an unknown one', async () => {
    expect((await json(await t.app.request('/api/workflows/arithmetic'))).id).toBe('arithmetic');
    const res = await t.app.request('/api/workflows/nope');
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({ code: 'WORKFLOW_NOT_FOUND', workflowId: 'nope' });
  });
});

describe('starting runs', () => {
  it('creates and starts a run, waiting for its result with wait: true', async () => {
    const res = await t.app.request(
      '/api/workflows/arithmetic/runs',
      jsonInit('POST', { inputData: { n: 4 }, wait: true, runId: 'r-1' }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/api/runs/r-1');
    const out = await json(res);
    expect(out).toMatchObject({
      runId: 'r-1',
      workflowId: 'arithmetic',
      status: 'success',
      result: { result: { text: 'n=10' } },
    });
  });

  it('answers 202 for a run still going after the wait, and the run goes on', async () => {
    const res = await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'slow', inputData: {} }));
    expect(res.status).toBe(202);
    const { runId, status } = await json(res);
    expect(status).toBe('running');
    await eventually(async () => ((await t.weft.getRun(runId))?.status === 'running' ? true : undefined));
    await t.app.request(`/api/runs/${runId}/cancel`, { method: 'POST' });
  });

  it('refuses invalid input with 400 and the schema issues', async () => {
    const res = await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'arithmetic', inputData: { n: 'x' } }));
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/n/);
    // The run the server made up for the refused start is not kept: its id was never given to anyone.
    const pending = await t.weft.listRuns({ workflowId: 'arithmetic', status: 'pending' });
    expect(pending.runs).toEqual([]);
  });

  it('refuses a missing or unknown workflow, and a run id that exists', async () => {
    expect((await t.app.request('/api/runs', jsonInit('POST', { inputData: {} }))).status).toBe(400);
    const unknown = await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'nope', inputData: {} }));
    expect(unknown.status).toBe(404);
    const runId = await finishedArithmetic();
    const again = await t.app.request(
      '/api/runs',
      jsonInit('POST', { workflowId: 'arithmetic', runId, inputData: { n: 1 } }),
    );
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('RUN_ALREADY_CLAIMED');
  });
});

describe('reading runs', () => {
  it('gets a run with its steps and whether its workflow is loaded; 404 for an unknown one', async () => {
    const runId = await startClaim();
    const view = await json(await t.app.request(`/api/runs/${runId}`));
    expect(view).toMatchObject({
      runId,
      workflowId: 'expense-approval',
      status: 'suspended',
      workflowLoaded: true,
      attempts: [],
    });
    expect(view.steps['request-approval'].suspendPayload.claimId).toBe('EXP-1');
    expect(view.suspended).toEqual([['request-approval']]);
    const res = await t.app.request('/api/runs/nope');
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({ code: 'RUN_NOT_FOUND', runId: 'nope' });
  });

  it('lists runs newest first with filters and pages', async () => {
    const a = await finishedArithmetic(1);
    const b = await finishedArithmetic(2);
    const c = await startClaim({ resourceId: 'team-7' });
    const all = await json(await t.app.request('/api/runs'));
    expect(all.total).toBe(3);
    expect(all.runs.map((r: any) => r.runId)).toEqual([c, b, a]);
    const page = await json(await t.app.request('/api/runs?perPage=2&page=1'));
    expect(page).toMatchObject({ total: 3, page: 1, perPage: 2 });
    expect(page.runs.map((r: any) => r.runId)).toEqual([a]);
    expect((await json(await t.app.request('/api/runs?status=suspended'))).runs.map((r: any) => r.runId)).toEqual([c]);
    expect((await json(await t.app.request('/api/runs?status=success,failed&workflowId=arithmetic'))).total).toBe(2);
    expect((await json(await t.app.request('/api/runs?resourceId=team-7'))).total).toBe(1);
    expect((await json(await t.app.request(`/api/runs?fromDate=${Date.now() + 60_000}`))).total).toBe(0);
  });

  it('refuses bad list parameters with 400', async () => {
    for (const query of ['status=bogus', 'page=-1', 'perPage=0', 'perPage=abc', 'fromDate=yesterday']) {
      const res = await t.app.request(`/api/runs?${query}`);
      expect(res.status, query).toBe(400);
      expect((await json(res)).error.code).toBe('INVALID_REQUEST');
    }
  });
});

describe('operating runs', () => {
  it('resumes a suspended run; invalid resume data gets 400 and leaves it suspended', async () => {
    const runId = await startClaim();
    const bad = await t.app.request(`/api/runs/${runId}/resume`, jsonInit('POST', { resumeData: { approved: 'yes' } }));
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('INVALID_RESUME_DATA');
    expect((await t.weft.getRun(runId))?.status).toBe('suspended');
    const ok = await t.app.request(
      `/api/runs/${runId}/resume`,
      jsonInit('POST', { resumeData: { approved: false, approver: 'Bo', comment: 'No receipt' }, wait: true }),
    );
    expect(ok.status).toBe(200);
    const out = await json(ok);
    expect(out.result.result).toMatchObject({ outcome: 'rejected', message: 'Rejected by Bo: No receipt' });
    const again = await t.app.request(
      `/api/runs/${runId}/resume`,
      jsonInit('POST', { resumeData: { approved: true, approver: 'Bo' } }),
    );
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('RUN_NOT_SUSPENDED');
  });

  it('answers 404 for a resume of an unknown run or step', async () => {
    expect((await t.app.request('/api/runs/nope/resume', jsonInit('POST', { resumeData: {} }))).status).toBe(404);
    const runId = await startClaim();
    const res = await t.app.request(
      `/api/runs/${runId}/resume`,
      jsonInit('POST', { step: 'settle', resumeData: { approved: true, approver: 'x' } }),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('cancels a suspended run; a finished run stays as it is', async () => {
    const runId = await startClaim();
    const res = await t.app.request(`/api/runs/${runId}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ runId, status: 'canceled' });
    const done = await finishedArithmetic();
    expect((await json(await t.app.request(`/api/runs/${done}/cancel`, { method: 'POST' }))).status).toBe('success');
    expect((await t.app.request('/api/runs/nope/cancel', { method: 'POST' })).status).toBe(404);
  });

  it('cancels a running run', async () => {
    const { runId } = await json(
      await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'slow', inputData: {} })),
    );
    const res = await t.app.request(`/api/runs/${runId}/cancel`, { method: 'POST' });
    expect((await json(res)).status).toBe('canceled');
  });

  it('refuses to restart a suspended run with 409; a finished run answers its stored result', async () => {
    const runId = await startClaim();
    const res = await t.app.request(`/api/runs/${runId}/restart`, jsonInit('POST', {}));
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('RUN_NOT_ACTIVE');
    const done = await finishedArithmetic(1);
    const again = await t.app.request(`/api/runs/${done}/restart`, jsonInit('POST', { wait: true }));
    expect(again.status).toBe(200);
    expect((await json(again)).result.result).toEqual({ text: 'n=4' });
  });

  it('time-travels a finished run from its second step and keeps the first try as an attempt', async () => {
    const runId = await finishedArithmetic(3);
    const res = await t.app.request(
      `/api/runs/${runId}/time-travel`,
      jsonInit('POST', { step: 'double', inputData: { n: 10 }, wait: true }),
    );
    expect(res.status).toBe(200);
    expect((await json(res)).result.result).toEqual({ text: 'n=20' });
    const view = await json(await t.app.request(`/api/runs/${runId}`));
    expect(view.result).toEqual({ text: 'n=20' });
    expect(view.attempts).toHaveLength(1);
    expect(view.attempts[0].steps.describe.output).toEqual({ text: 'n=8' });
  });

  it('refuses a time travel without a step (400), to an unknown step (404), with bad input (400)', async () => {
    const runId = await finishedArithmetic();
    expect((await t.app.request(`/api/runs/${runId}/time-travel`, jsonInit('POST', {}))).status).toBe(400);
    const unknown = await t.app.request(`/api/runs/${runId}/time-travel`, jsonInit('POST', { step: 'zzz' }));
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('STEP_NOT_FOUND');
    const bad = await t.app.request(
      `/api/runs/${runId}/time-travel`,
      jsonInit('POST', { step: 'double', inputData: { n: 'x' } }),
    );
    expect(bad.status).toBe(400);
  });

  it('deletes a finished run; refuses a running one with 409; 404 for an unknown one', async () => {
    const runId = await finishedArithmetic();
    const res = await t.app.request(`/api/runs/${runId}`, { method: 'DELETE' });
    expect(await json(res)).toEqual({ runId, deleted: true });
    expect((await t.app.request(`/api/runs/${runId}`)).status).toBe(404);
    expect((await t.app.request('/api/runs/nope', { method: 'DELETE' })).status).toBe(404);
    const { runId: slowId } = await json(
      await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'slow', inputData: {} })),
    );
    await eventually(async () => ((await t.weft.getRun(slowId))?.status === 'running' ? true : undefined));
    expect((await t.app.request(`/api/runs/${slowId}`, { method: 'DELETE' })).status).toBe(409);
    await t.app.request(`/api/runs/${slowId}/cancel`, { method: 'POST' });
  });

  it('shows runs of workflows it has not loaded, and answers 404 when asked to operate them', async () => {
    const runId = await startClaim();
    const other = await openTestServer({}, {}, t.dir);
    try {
      const view = await json(await other.app.request(`/api/runs/${runId}`));
      expect(view).toMatchObject({ status: 'suspended', workflowLoaded: false });
      const res = await other.app.request(
        `/api/runs/${runId}/resume`,
        jsonInit('POST', { resumeData: { approved: true, approver: 'x' } }),
      );
      expect(res.status).toBe(404);
      expect((await json(res)).error.message).toContain('"expense-approval"');
    } finally {
      await other.weft.close();
    }
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON, non-objects, unknown fields, wrong types and media types with 4xx JSON', async () => {
    const runId = await startClaim();
    const cases: [RequestInit, number, string][] = [
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resumeData":' },
        400,
        'MALFORMED_JSON',
      ],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' }, 400, 'INVALID_REQUEST'],
      [jsonInit('POST', { resumData: {} }), 400, 'INVALID_REQUEST'],
      [jsonInit('POST', { resumeData: {}, forEachIndex: -1 }), 400, 'INVALID_REQUEST'],
      [jsonInit('POST', { resumeData: {}, step: 5 }), 400, 'INVALID_REQUEST'],
      [{ method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [init, status, code] of cases) {
      const res = await t.app.request(`/api/runs/${runId}/resume`, init);
      expect(res.status, String(init.body)).toBe(status);
      expect((await json(res)).error.code).toBe(code);
    }
    expect((await t.weft.getRun(runId))?.status).toBe('suspended');
  });

  it('refuses a body over the size limit with 413', async () => {
    const small = await openTestServer({ maxBodyBytes: 1000 });
    try {
      const res = await small.app.request(
        '/api/runs',
        jsonInit('POST', { workflowId: 'arithmetic', inputData: { n: 1, pad: 'x'.repeat(5000) } }),
      );
      expect(res.status).toBe(413);
      expect((await json(res)).error.code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await t.app.request('/api/nothing-here');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('NOT_FOUND');
  });

  it('refuses state-changing requests from another origin', async () => {
    const runId = await startClaim();
    const res = await t.app.request(`http://127.0.0.1:3000/api/runs/${runId}/cancel`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', host: '127.0.0.1:3000' },
    });
    expect(res.status).toBe(403);
    expect((await t.weft.getRun(runId))?.status).toBe('suspended');
  });
});

describe('auth', () => {
  it('refuses to serve beyond loopback without a token', () => {
    expect(() => createServer(t.weft, { host: '0.0.0.0' })).toThrow(/token/);
    expect(() => createServer(t.weft, { host: '127.0.0.1' })).not.toThrow();
  });

  it('answers 401 without the token, or with a wrong one, when bound beyond loopback', async () => {
    const app = createServer(t.weft, { host: '0.0.0.0', token: 's3cret-token', logger: { warn() {}, error() {} } });
    const none = await app.request('/api/runs');
    expect(none.status).toBe(401);
    expect((await json(none)).error.code).toBe('UNAUTHORIZED');
    expect((await app.request('/api/runs', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await app.request('/api/runs', { method: 'POST', body: '{' })).status).toBe(401);
    expect((await app.request('/api/runs', { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    expect((await app.request('/')).status).toBe(200);
  });
});

describe('event streams', () => {
  function parseSse(text: string): { id?: string; event?: string; data: string }[] {
    return text
      .split('\n\n')
      .filter((block) => block.trim() !== '' && !block.startsWith(':'))
      .map((block) => {
        const out: { id?: string; event?: string; data: string } = { data: '' };
        for (const line of block.split('\n')) {
          const [key, ...rest] = line.split(': ');
          const value = rest.join(': ');
          if (key === 'id') out.id = value;
          if (key === 'event') out.event = value;
          if (key === 'data') out.data += value;
        }
        return out;
      });
  }

  it('replays the events of a finished run with their seq as ids, then ends with its status', async () => {
    const runId = await finishedArithmetic();
    const res = await t.app.request(`/api/runs/${runId}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const messages = parseSse(await res.text());
    const events = messages.filter((m) => m.event === undefined);
    expect(events[0]?.id).toBe('1');
    expect(JSON.parse(events[0]!.data).type).toBe('workflow-start');
    expect(events.map((m) => JSON.parse(m.data).type)).toContain('workflow-finish');
    expect(JSON.parse(messages.at(-1)!.data)).toMatchObject({ runId, status: 'success' });
    expect(messages.at(-1)?.event).toBe('end');
  });

  it('continues after Last-Event-ID', async () => {
    const runId = await finishedArithmetic();
    const res = await t.app.request(`/api/runs/${runId}/events`, { headers: { 'last-event-id': '3' } });
    const ids = parseSse(await res.text())
      .filter((m) => m.id !== undefined)
      .map((m) => Number(m.id));
    expect(ids[0]).toBe(4);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it('refuses a bad Last-Event-ID with 400 and an unknown run with 404', async () => {
    const runId = await finishedArithmetic();
    expect((await t.app.request(`/api/runs/${runId}/events`, { headers: { 'last-event-id': 'abc' } })).status).toBe(
      400,
    );
    expect((await t.app.request('/api/runs/nope/events')).status).toBe(404);
  });
});

describe('inspector files', () => {
  it('serves the inspector page and its scripts', async () => {
    const page = await t.app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>');
    const script = await t.app.request('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await t.app.request('/assets/../../server/auth.ts')).status).toBe(404);
  });
});
