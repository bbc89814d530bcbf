// A worker process's runner: graphile-worker fetches the jobs of the workflows registered here and runs them on Weft.
import type { Runner, Task, TaskList, Logger as QueueLogger } from 'graphile-worker';
import { Logger, makeWorkerUtils, run } from './graphile-driver.js';
import type { Pool } from 'pg';
import { WeftError } from '../errors.js';
import type { Weft } from '../run/weft.js';
import type { Logger as WeftLogger } from '../workflow/types.js';
import { DEFAULT_QUEUE_SCHEMA, parseJob, taskIdentifier, workflowOfTask } from './job-payload.js';
import { HeldJobs, releaseAbandonedJobs } from './abandoned-jobs.js';
import { QueuePool } from './queue-pool.js';
import { runJob, type WorkerRunReport } from './run-job.js';
import { runServicesOf } from '../run/weft.js';
import { PostgresStorage } from '../storage/postgres/postgres-storage.js';
import { AttemptRunner } from './attempt-runner.js';

/** Options of `runWorker`. */
export interface RunWorkerOptions {
  /**
   * The engine that executes the runs: a `PostgresStorage`, the workflows this worker serves,
   * and recovery on (the default), so it continues the runs of workers that died.
   */
  weft: Weft;
  /** The database of graphile-worker's queue; else `pgPool`. */
  connectionString?: string;
  /**
   * A pool to use instead of `connectionString` (3 clients at least: graphile-worker keeps one for
   * LISTEN); it stays yours. It needs 'error' listeners on the pool and on each client: a `QueuePool`
   * has them. Give the same pool to the worker's `PostgresStorage` (`pool`) and the process holds one
   * pool's connections, plus the storage notifier's LISTEN connection.
   */
  pgPool?: Pool;
  /** The size of the pool made from `connectionString` (default `concurrency + 2`, at least 3). */
  maxConnections?: number;
  /** graphile-worker's schema (default `graphile_worker`); created or migrated at start. */
  schema?: string;
  /** Jobs (runs to start or resume) executed at once by this worker (default 10). */
  concurrency?: number;
  /** How often to look for jobs besides LISTEN/NOTIFY, e.g. retries due (default 2000 ms). */
  pollInterval?: number;
  /** On shutdown, how long runs in flight may finish before their jobs are handed over (default 10,000 ms). */
  shutdownGraceMs?: number;
  /** Called after each job, e.g. to log the runs this worker executed. */
  onRun?: (report: WorkerRunReport) => void;
  /**
   * Fan-out: the foreach items and parallel branches of these workflows' runs executing on this worker
   * are dispatched to every worker that serves the workflow (this one included), instead of executing
   * here only. `true`: every workflow registered. Default: none. See README, "Fan-out across workers".
   */
  fanOut?: boolean | readonly string[];
  /** Dispatched step attempts this worker executes at once, for any run (default `concurrency`). */
  attemptConcurrency?: number;
}

/** A running worker. */
export interface WeftWorker {
  /** Ids of the workflows whose runs this worker executes. */
  readonly workflows: string[];
  /**
   * Stops fetching jobs and waits for the runs in flight, up to `shutdownGraceMs`; runs still
   * executing then keep their leases until this process exits, then another worker continues
   * them. Does not close the Weft instance.
   */
  stop(): Promise<void>;
  /** Resolves when the worker stopped (a job queue that fails is started again, so only `stop()` ends it). */
  readonly promise: Promise<void>;
}

/** graphile-worker's log lines go to Weft's logger; its routine chatter is debug. */
function queueLogger(logger: WeftLogger): QueueLogger {
  return new Logger(() => (level, message) => {
    const text = `graphile-worker: ${message}`;
    if (String(level) === 'error') logger.error(text);
    else if (String(level) === 'warning') logger.warn(text);
    else logger.debug(text);
  });
}

/**
 * The size of a worker's pool: `maxConnections` as given, else `concurrency + 2` (a connection per run
 * in flight, graphile-worker's LISTEN and one for fetching and completing jobs). Fewer than 3 could
 * leave graphile-worker's LISTEN holding the only client.
 */
function queuePoolSize(maxConnections: number | undefined, concurrency: number): number {
  const size = maxConnections ?? concurrency + 2;
  if (!Number.isInteger(size) || size < 3) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Invalid maxConnections ${String(maxConnections)}: a worker needs a whole number of connections, 3 or more (graphile-worker keeps one for LISTEN)`,
    );
  }
  return size;
}

/** How long a queue that shut down by itself waits before it is started again, at first and at most. */
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5_000;

/**
 * Runs a worker: graphile-worker fetches the start and resume jobs of the workflows registered
 * in `weft` (queued by `createWorkflowQueue`), and each is executed on `weft` until its run
 * stops (success, failure, suspension, cancel). Several workers, on one or many machines, share
 * the queue; the engine's compare-and-set claims make each run execute once, and a worker that
 * dies is replaced run by run through lease expiry and recovery, and job by job through
 * `releaseAbandonedJobs` (every lease / 4, when it also renews the locks of the jobs executing here).
 *
 * A lost connection does not stop the worker: graphile-worker shuts its job queue down when it
 * cannot record a job's completion, and the worker then starts a new one at once (runs in flight
 * go on; a job left locked is freed as abandoned once its run stopped).
 *
 * @example
 * const weft = new Weft({ workflows, storage: new PostgresStorage({ connectionString }) });
 * const worker = await runWorker({ weft, connectionString, concurrency: 20 });
 * process.once('SIGTERM', () => void worker.stop());
 */
export async function runWorker(options: RunWorkerOptions): Promise<WeftWorker> {
  const { weft } = options;
  await weft.init();
  const workflows = Object.keys(weft.listWorkflows());
  const fanned = fannedOut(options.fanOut, workflows, weft);
  const concurrency = options.concurrency ?? 10;
  const attemptConcurrency = options.attemptConcurrency ?? concurrency;
  // Checked before anything starts: a refused worker leaves no job queue running.
  if (!Number.isInteger(attemptConcurrency) || attemptConcurrency < 1) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Invalid attemptConcurrency ${String(options.attemptConcurrency)}: expected a whole number, 1 or more`,
    );
  }
  const held = new HeldJobs();
  const task: Task = async (payload, helpers) => {
    const workflowId = workflowOfTask(helpers.job.task_identifier);
    const job = parseJob(payload, helpers.job.id);
    const release = held.hold(helpers.job);
    try {
      const report = await runJob(weft, workflowId, job, helpers.abortSignal);
      options.onRun?.(report);
    } finally {
      release();
    }
  };
  const taskList: TaskList = Object.fromEntries(workflows.map((id) => [taskIdentifier(id), task]));
  const schema = options.schema ?? DEFAULT_QUEUE_SCHEMA;
  const pool =
    options.pgPool ??
    new QueuePool(
      { connectionString: options.connectionString, max: queuePoolSize(options.maxConnections, concurrency) },
      weft.logger,
    );
  const utils = await makeWorkerUtils({ pgPool: pool, schema, logger: queueLogger(weft.logger) });

  const runners = new Set<Runner>();
  let stopping: Promise<void> | undefined;
  let stopRequested = false;
  /** A queue being started again after the last one stopped by itself. */
  let relaunching: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const launch = async (): Promise<void> => {
    const runner = await run({
      pgPool: pool,
      schema,
      concurrency,
      pollInterval: options.pollInterval ?? 2000,
      gracefulShutdownAbortTimeout: options.shutdownGraceMs ?? 10_000,
      noHandleSignals: true,
      taskList,
      parsedCronItems: [],
      logger: queueLogger(weft.logger),
      // Batched (delay 0) so that a graceful stop waits for the last completions to be written.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    if (stopRequested) {
      // Started again while the worker was being stopped: stop this one too.
      await runner.stop().catch(() => undefined);
      return;
    }
    runners.add(runner);
    let replaced = false;
    const replace = (why: string): void => {
      if (replaced || stopRequested) return;
      replaced = true;
      weft.logger.warn(`weft worker: the job queue stopped (${why}); starting it again`);
      relaunching = relaunch();
    };
    runner.events.on('pool:gracefulShutdown', ({ message }) => replace(message));
    runner.promise.then(
      () => {
        runners.delete(runner);
        replace('it exited');
      },
      (error: unknown) => {
        runners.delete(runner);
        replace(String(error));
      },
    );
  };
  const relaunch = async (): Promise<void> => {
    for (let delay = RESTART_DELAY_MS; !stopRequested; delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS)) {
      try {
        await launch();
        return;
      } catch (error) {
        weft.logger.warn(`weft worker: the job queue could not start; trying again in ${delay} ms`, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  await launch();

  const fanOut = startFanOut(weft, workflows, fanned, options, attemptConcurrency);

  const releasing = setInterval(
    () =>
      void releaseAbandonedJobs(weft, pool, { schema, utils, held }, weft.leaseMs).catch((error: unknown) =>
        weft.logger.warn('weft worker: looking for abandoned jobs failed; will retry', error),
      ),
    Math.max(50, Math.floor(weft.leaseMs / 4)),
  );
  releasing.unref();

  const stop = async (): Promise<void> => {
    stopRequested = true;
    clearInterval(releasing);
    const stoppingAttempts = fanOut?.stop(options.shutdownGraceMs ?? 10_000);
    await relaunching;
    await Promise.all([...runners].map((runner) => runner.stop().catch(() => undefined)));
    await stoppingAttempts;
    await utils.release();
    if (!options.pgPool) await pool.end();
    resolveStopped();
  };
  return {
    workflows,
    stop: () => (stopping ??= stop()),
    promise: stopped,
  };
}

/** The workflows whose runs fan out, checked: registered here, on a Postgres storage. */
function fannedOut(fanOut: RunWorkerOptions['fanOut'], workflows: readonly string[], weft: Weft): Set<string> {
  if (fanOut === undefined || fanOut === false) return new Set();
  const ids = fanOut === true ? workflows : fanOut;
  const unknown = ids.filter((id) => !workflows.includes(id));
  if (unknown.length > 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot fan out workflow${unknown.length > 1 ? 's' : ''} ${unknown.map((id) => `"${id}"`).join(', ')}: not registered in this worker's Weft (registered: ${workflows.join(', ') || 'none'})`,
    );
  }
  if (ids.length > 0 && !(weft.storage instanceof PostgresStorage)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `Cannot fan out across workers on "${weft.storage.kind}" storage: the workers share runs through a PostgresStorage`,
    );
  }
  return new Set(ids);
}

/**
 * Starts executing the step attempts dispatched by any worker, for the workflows registered here, and
 * dispatches those of the `fanned` workflows' runs executing here. Undefined without a PostgresStorage.
 */
function startFanOut(
  weft: Weft,
  workflows: readonly string[],
  fanned: ReadonlySet<string>,
  options: RunWorkerOptions,
  attemptConcurrency: number,
): { stop(graceMs: number): Promise<void> } | undefined {
  const { storage } = weft;
  if (!(storage instanceof PostgresStorage)) return undefined;
  const services = runServicesOf(weft);
  const runner = new AttemptRunner({
    weft,
    services,
    attempts: storage.attempts,
    notifier: storage.notifier,
    workflows,
    concurrency: attemptConcurrency,
    pollMs: options.pollInterval ?? 2000,
  });
  for (const id of fanned) services.fanOut.add(id);
  const dispatcher = storage.stepDispatch({ now: services.clock.now, logger: weft.logger });
  dispatcher.localSlots = runner;
  return {
    async stop(graceMs) {
      for (const id of fanned) services.fanOut.delete(id);
      if (dispatcher.localSlots === runner) dispatcher.localSlots = undefined;
      await runner.stop(graceMs);
    },
  };
}
