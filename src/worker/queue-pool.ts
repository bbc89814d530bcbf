// The Postgres pool a worker hands to graphile-worker: connection losses logged, not thrown, and a
// client released twice tolerated.
import pg from '../storage/postgres/pg-driver.js';
import type { PoolClient, PoolConfig } from 'pg';
import type { Logger as WeftLogger } from '../workflow/types.js';

type ConnectCallback = (
  error: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * A pg pool for graphile-worker. Every client listens for errors from the moment it exists (a lost
 * connection is logged at debug level; pg then fails the statement in flight, which graphile-worker
 * sees). And releasing a client twice is ignored: graphile-worker 0.17 can release its LISTEN
 * client twice when that connection is lost while its pool shuts down, and pg-pool throws on the
 * second call from a promise nobody awaits, which ends the process.
 */
export class QueuePool extends pg.Pool {
  constructor(config: PoolConfig, logger: WeftLogger) {
    super(config);
    const lost = (error: Error): void => logger.debug(`weft worker: a queue connection was lost: ${error.message}`);
    this.on('error', lost);
    this.on('connect', (client) => client.on('error', lost));
  }

  override connect(): Promise<PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    if (!callback) {
      return new Promise((resolve, reject) =>
        this.connect((error, client) => (error || !client ? reject(error) : resolve(client))),
      );
    }
    super.connect((error, client, done) => {
      if (error || !client) {
        callback(error, client, done);
        return;
      }
      let released = false;
      const releaseOnce = (release?: unknown): void => {
        if (released) return;
        released = true;
        done(release as Error | boolean | undefined);
      };
      client.release = releaseOnce;
      callback(undefined, client, releaseOnce);
    });
  }
}
