// The SSE stream of a run's events: replays stored events after Last-Event-ID, then follows the run live.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { WorkflowEvent } from '../events/event-types.js';
import { HttpError } from './http-error.js';
import { queryInt } from './request-input.js';
import { requireRunView } from './run-handle.js';
import type { ServerContext } from './server-context.js';
import { toWire } from './wire-json.js';

/** The seq to continue after: the `Last-Event-ID` header of a reconnecting client, else `?afterSeq=`. */
function readAfterSeq(c: Context): number | undefined {
  const header = c.req.header('last-event-id');
  if (header !== undefined && header.trim() !== '') {
    const seq = Number(header.trim());
    if (!Number.isInteger(seq) || seq < 0) {
      throw new HttpError(
        400,
        'INVALID_REQUEST',
        `Last-Event-ID must be an event seq (a whole number >= 0), got "${header}"`,
      );
    }
    return seq;
  }
  return queryInt(c, 'afterSeq', 0, Number.MAX_SAFE_INTEGER);
}

async function pipeEvents(
  stream: SSEStreamingApi,
  events: ReadableStream<WorkflowEvent>,
  heartbeatMs: number,
): Promise<void> {
  const reader = events.getReader();
  stream.onAbort(() => {
    reader.cancel().catch(() => undefined);
  });
  const heartbeat = setInterval(() => {
    stream.write(': keep-alive\n\n').catch(() => undefined);
  }, heartbeatMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || stream.aborted) break;
      await stream.writeSSE({ id: String(value.seq), data: JSON.stringify(toWire(value)) });
    }
  } finally {
    clearInterval(heartbeat);
    reader.releaseLock();
  }
}

/**
 * `GET /runs/:runId/events`: server-sent events, one per run event, with `id: <seq>` so that
 * `EventSource` reconnects with `Last-Event-ID` and misses nothing. Each `data` is the event as
 * JSON (`type`, `seq`, `payload`). When the run finishes or suspends, a final `event: end`
 * carries `{ status }` and the stream closes.
 */
export function runEventRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get('/runs/:runId/events', async (c) => {
    const runId = c.req.param('runId');
    const afterSeq = readAfterSeq(c);
    await requireRunView(ctx.weft, runId);
    const events = ctx.weft.observeRun(runId, afterSeq !== undefined ? { afterSeq } : {});
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(
      c,
      async (stream) => {
        await stream.writeSSE({
          event: 'ready',
          data: JSON.stringify({ runId, afterSeq: afterSeq ?? null }),
          retry: 2000,
        });
        await pipeEvents(stream, events, ctx.heartbeatMs);
        if (stream.aborted) return;
        const view = await ctx.weft.getRun(runId);
        await stream.writeSSE({
          event: 'end',
          data: JSON.stringify({ runId, status: view?.status ?? null, lastSeq: view?.lastSeq ?? null }),
        });
      },
      async (error, stream) => {
        ctx.logger.warn(`Event stream of run "${runId}" broke off`, error);
        await stream.writeSSE({
          event: 'error',
          data: JSON.stringify({ code: 'INTERNAL', message: 'The event stream broke off; reconnect' }),
        });
      },
    );
  });
  return app;
}
