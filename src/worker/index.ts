// The `weft/worker` entry point: distributed execution on Postgres with graphile-worker as the job queue.
export { createWorkflowQueue } from './workflow-queue.js';
export type { EnqueueResumeArgs, EnqueueStartArgs, WorkflowQueue, WorkflowQueueOptions } from './workflow-queue.js';
export { runWorker } from './run-worker.js';
export { QueuePool } from './queue-pool.js';
export type { RunWorkerOptions, WeftWorker } from './run-worker.js';
export type { WorkerRunReport } from './run-job.js';
