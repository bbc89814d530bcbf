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
 * The queue jobs this process is executing, with the lock each was fetched under. Their locks are
 * renewed (`locked_at` set to now) before every look for abandoned jobs, so `locked_at` says when
 * the holder was last known alive, not when it fetched the job: a live worker slow to claim a run
 * (a loaded machine, a slow database) keeps its jobs, as a live owner keeps its runs' leases.
 */
export class HeldJobs {
  readonly #held = new Map<string, string>();

  /** Records a job fetched under `locked_by`; returns the function to call once its task ended. */
  hold(job: { id: string; locked_by: string | null }): () => void {
    if (job.locked_by === null) return () => undefined;
    this.#held.set(job.id, job.locked_by);
    return () => this.#held.delete(job.id);
  }

  /** Renews the locks this process still holds (a lock another worker took since is left alone). */
  async renew(pool: Pool, schema: string): Promise<void> {
    if (this.#held.size === 0) return;
    // graphile-worker has no call for this: its table, as its own fetch and four-hour reset use it.
    await pool.query(
      `UPDATE "${schema}"._private_jobs AS jobs SET locked_at = now()
       FROM unnest($1::bigint[], $2::text[]) AS held(id, locked_by)
       WHERE jobs.id = held.id AND jobs.locked_by = held.locked_by`,
      [[...this.#held.keys()], [...this.#held.values()]],
    );
  }
}

/**
 * Renews the locks of the jobs this process holds, then frees the jobs of the workers that hold
 * a job nobody works on, and returns how many workers that was. A job is abandoned when its lock
 * has not been renewed (by its live holder, every lease / 4) for longer than `staleMs` (a lease) while its run is not executing (`running` or
 * `waiting`) and has not changed for as long. So a start fetched by a worker that died before
 * claiming its run is fetched again, by any worker, about a lease after the death, rather than
 * after graphile-worker's four hours; the jobs of runs that recovery finished elsewhere are
 * completed (as skipped) the same way. graphile-worker's `forceUnlockWorkers` frees every job of
 * those workers: a job a stalled worker still held is then fetched by another, which finds its
 * run claimed and skips it.
 */
export async function releaseAbandonedJobs(
  weft: Weft,
  pool: Pool,
  queue: { schema: string; utils: WorkerUtils; held: HeldJobs },
  staleMs: number,
): Promise<number> {
  await queue.held.renew(pool, queue.schema);
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
