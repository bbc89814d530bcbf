// Enqueuing runs for workers: the run row is stored at once, the start or resume goes on graphile-worker's queue.
import type { WorkerUtils } from 'graphile-worker';
import { makeWorkerUtils } from './graphile-driver.js';
import type { Pool } from 'pg';
import { WeftError } from '../errors.js';
import { checkRunId, newRunId } from '../run/run-id.js';
import { storeRun } from '../run/store-run.js';
import type { Weft } from '../run/weft.js';
import { formatIssues, validate, type Schema } from '../schema/validate.js';
import { JobAdds } from './job-adds.js';
import { DEFAULT_QUEUE_SCHEMA, type ResumeJob, type StartJob, type WeftJob } from './job-payload.js';

/** Options of `createWorkflowQueue`. */
export interface WorkflowQueueOptions {
  /** The engine whose storage (a `PostgresStorage`) holds the runs, with the workflows registered. */
  weft: Weft;
  /**
   * The database of graphile-worker's queue; else `pgPool`; with neither, the queue shares the pool of
   * the engine's `PostgresStorage` (no connections of its own).
   */
  connectionString?: string;
  /** A pool to use instead of `connectionString`; it stays yours: `close()` does not end it. */
  pgPool?: Pool;
  /** graphile-worker's schema (default `graphile_worker`); workers must use the same. */
  schema?: string;
}

/** Where the queue's connections come from: the pool given, the connection string, else the storage's pool. */
function queueConnection(options: WorkflowQueueOptions): { pgPool: Pool } | { connectionString: string } {
  if (options.pgPool) return { pgPool: options.pgPool };
  if (options.connectionString !== undefined) return { connectionString: options.connectionString };
  const storagePool = (options.weft.storage as { pool?: Pool }).pool;
  if (options.weft.storage.kind === 'postgres' && typeof storagePool?.connect === 'function') {
    return { pgPool: storagePool };
  }
  throw new WeftError(
    'INVALID_ARGUMENT',
    `createWorkflowQueue needs a connectionString or a pgPool: the engine's storage is "${options.weft.storage.kind}", not a PostgresStorage whose pool the queue could share`,
  );
}

/** What `enqueueStart` takes. */
export interface EnqueueStartArgs {
  inputData?: unknown;
  initialState?: Record<string, unknown>;
  resourceId?: string;
  /** An id of your own: enqueuing the same start twice is then a no-op. Default: a random UUID. */
  runId?: string;
  /** Request context values for the run (JSON), as `run.start` takes them. */
  requestContext?: Record<string, unknown>;
  /** Run one step, then pause, as `run.start({ perStep: true })`. */
  perStep?: boolean;
}

/** What `enqueueResume` takes: as `run.resume`, with `step` as an id, a dotted id or a path. */
export interface EnqueueResumeArgs {
  resumeData?: unknown;
  step?: string | string[];
  label?: string;
  forEachIndex?: number;
  /** Request context values for the resume (JSON), merged over the run's as `run.resume` does. */
  requestContext?: Record<string, unknown>;
  /** Run one step, then pause. */
  perStep?: boolean;
}

/** Starts and resumes runs on the workers that serve their workflows. */
export interface WorkflowQueue {
  /**
   * Stores the run (status `pending`, listed by `listRuns` at once) and queues its start. A
   * run that exists and is no longer pending, or a start already queued, is left as it is.
   */
  enqueueStart(workflowId: string, args?: EnqueueStartArgs): Promise<{ runId: string }>;
  /**
   * Queues a resume of the run's current suspension. Refused unless the run is suspended now;
   * once the run was resumed (by this job or another caller), the job does nothing.
   */
  enqueueResume(runId: string, args?: EnqueueResumeArgs): Promise<{ runId: string }>;
  /** Releases the queue's connections. */
  close(): Promise<void>;
}

async function check(schema: Schema | undefined, value: unknown, fail: (lines: string) => WeftError): Promise<void> {
  if (!schema) return;
  const result = await validate(schema, value);
  if (!result.ok) throw fail(formatIssues(result.issues));
}

/**
 * A queue of run starts and resumes for `runWorker` processes, on graphile-worker.
 *
 * @example
 * const weft = new Weft({ workflows, storage: new PostgresStorage({ connectionString }), recovery: false });
 * const queue = createWorkflowQueue({ weft, connectionString });
 * const { runId } = await queue.enqueueStart('order', { inputData: { sku: 'A1' } });
 */
export function createWorkflowQueue(options: WorkflowQueueOptions): WorkflowQueue {
  const { weft } = options;
  let utils: Promise<WorkerUtils> | undefined;

  const open = (): Promise<WorkerUtils> => {
    utils ??= (async () => {
      const made = await makeWorkerUtils({
        schema: options.schema ?? DEFAULT_QUEUE_SCHEMA,
        ...queueConnection(options),
      });
      await made.migrate();
      return made;
    })();
    // A queue that could not be opened (the database was unreachable) is opened again by the next call.
    const opening = utils;
    opening.catch(() => {
      if (utils === opening) utils = undefined;
    });
    return opening;
  };

  // The jobs of enqueues issued together go in together; a run stored without its job would stay pending.
  const jobs = new JobAdds(options.schema ?? DEFAULT_QUEUE_SCHEMA, open);
  const add = (workflowId: string, job: WeftJob): Promise<void> => jobs.add(workflowId, job);

  return {
    async enqueueStart(workflowId, args = {}) {
      const workflow = weft.getWorkflow(workflowId);
      const graph = workflow.graph;
      await check(
        graph.inputSchema,
        args.inputData,
        (lines) => new WeftError('INVALID_INPUT', `Invalid input data: ${lines}`, { workflowId: workflow.id }),
      );
      await check(
        graph.stateSchema,
        args.initialState ?? {},
        (lines) =>
          new WeftError('INVALID_INITIAL_STATE', `Invalid initial data: ${lines}`, { workflowId: workflow.id }),
      );
      await check(
        graph.requestContextSchema,
        args.requestContext ?? {},
        (lines) =>
          new WeftError(
            'INVALID_REQUEST_CONTEXT',
            `Request context validation failed for workflow '${workflow.id}': ${lines}`,
            { workflowId: workflow.id },
          ),
      );
      if (args.runId !== undefined) checkRunId(args.runId);
      await weft.init();
      // The insert answers with the stored row (the existing one for an id in use): no read after it.
      const row = await storeRun(weft, workflow, args.runId ?? newRunId(), args.resourceId);
      if (row.status !== 'pending') return { runId: row.runId };
      const job: StartJob = {
        action: 'start',
        runId: row.runId,
        ...(args.inputData !== undefined ? { inputData: args.inputData } : {}),
        ...(args.initialState !== undefined ? { initialState: args.initialState } : {}),
        ...(args.requestContext !== undefined ? { requestContext: args.requestContext } : {}),
        ...(args.perStep ? { perStep: true } : {}),
      };
      await add(workflow.id, job);
      return { runId: row.runId };
    },

    async enqueueResume(runId, args = {}) {
      await weft.init();
      const row = await weft.storage.getRun(runId);
      if (!row)
        throw new WeftError('RUN_NOT_FOUND', `Cannot enqueue a resume of run "${runId}": no such run in storage`, {
          runId,
        });
      if (row.status !== 'suspended') {
        throw new WeftError(
          'RUN_NOT_SUSPENDED',
          `Cannot enqueue a resume of run "${runId}": its status is "${row.status}", expected "suspended"`,
          { runId, workflowId: row.workflowId, actualStatus: row.status },
        );
      }
      const job: ResumeJob = {
        action: 'resume',
        runId,
        epoch: row.epoch,
        ...(args.resumeData !== undefined ? { resumeData: args.resumeData } : {}),
        ...(args.step !== undefined ? { step: args.step } : {}),
        ...(args.label !== undefined ? { label: args.label } : {}),
        ...(args.forEachIndex !== undefined ? { forEachIndex: args.forEachIndex } : {}),
        ...(args.requestContext !== undefined ? { requestContext: args.requestContext } : {}),
        ...(args.perStep ? { perStep: true } : {}),
      };
      await add(row.workflowId, job);
      return { runId };
    },

    async close() {
      const opened = utils;
      utils = undefined;
      if (opened) await (await opened.catch(() => undefined))?.release();
    },
  };
}
