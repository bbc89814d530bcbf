// Jobs locked by a worker that died: graphile-worker keeps them locked for four hours; Weft frees them after a lease.
import type { WorkerUtils } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Weft } from '../run/weft.js';
import { taskIdentifier } from './job-payload.js';

/** The run a job key names (`<runId>:start` or `<runId>:resume:<epoch>`), or null for a key Weft did not make. */
function runOfKey(key: string): string | null {
  if (key.endsWith(':start')) return key.slice(0, -':start'.length);
  return /^(.+):resume:\d+$/.exec(key)?.[1] ?? null;
}

/**
 * Frees the jobs of the workers that hold a job nobody works on, and returns how many workers
 * that was. A job is abandoned when it has been locked for longer than `staleMs` (a lease) while
 * its run is not executing (`running` or `waiting`) and has not changed for as long: a live
 * worker claims a job's run within milliseconds of fetching it, and completes the job when the
 * run stops. So a start fetched by a worker that died before claiming its run is fetched again,
 * by any worker, about a lease after the death, rather than after graphile-worker's four hours;
 * the jobs of runs that recovery finished elsewhere are completed (as skipped) the same way.
 * graphile-worker's `forceUnlockWorkers` frees every job of those workers: a job a live but
 * stuck worker still held is then fetched by another, which finds its run claimed and skips it.
 */
export async function releaseAbandonedJobs(
  weft: Weft,
  pool: Pool,
  queue: { schema: string; utils: WorkerUtils },
  staleMs: number,
): Promise<number> {
  const tasks = Object.keys(weft.listWorkflows()).map(taskIdentifier);
  const { rows } = await pool.query<{ key: string; locked_by: string }>(
    `SELECT key, locked_by FROM "${queue.schema}".jobs
     WHERE locked_at < now() - make_interval(secs => $1::double precision / 1000)
       AND locked_by IS NOT NULL AND key IS NOT NULL AND task_identifier = ANY($2::text[])`,
    [staleMs, tasks],
  );
  const abandonedBy = new Set<string>();
  const quietSince = weft.clock.now() - staleMs;
  for (const { key, locked_by: worker } of rows) {
    if (abandonedBy.has(worker)) continue;
    const runId = runOfKey(key);
    if (runId === null) continue;
    const run = await weft.storage.getRun(runId);
    const executing = run !== null && (run.status === 'running' || run.status === 'waiting');
    if (!executing && (run === null || run.updatedAt < quietSince)) abandonedBy.add(worker);
  }
  if (abandonedBy.size === 0) return 0;
  await queue.utils.forceUnlockWorkers([...abandonedBy]);
  weft.logger.warn(
    `weft worker: freed the jobs of ${abandonedBy.size} worker${abandonedBy.size === 1 ? '' : 's'} that held a job nobody executed for over ${staleMs} ms (${[...abandonedBy].join(', ')})`,
  );
  return abandonedBy.size;
}
