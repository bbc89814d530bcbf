// `GET /stats`: how many runs the store holds in each status, and how many started in each minute of the last hour.
import { Hono } from 'hono';
import { RUN_STATUSES, type RunStatus } from '../storage/types.js';
import { queryInt } from './request-input.js';
import type { ServerContext } from './server-context.js';
import { wireJson } from './wire-json.js';

const MINUTE = 60_000;

/** The answer of `GET /stats`. */
interface RunStats {
  /** Runs by status, every status listed. */
  counts: Record<RunStatus, number>;
  total: number;
  /** Runs started per minute, oldest first: `started[i]` counts runs created in `[from + i * bucketMs, from + (i + 1) * bucketMs)`. */
  throughput: { from: number; bucketMs: number; started: number[] };
}

/**
 * `GET /stats?minutes=60`. Every number is a count the store makes (one per status and one per
 * minute, run together), so the cost does not grow with the number of runs shown.
 */
export function statsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get('/stats', async (c) => {
    const minutes = queryInt(c, 'minutes', 1, 180) ?? 60;
    const store = ctx.weft.storage;
    const count = async (filter: Parameters<typeof store.listRuns>[0]): Promise<number> =>
      (await store.listRuns({ ...filter, perPage: 1 })).total;
    // Buckets end at the end of the current minute, so the last one fills up as the minute goes.
    const end = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    const from = end - minutes * MINUTE;
    const [byStatus, started] = await Promise.all([
      Promise.all(RUN_STATUSES.map((status) => count({ status }))),
      Promise.all(
        Array.from({ length: minutes }, (_, i) =>
          count({ fromDate: from + i * MINUTE, toDate: from + (i + 1) * MINUTE - 1 }),
        ),
      ),
    ]);
    const counts = Object.fromEntries(RUN_STATUSES.map((s, i) => [s, byStatus[i]!])) as Record<RunStatus, number>;
    const stats: RunStats = {
      counts,
      total: byStatus.reduce((a, b) => a + b, 0),
      throughput: { from, bucketMs: MINUTE, started },
    };
    return wireJson(c, stats);
  });
  return app;
}
