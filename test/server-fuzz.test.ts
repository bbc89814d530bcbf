// Property test: random malformed requests never get a 500 and never change the stored runs.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimInput, jsonInit, openTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
let ids: string[] = [];

beforeAll(async () => {
  t = await openTestServer();
  const claim = await (
    await t.app.request('/api/workflows/expense-approval/runs', jsonInit('POST', { inputData: claimInput, wait: true }))
  ).json();
  const done = await (
    await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'arithmetic', inputData: { n: 1 }, wait: true }))
  ).json();
  ids = [claim.runId, done.runId];
});
afterAll(async () => {
  await t.close();
});

async function snapshot(): Promise<string> {
  const list = await t.weft.listRuns({});
  const views = await Promise.all(list.runs.map((r) => t.weft.getRun(r.runId)));
  return JSON.stringify({ list, views });
}

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

const weirdSegment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('..', '%2e%2e', '%00', 'null', 'undefined', '-1', '🙂', 'a%2Fb', ' '),
);

/** A body no endpoint accepts: not JSON, not an object, or an object with a field no endpoint knows. */
const malformedBody = fc.oneof(
  fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && !isJsonObject(s)),
  fc
    .jsonValue()
    .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
    .map((v) => JSON.stringify(v)),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 })
    .map((o) => JSON.stringify({ ...o, notAField: true })),
  fc
    .record({
      resumeData: fc.jsonValue(),
      step: fc.jsonValue(),
      forEachIndex: fc.oneof(fc.double(), fc.string()),
      wait: fc.string(),
    })
    .map((o) => JSON.stringify(o)),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  target: fc.oneof(
    fc.record({
      kind: fc.constant('existing' as const),
      index: fc.nat(1),
      action: fc.constantFrom('', '/resume', '/cancel', '/restart', '/time-travel', '/events', '/nope'),
    }),
    fc.record({
      kind: fc.constant('unknown' as const),
      id: weirdSegment,
      action: fc.constantFrom('', '/resume', '/cancel', '/restart', '/time-travel', '/events'),
    }),
    fc.record({
      kind: fc.constant('workflow' as const),
      id: fc.oneof(fc.constantFrom('arithmetic', 'expense-approval'), weirdSegment),
      suffix: fc.constantFrom('', '/runs'),
    }),
    fc.record({
      kind: fc.constant('list' as const),
      query: fc.dictionary(
        fc.constantFrom('status', 'page', 'perPage', 'fromDate', 'toDate', 'workflowId', 'x'),
        fc.string({ maxLength: 10 }),
        { maxKeys: 3 },
      ),
    }),
    fc.record({
      kind: fc.constant('path' as const),
      path: fc.array(weirdSegment, { maxLength: 4 }).map((s) => `/api/${s.join('/')}`),
    }),
  ),
  body: malformedBody,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
  lastEventId: fc.option(fc.string({ maxLength: 6 })),
});

describe('malformed requests', () => {
  it('never get a 500 and never change stored runs', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let path: string;
        let method = r.method;
        switch (r.target.kind) {
          case 'existing':
            path = `/api/runs/${ids[r.target.index]}${r.target.action}`;
            if (method === 'DELETE') method = 'PATCH'; // deleting an existing run is a well-formed request
            break;
          case 'unknown':
            path = `/api/runs/${r.target.id}${r.target.action}`;
            break;
          case 'workflow':
            path = `/api/workflows/${r.target.id}${r.target.suffix}`;
            break;
          case 'list':
            path = `/api/runs?${new URLSearchParams(r.target.query)}`;
            break;
          default:
            path = r.target.path;
        }
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.lastEventId !== null) headers['last-event-id'] = r.lastEventId;
        const hasBody = method !== 'GET';
        const res = await t.app.request(path, { method, headers, ...(hasBody ? { body: r.body } : {}) });
        const text = await res.text();
        expect(res.status, `${method} ${path} ${r.body} -> ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) expect(JSON.parse(text).error.code).toEqual(expect.any(String));
      }),
      { numRuns: 400 },
    );
    expect(await snapshot()).toBe(before);
  });
});
