// A lost Postgres connection (terminated backend, restarting or unreachable server) told from other
// driver errors, and statements tried again on a new connection while the server comes back.
import { WeftError } from '../../errors.js';

/** SQLSTATEs and socket errors that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** pg's own messages for a connection that ended under a client or a query. */
const CONNECTION_MESSAGES =
  /Connection terminated|encountered a connection error and is not queryable|timeout exceeded when trying to connect/;

/** How long a statement is tried again after its connection was lost, before the loss is reported. */
export const RECONNECT_WINDOW_MS = 15_000;
const FIRST_DELAY_MS = 25;
const MAX_DELAY_MS = 1_000;

/** True when `error` says the connection was lost or could not be opened, so a new one may succeed. */
export function isConnectionLoss(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || WeftError.is(error)) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/**
 * Calls `attempt` until it settles with something other than a lost connection, waiting 25 ms,
 * then twice as long each time (at most a second), for up to `windowMs`. `attempt` is told whether
 * an earlier attempt was lost: a write must then find out whether that one committed before the
 * connection went (see the callers), since a lost connection does not say.
 */
export async function withReconnects<T>(
  attempt: (retried: boolean) => Promise<T>,
  windowMs: number = RECONNECT_WINDOW_MS,
): Promise<T> {
  const deadline = Date.now() + windowMs;
  let delay = FIRST_DELAY_MS;
  for (let retried = false; ; retried = true) {
    try {
      return await attempt(retried);
    } catch (error) {
      if (!isConnectionLoss(error) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
