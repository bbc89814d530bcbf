// createServer: the Hono app of `weft serve`: the REST API under /api, SSE streams, auth, limits, and the inspector.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { checkAuthSettings, isLoopbackHost, loopbackHostsOnly, requireToken, sameOriginWrites } from './auth.js';
import { errorResponse, handleError } from './http-error.js';
import { inspectorRoutes } from './inspector-assets.js';
import { packageVersion } from './package-version.js';
import { runActionRoutes } from './routes-run-actions.js';
import { runEventRoutes } from './run-events-sse.js';
import { runRoutes } from './routes-runs.js';
import { scheduleRoutes } from './routes-schedules.js';
import { statsRoutes } from './routes-stats.js';
import { workflowRoutes } from './routes-workflows.js';
import type { ServerContext } from './server-context.js';
import type { ServedWeft } from './weft-host.js';

/** Options of `createServer`. */
export interface ServerOptions {
  /** Bearer token required on every `/api` request. Required when `host` is not loopback. */
  token?: string;
  /** The host the server will bind to; when it is not loopback, a token is required. */
  host?: string;
  /**
   * Without a token, the server answers only requests whose `Host` is a loopback name (`localhost`,
   * `127.0.0.1`, `[::1]`) or one of these names, so that a page of another site cannot reach it by
   * making its own name resolve to 127.0.0.1 (DNS rebinding). With a token, listed names are the only
   * ones accepted besides loopback; unlisted, any `Host` is.
   */
  allowedHosts?: readonly string[];
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** How long an action request waits for its run to settle before answering 202 (default 150 ms). */
  actionWaitMs?: number;
  /** Serve the inspector at `/` (default true). */
  inspector?: boolean;
  /** Where unexpected errors are reported (default `console`). */
  logger?: ServerContext['logger'];
  /** Interval of SSE keep-alive comments in ms (default 15 s). */
  heartbeatMs?: number;
}

/**
 * The HTTP app for a Weft instance: REST endpoints for workflows and every Run method under
 * `/api`, SSE streams of run events, and the inspector at `/`. Mount it in your own server or
 * pass it to `listen`.
 *
 * @example
 * const weft = new Weft({ workflows: { approval }, storage: new SqliteStorage({ path: 'weft.db' }) });
 * await weft.init();
 * const app = createServer(weft, { token: process.env.WEFT_TOKEN });
 * const res = await app.request('/api/runs');
 */
export function createServer(weft: ServedWeft, options: ServerOptions = {}): Hono {
  checkAuthSettings(options.host, options.token);
  const ctx: ServerContext = {
    weft,
    logger: options.logger ?? console,
    actionWaitMs: options.actionWaitMs ?? 150,
    heartbeatMs: options.heartbeatMs ?? 15_000,
  };
  const maxBytes = options.maxBodyBytes ?? 1024 * 1024;
  const app = new Hono();
  if (options.token === undefined || options.allowedHosts !== undefined) {
    app.use('*', loopbackHostsOnly(options.allowedHosts ?? []));
  }
  app.onError((error, c) => handleError(error, c, (message, e) => ctx.logger.error(message, e)));
  app.notFound((c) =>
    errorResponse(c, 404, { error: { code: 'NOT_FOUND', message: `No route for ${c.req.method} ${c.req.path}` } }),
  );

  const api = new Hono();
  if (options.token !== undefined) api.use('*', requireToken(options.token));
  api.use('*', sameOriginWrites());
  api.use(
    '*',
    bodyLimit({
      maxSize: maxBytes,
      onError: (c) =>
        errorResponse(c, 413, {
          error: { code: 'PAYLOAD_TOO_LARGE', message: `Request body is larger than the limit of ${maxBytes} bytes` },
        }),
    }),
  );
  api.get('/health', (c) => c.json({ ok: true }));
  api.get('/info', (c) =>
    c.json({
      name: 'weft',
      version: packageVersion(),
      storage: weft.storage.kind,
      authRequired: options.token !== undefined,
      loopbackOnly: options.host === undefined || isLoopbackHost(options.host),
      workflows: Object.keys(weft.listWorkflows()).length,
    }),
  );
  api.route('/', workflowRoutes(ctx));
  api.route('/', runRoutes(ctx));
  api.route('/', runActionRoutes(ctx));
  api.route('/', runEventRoutes(ctx));
  api.route('/', statsRoutes(ctx));
  api.route('/', scheduleRoutes(ctx));
  app.route('/api', api);

  if (options.inspector !== false) app.route('/', inspectorRoutes());
  return app;
}
