// Routes of stored schedules: list with next fires and recent runs, one schedule, pause, resume, trigger, delete.
import { Hono } from 'hono';
import { queryInt } from './request-input.js';
import type { ServerContext } from './server-context.js';
import { wireJson } from './wire-json.js';

/**
 * `GET /schedules` (`?workflowId=`, `?recentRuns=`), `GET /schedules/:scheduleId`,
 * `POST /schedules/:scheduleId/pause|resume|trigger`, `DELETE /schedules/:scheduleId`.
 */
export function scheduleRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const { schedules } = ctx.weft;

  app.get('/schedules', async (c) => {
    const workflowId = c.req.query('workflowId') || undefined;
    const recentRuns = queryInt(c, 'recentRuns', 0, 100) ?? 5;
    const list = await schedules.list({ ...(workflowId !== undefined ? { workflowId } : {}), recentRuns });
    return wireJson(c, { schedules: list });
  });

  app.get('/schedules/:scheduleId', async (c) =>
    wireJson(
      c,
      await schedules.get(c.req.param('scheduleId'), { recentRuns: queryInt(c, 'recentRuns', 0, 100) ?? 20 }),
    ),
  );

  app.post('/schedules/:scheduleId/pause', async (c) => wireJson(c, await schedules.pause(c.req.param('scheduleId'))));

  app.post('/schedules/:scheduleId/resume', async (c) =>
    wireJson(c, await schedules.resume(c.req.param('scheduleId'))),
  );

  app.post('/schedules/:scheduleId/trigger', async (c) => {
    const scheduleId = c.req.param('scheduleId');
    const { runId, startedHere } = await schedules.trigger(scheduleId);
    c.header('Location', `/api/runs/${encodeURIComponent(runId)}`);
    return wireJson(c, { scheduleId, runId, startedHere }, 201);
  });

  app.delete('/schedules/:scheduleId', async (c) => {
    const scheduleId = c.req.param('scheduleId');
    await schedules.delete(scheduleId);
    return wireJson(c, { scheduleId, deleted: true });
  });

  return app;
}
