// The API additions the inspector reads: a running run's lease, and run counts by status and minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, jsonInit, openTestServer, type TestServer } from './server-fixtures.js';

let t: TestServer;
beforeAll(async () => {
  t = await openTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function getJson(path: string): Promise<any> {
  const res = await t.app.request(path);
  expect(res.status).toBe(200);
  return res.json();
}

describe('inspector API', () => {
  it('tells whether the owner of a running run still holds its lease', async () => {
    const res = await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'slow', inputData: {} }));
    const { runId } = (await res.json()) as { runId: string };
    const live = await eventually(async () => {
      const view = await getJson(`/api/runs/${runId}`);
      return view.status === 'running' && view.lease ? view.lease : undefined;
    });
    expect(live.expired).toBe(false);
    expect(typeof live.owner).toBe('string');
    expect(live.expiresAt).toBeGreaterThan(Date.now());

    // As a crashed owner leaves it: the lease runs out.
    await t.weft.storage.updateRun(runId, {}, { leaseExpiresAt: Date.now() - 1000, updatedAt: Date.now() });
    expect((await getJson(`/api/runs/${runId}`)).lease.expired).toBe(true);

    await t.app.request(`/api/runs/${runId}/cancel`, jsonInit('POST', {}));
    await eventually(async () => ((await getJson(`/api/runs/${runId}`)).status === 'canceled' ? true : undefined));
    expect((await getJson(`/api/runs/${runId}`)).lease).toBeNull();
  });

  it('counts runs by status and runs started per minute over the last hour', async () => {
    const before = await getJson('/api/stats');
    for (const n of [1, 2, 3])
      await t.app.request('/api/runs', jsonInit('POST', { workflowId: 'arithmetic', inputData: { n }, wait: true }));
    const stats = await getJson('/api/stats');
    expect(Object.keys(stats.counts).sort()).toEqual(
      ['canceled', 'failed', 'paused', 'pending', 'running', 'success', 'suspended', 'waiting'].sort(),
    );
    expect(stats.counts.success - before.counts.success).toBe(3);
    expect(stats.total).toBe(Object.values(stats.counts as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(stats.throughput.bucketMs).toBe(60_000);
    expect(stats.throughput.started).toHaveLength(60);
    const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
    expect(sum(stats.throughput.started)).toBe(stats.total); // every run of this store started in the last hour
    expect(stats.throughput.from + 60 * 60_000).toBeGreaterThan(Date.now());
    expect((await getJson('/api/stats?minutes=5')).throughput.started).toHaveLength(5);
    const bad = await t.app.request('/api/stats?minutes=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('"minutes"');
  });
});
