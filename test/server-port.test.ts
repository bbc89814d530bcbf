// The server on a real port: REST over TCP and a live SSE stream that reconnects with Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from '../src/server/index.js';
import { openTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
let server: ListeningServer;

beforeAll(async () => {
  t = await openTestServer({ heartbeatMs: 200 });
  server = await listen(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

async function readSse(res: Response, until: (events: { id?: string; event?: string; data: string }[]) => boolean) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id?: string; event?: string; data: string }[] = [];
  let buffer = '';
  while (!until(events)) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (block.startsWith(':')) continue;
      const msg: { id?: string; event?: string; data: string } = { data: '' };
      for (const line of block.split('\n')) {
        const i = line.indexOf(': ');
        const [k, v] = i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)];
        if (k === 'id') msg.id = v;
        else if (k === 'event') msg.event = v;
        else if (k === 'data') msg.data += v;
      }
      events.push(msg);
    }
  }
  await reader.cancel();
  return events;
}

describe('server on a real port', () => {
  it('serves the API, follows a sleeping run live over SSE, and resumes the stream after Last-Event-ID', async () => {
    const info = await (await fetch(`${server.url}/api/info`)).json();
    expect(info).toMatchObject({ name: 'weft', storage: 'sqlite', authRequired: false });

    const start = await fetch(`${server.url}/api/workflows/trial-reminder/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputData: { customer: 'Globex', plan: 'team', trialSeconds: 1 } }),
    });
    expect(start.status).toBe(202);
    const { runId } = await start.json();

    // First connection: read until the first sleep starts, then drop it.
    const first = await readSse(await fetch(`${server.url}/api/runs/${runId}/events`), (events) =>
      events.some((e) => e.data.includes('"workflow-step-waiting"')),
    );
    const seen = first.filter((e) => e.id !== undefined);
    const lastId = seen.at(-1)!.id!;

    // Reconnect as EventSource would: no event repeated, none lost, the stream ends with the run.
    const rest = await readSse(
      await fetch(`${server.url}/api/runs/${runId}/events`, { headers: { 'last-event-id': lastId } }),
      (events) => events.some((e) => e.event === 'end'),
    );
    const ids = [...seen, ...rest].filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({ runId, status: 'success' });
    const types = rest.filter((e) => e.id).map((e) => JSON.parse(e.data).type);
    expect(types).toContain('workflow-finish');
  });
});
