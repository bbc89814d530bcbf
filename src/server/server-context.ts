// What every route handler shares: the engine instance, the logger and the request-wait setting.
import type { Logger } from '../workflow/types.js';
import type { ServedWeft } from './weft-host.js';

/** Shared by the route modules of one server. */
export interface ServerContext {
  weft: ServedWeft;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** How long an action request waits for its run to settle before answering 202. */
  actionWaitMs: number;
  /** Interval of SSE keep-alive comments. */
  heartbeatMs: number;
}
