// A worker process's runner: graphile-worker fetches the jobs of the workflows registered here and runs them on Weft.
import { Logger, run, type Runner, type Task, type TaskList } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Weft } from '../run/weft.js';
import type { Logger as WeftLogger } from '../workflow/types.js';
import { DEFAULT_QUEUE_SCHEMA, parseJob, taskIdentifier, workflowOfTask } from './job-payload.js';
import { runJob, type WorkerRunReport } from './run-job.js';

/** Options of `runWorker`. */
export interface RunWorkerOptions {
  /**
   * The engine that executes the runs: a `PostgresStorage`, the workflows this worker serves,
   * and recovery on (the default), so it continues the runs of workers that died.
   */
  weft: Weft;
  /** The database of graphile-worker's queue; else `pgPool`. */
  connectionString?: string;
  /** A pool to use instead of `connectionString` (at least `concurrency + 2` clients); it stays yours. */
  pgPool?: Pool;
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
  /** Settles when the worker stopped (rejects if it failed). */
  readonly promise: Promise<void>;
}

/** graphile-worker's log lines go to Weft's logger; its routine chatter is debug. */
function queueLogger(logger: WeftLogger): Logger {
  return new Logger(() => (level, message) => {
    const text = `graphile-worker: ${message}`;
    if (String(level) === 'error') logger.error(text);
    else if (String(level) === 'warning') logger.warn(text);
    else logger.debug(text);
  });
}

/**
 * Runs a worker: graphile-worker fetches the start and resume jobs of the workflows registered
 * in `weft` (queued by `createWorkflowQueue`), and each is executed on `weft` until its run
 * stops (success, failure, suspension, cancel). Several workers, on one or many machines, share
 * the queue; the engine's compare-and-set claims make each run execute once, and a worker that
 * dies is replaced run by run through lease expiry and recovery.
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
  const task: Task = async (payload, helpers) => {
    const workflowId = workflowOfTask(helpers.job.task_identifier);
    const job = parseJob(payload, helpers.job.id);
    const report = await runJob(weft, workflowId, job, helpers.abortSignal);
    options.onRun?.(report);
  };
  const taskList: TaskList = Object.fromEntries(workflows.map((id) => [taskIdentifier(id), task]));
  const concurrency = options.concurrency ?? 10;
  const runner: Runner = await run({
    ...(options.pgPool ? { pgPool: options.pgPool } : { connectionString: options.connectionString }),
    schema: options.schema ?? DEFAULT_QUEUE_SCHEMA,
    concurrency,
    maxPoolSize: concurrency + 2,
    pollInterval: options.pollInterval ?? 2000,
    gracefulShutdownAbortTimeout: options.shutdownGraceMs ?? 10_000,
    noHandleSignals: true,
    taskList,
    parsedCronItems: [],
    logger: queueLogger(weft.logger),
    // Batched (delay 0) so that a graceful stop waits for the last completions to be written.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  let stopping: Promise<void> | undefined;
  return {
    workflows,
    stop: () => (stopping ??= runner.stop()),
    promise: runner.promise,
  };
}
