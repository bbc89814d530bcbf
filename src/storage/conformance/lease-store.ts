// Conformance of renewLeases and listExpiredRuns: who owns which active run, and which runs need recovery.
import { describe, expect, it } from 'vitest';
import type { CurrentStorage } from './fixtures.js';
import { T0, claimRun, newRun } from './fixtures.js';

const NOW = T0 + 60_000;

/** Registers the tests of leases and recovery. */
export function describeLeaseStore(current: CurrentStorage): void {
  describe('renewLeases', () => {
    it('extends the lease of runs the owner still holds and returns their ids', async () => {
      await claimRun(current(), 'running', { owner: 'me' });
      await claimRun(current(), 'waiting', { owner: 'me', status: 'waiting' });
      const kept = await current().renewLeases('me', ['running', 'waiting'], NOW + 30_000);
      expect([...kept].sort()).toEqual(['running', 'waiting']);
      expect((await current().getRun('running'))?.leaseExpiresAt).toBe(NOW + 30_000);
      expect((await current().getRun('waiting'))?.leaseExpiresAt).toBe(NOW + 30_000);
    });

    it('leaves alone runs owned by another owner', async () => {
      const other = await claimRun(current(), 'r1', { owner: 'someone-else' });
      expect(await current().renewLeases('me', ['r1'], NOW + 30_000)).toEqual([]);
      expect(await current().getRun('r1')).toEqual(other);
    });

    it('leaves alone runs that are no longer active, even with the same owner', async () => {
      const suspended = await claimRun(current(), 's', { owner: 'me', status: 'suspended' });
      const done = await claimRun(current(), 'd', { owner: 'me', status: 'success' });
      expect(await current().renewLeases('me', ['s', 'd'], NOW + 30_000)).toEqual([]);
      expect(await current().getRun('s')).toEqual(suspended);
      expect(await current().getRun('d')).toEqual(done);
    });

    it('skips unknown run ids', async () => {
      await claimRun(current(), 'r1', { owner: 'me' });
      expect(await current().renewLeases('me', ['missing', 'r1'], NOW)).toEqual(['r1']);
    });

    it('returns an empty list for an empty list of ids', async () => {
      expect(await current().renewLeases('me', [], NOW)).toEqual([]);
    });
  });

  describe('listExpiredRuns', () => {
    it('lists active runs whose lease expired before now', async () => {
      await claimRun(current(), 'expired', { leaseExpiresAt: NOW - 1 });
      await claimRun(current(), 'held', { leaseExpiresAt: NOW + 1 });
      const runs = await current().listExpiredRuns(NOW, 10);
      expect(runs.map((r) => r.runId)).toEqual(['expired']);
    });

    it('does not list a run whose lease expires exactly now', async () => {
      await claimRun(current(), 'r1', { leaseExpiresAt: NOW });
      expect(await current().listExpiredRuns(NOW, 10)).toEqual([]);
    });

    it('lists active runs that have no lease', async () => {
      await claimRun(current(), 'r1', { status: 'waiting', owner: null, leaseExpiresAt: null });
      expect((await current().listExpiredRuns(NOW, 10)).map((r) => r.runId)).toEqual(['r1']);
    });

    it('lists both running and waiting runs and no run in another status', async () => {
      await claimRun(current(), 'running', { leaseExpiresAt: NOW - 1, updatedAt: T0 + 1 });
      await claimRun(current(), 'waiting', { status: 'waiting', leaseExpiresAt: NOW - 1, updatedAt: T0 + 2 });
      await current().createRun(newRun('pending'));
      for (const status of ['suspended', 'paused', 'success', 'failed', 'canceled'] as const) {
        await claimRun(current(), status, { status, leaseExpiresAt: NOW - 1 });
      }
      expect((await current().listExpiredRuns(NOW, 10)).map((r) => r.runId)).toEqual(['running', 'waiting']);
    });

    it('returns full rows', async () => {
      const claimed = await claimRun(current(), 'r1', { leaseExpiresAt: NOW - 1 });
      expect(await current().listExpiredRuns(NOW, 10)).toEqual([claimed]);
    });

    it('lists the least recently updated runs first', async () => {
      await claimRun(current(), 'newer', { leaseExpiresAt: NOW - 1, updatedAt: T0 + 30 });
      await claimRun(current(), 'oldest', { leaseExpiresAt: null, updatedAt: T0 + 10 });
      await claimRun(current(), 'middle', { leaseExpiresAt: NOW - 5, updatedAt: T0 + 20 });
      const runs = await current().listExpiredRuns(NOW, 10);
      expect(runs.map((r) => r.runId)).toEqual(['oldest', 'middle', 'newer']);
    });

    it('returns at most limit runs, the oldest ones', async () => {
      for (let i = 0; i < 5; i++) await claimRun(current(), `r${i}`, { leaseExpiresAt: NOW - 1, updatedAt: T0 + i });
      expect((await current().listExpiredRuns(NOW, 2)).map((r) => r.runId)).toEqual(['r0', 'r1']);
    });

    it('no longer lists a run once its lease is renewed', async () => {
      await claimRun(current(), 'r1', { owner: 'me', leaseExpiresAt: NOW - 1 });
      await current().renewLeases('me', ['r1'], NOW + 30_000);
      expect(await current().listExpiredRuns(NOW, 10)).toEqual([]);
    });
  });
}
